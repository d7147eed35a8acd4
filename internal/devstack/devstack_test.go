package devstack_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/devstack"
	"github.com/evidencevault/vault/internal/testenv"
)

// run starts the local stack in dir and waits for its env file.
func run(t *testing.T, dir string) (env map[string]string, stop func() error) {
	t.Helper()
	env, out, stop := testenv.LocalStack(t, dir)
	if !strings.Contains(out.String(), "Evidence Vault is running") || !strings.Contains(out.String(), "curl") {
		t.Errorf("banner lacks the walkthrough:\n%s", out.String())
	}
	return env, stop
}

func TestLocalStackWalkthrough(t *testing.T) {
	dir := t.TempDir()
	env, stop := run(t, dir)
	for _, k := range []string{"VAULT_URL", "VAULT_UPLOADER_TOKEN", "VAULT_AUDITOR_TOKEN", "VAULT_OTHER_TOKEN"} {
		if env[k] == "" {
			t.Errorf(".local/env lacks %s", k)
		}
	}

	// The printed walkthrough, run as a user would paste it into bash.
	walkthrough, err := os.ReadFile("walkthrough.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", string(walkthrough))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("walkthrough failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		"PUT to storage: 200",
		`"version": 1`,
		"OK: downloaded bytes match the receipt's SHA-256",
		"OK: receipt verified",
		"other tenant reading the dossier: 404",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("walkthrough output lacks %q:\n%s", want, out)
		}
	}

	// Ctrl-C: everything stops, the tokens' file goes, the data stays.
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".local", "env")); !os.IsNotExist(err) {
		t.Errorf(".local/env left behind after stop: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(env["VAULT_S3_ENDPOINT"], "http://"), time.Second); err == nil {
		conn.Close()
		t.Error("MinIO still listening after stop")
	}

	// A second run keeps the data: the walkthrough's second pass makes
	// version 2 of the same document, superseding version 1.
	_, _ = run(t, dir)
	cmd = exec.Command("bash", "-c", string(walkthrough))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	out, err = cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("second walkthrough: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"version": 2`) || !strings.Contains(string(out), `"status": 409`) {
		t.Errorf("second run did not find the first run's data:\n%s", out)
	}
}

func TestPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = devstack.Run(context.Background(), devstack.Options{Dir: t.TempDir(), Addr: l.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), "VAULT_ADDR") {
		t.Errorf("got %v, want an error suggesting VAULT_ADDR", err)
	}
}
