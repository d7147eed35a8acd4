package main_test

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/evault"
	"github.com/evidencevault/vault/internal/testenv"
)

// TestCtrlCResumes runs the built binary, interrupts a large upload with
// SIGINT as Ctrl-C would, and runs the same command again.
func TestCtrlCResumes(t *testing.T) {
	dir := t.TempDir()
	testenv.LocalStack(t, dir)
	bin := filepath.Join(t.TempDir(), "evault")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	file := filepath.Join(t.TempDir(), "recording.zip")
	f, _ := os.Create(file)
	io.CopyN(f, rand.NewChaCha8([32]byte{2}), 400<<20)
	f.Close()
	created := exec.Command(bin, "dossier", "create", "--json", "--name", "Usability study", "--basic-udi-di", "12345ANJ", "--risk-class", "IIa", "--notified-body", "0197")
	created.Dir = dir
	created.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir())
	created.Stderr = os.Stderr
	out, err := created.Output()
	if err != nil {
		t.Fatalf("dossier create: %v", err)
	}
	var d struct{ ID string }
	json.Unmarshal(out, &d)
	state := filepath.Join(t.TempDir(), "state")
	// evault's own configuration (pins, sign-ins) in a folder of the
	// test's, not the user's: every local stack's log has the same name.
	config := t.TempDir()
	upload := func() *exec.Cmd {
		cmd := exec.Command(bin, "upload", file, "--dossier", d.ID, "--path", "usability/session-1.zip", "--title", "Usability session 1",
			"--kind", "test-report", "--section", "MDR-II-6.1", "--revision", "1", "--author", "UX", "--part-size", "5242880",
			"--parallel", "1", "--state-dir", state, "--json")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+config, "HOME="+config)
		return cmd
	}
	first := upload()
	var stderr strings.Builder
	first.Stderr = &stderr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once the upload is recorded and under way.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m, _ := filepath.Glob(filepath.Join(state, "*.json")); len(m) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no upload state recorded")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	first.Process.Signal(syscall.SIGINT)
	err = first.Wait()
	if code := first.ProcessState.ExitCode(); code != evault.ExitInterrupted || !strings.Contains(stderr.String(), "resume") {
		t.Fatalf("after SIGINT: got exit %d (%v), want %d:\n%s", code, err, evault.ExitInterrupted, stderr.String())
	}
	again := upload()
	stderr.Reset()
	again.Stderr = &stderr
	out, err = again.Output()
	if err != nil {
		t.Fatalf("resumed upload: %v\n%s", err, stderr.String())
	}
	var res struct {
		Uploads []struct {
			Resumed          bool
			Parts, PartsSent int
		}
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Uploads) != 1 {
		t.Fatalf("got %s", out)
	}
	u := res.Uploads[0]
	if !u.Resumed || u.Parts != 80 || u.PartsSent >= u.Parts {
		t.Errorf("got %+v, want a resumed upload of 80 parts sending fewer than all", u)
	}
	t.Logf("resumed: %d of %d parts sent after Ctrl-C", u.PartsSent, u.Parts)
}
