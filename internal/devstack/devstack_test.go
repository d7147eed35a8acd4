package devstack_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/devstack"
	"github.com/evidencevault/vault/internal/minioserver"
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
	for _, k := range []string{"VAULT_URL", "VAULT_OIDC_ISSUER", "VAULT_UPLOADER_TOKEN", "VAULT_ADMIN_TOKEN", "VAULT_AUDITOR_TOKEN", "VAULT_OTHER_TOKEN", "VAULT_TENANT"} {
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
		`"status": "active"`,
		`"who": "auditor@nb0197.example"`,
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

// TestLocalStackCORS: with allowed origins, a browser page of one may call
// the API and send the presigned PUT to MinIO; another origin may do
// neither.
func TestLocalStackCORS(t *testing.T) {
	const portal = "https://portal.example.com"
	env, _, stop := testenv.LocalStack(t, t.TempDir(), portal)
	defer stop()
	call := func(method, url, token string, body any) *http.Response {
		t.Helper()
		var rd io.Reader
		if body != nil {
			data, _ := json.Marshal(body)
			rd = bytes.NewReader(data)
		}
		req, _ := http.NewRequest(method, url, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	preflight := func(url, origin, method string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("OPTIONS", url, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", method)
		req.Header.Set("Access-Control-Request-Headers", "content-type,x-amz-checksum-sha256,x-amz-meta-upload-id")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	tok := env["VAULT_UPLOADER_TOKEN"]
	resp := call("POST", env["VAULT_URL"]+"/v1/dossiers", tok, map[string]any{"name": "CardioScan AI", "basicUdiDi": "1987654Ad4X4bL5ttr2310c2K",
		"regulation": "MDR", "riskClass": "IIa", "implantable": false, "highRiskAi": true, "notifiedBody": "0197"})
	var d struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	content := []byte("report\n")
	sum := sha256.Sum256(content)
	resp = call("POST", env["VAULT_URL"]+"/v1/dossiers/"+d.ID+"/uploads", tok, map[string]any{
		"path": "report.txt", "title": "Report", "kind": "test-report", "section": "MDR-II-6.1", "revision": "A", "language": "en",
		"effectiveDate": "2026-11-02", "author": "QA",
		"file": map[string]any{"name": "report.txt", "size": len(content), "sha256": hex.EncodeToString(sum[:]), "contentType": "text/plain"}})
	var tk struct{ Upload struct{ URL string } }
	json.NewDecoder(resp.Body).Decode(&tk)
	resp.Body.Close()
	if tk.Upload.URL == "" {
		t.Fatalf("no presigned PUT: %d", resp.StatusCode)
	}
	for _, tt := range []struct {
		name, url, method string
	}{{"the API", env["VAULT_URL"] + "/v1/dossiers", "POST"}, {"the presigned PUT", tk.Upload.URL, "PUT"}} {
		if r := preflight(tt.url, portal, tt.method); r.Header.Get("Access-Control-Allow-Origin") != portal {
			t.Errorf("%s: preflight from %s: got %d, Access-Control-Allow-Origin %q", tt.name, portal, r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
		}
		if r := preflight(tt.url, "https://evil.example", tt.method); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: preflight from another origin allowed: %q", tt.name, r.Header.Get("Access-Control-Allow-Origin"))
		}
	}
}

// TestLocalStackRestartsMinIO: MinIO killed under the running stack comes
// back on its port over the same data, and the stack goes on serving: the
// walkthrough run again makes version 2 of its document.
func TestLocalStackRestartsMinIO(t *testing.T) {
	dir := t.TempDir()
	env, stop := run(t, dir)
	defer stop()
	walkthrough, err := os.ReadFile("walkthrough.sh")
	if err != nil {
		t.Fatal(err)
	}
	walk := func() string {
		cmd := exec.Command("bash", "-c", string(walkthrough))
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("walkthrough failed: %v\n%s", err, out)
		}
		return string(out)
	}
	walk()
	addr := strings.TrimPrefix(env["VAULT_S3_ENDPOINT"], "http://")
	pid := listener(t, addr)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if p, ok := findListener(addr); ok && p != pid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("MinIO did not come back within a minute")
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("MinIO %d killed; back as another process", pid)
	if out := walk(); !strings.Contains(out, `"version": 2`) {
		t.Errorf("after MinIO's restart the walkthrough did not make version 2:\n%s", out)
	}
}

// listener returns the process serving MinIO at addr (its --address).
func listener(t *testing.T, addr string) int {
	t.Helper()
	pid, ok := findListener(addr)
	if !ok {
		t.Fatalf("no MinIO process with --address %s", addr)
	}
	return pid
}

// findListener returns the MinIO with --address addr, once it answers.
func findListener(addr string) (int, bool) {
	pid, ok := minioserver.Running(addr)
	if !ok {
		return 0, false
	}
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0, false
	}
	conn.Close()
	return pid, true
}
