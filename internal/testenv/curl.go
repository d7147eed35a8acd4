package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// CurlResult is what curl saw.
type CurlResult struct {
	Status int
	Body   []byte
}

// Curl makes one request with the curl command line tool, the way a client
// outside Go would use a presigned URL: the body from a file, the headers as
// given. It fails the test if curl is missing or cannot connect.
func Curl(t testing.TB, method, url string, headers map[string]string, body []byte) CurlResult {
	t.Helper()
	bin, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("testenv: curl is required to test presigned URLs with a real HTTP client: ", err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	args := []string{"--silent", "--show-error", "--globoff", "--max-time", "120", "--request", method, "--output", out, "--write-out", "%{http_code}"}
	names := make([]string, 0, len(headers))
	for k := range headers {
		// curl sets Content-Length from the body, as any HTTP client does;
		// a hand-set one that disagrees with the body would hang the request.
		if !strings.EqualFold(k, "Content-Length") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		args = append(args, "--header", k+": "+headers[k])
	}
	if body != nil {
		in := filepath.Join(dir, "in")
		if err := os.WriteFile(in, body, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--data-binary", "@"+in)
	}
	args = append(args, url)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	code, err := cmd.Output()
	if err != nil {
		t.Fatalf("testenv: curl %s %s: %v: %s", method, url, err, stderr.String())
	}
	status, err := strconv.Atoi(strings.TrimSpace(string(code)))
	if err != nil {
		t.Fatalf("testenv: curl wrote status %q", code)
	}
	got, _ := os.ReadFile(out)
	return CurlResult{Status: status, Body: got}
}
