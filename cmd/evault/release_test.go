package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestRelease: make release's script cross-builds evault with the version
// stamped in and a SHA256SUMS that checks; here for this machine and one
// foreign target (all six take minutes; the script is the same).
func TestRelease(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Fatal("sha256sum (coreutils) is needed to check SHA256SUMS")
	}
	out := t.TempDir()
	cmd := exec.Command("../../scripts/release.sh", out)
	cmd.Env = append(os.Environ(), "VERSION=v0.0.0-test", "TARGETS="+runtime.GOOS+"/"+runtime.GOARCH+" windows/arm64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("release: %v\n%s", err, b)
	}
	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"evault-v0.0.0-test-" + runtime.GOOS + "-" + runtime.GOARCH, "evault-v0.0.0-test-windows-arm64.exe"} {
		if !strings.Contains(string(sums), "  "+name+"\n") {
			t.Errorf("SHA256SUMS lacks %s:\n%s", name, sums)
		}
	}
	got, err := exec.Command(filepath.Join(out, "evault-v0.0.0-test-"+runtime.GOOS+"-"+runtime.GOARCH), "--version").Output()
	if err != nil || !strings.HasPrefix(string(got), "evault v0.0.0-test (commit ") {
		t.Errorf("--version of the release build: %q, %v", got, err)
	}
}
