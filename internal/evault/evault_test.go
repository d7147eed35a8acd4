package evault_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/devtsa"
	"github.com/evidencevault/vault/internal/devwitness"
	"github.com/evidencevault/vault/internal/evault"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
	"golang.org/x/mod/sumdb/tlog"
)

// stack is the local stack the CLI runs against, as `make run` starts it.
type stack struct {
	dir  string
	env  map[string]string
	http *http.Client
	// config is the user's configuration directory: known_vaults.json.
	config string
}

// run runs evault with args in the stack's directory, so that it finds
// .local/env as a user's shell would.
func (s *stack) run(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &evault.Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, HTTP: s.http, Dir: s.dir, ConfigDir: s.config}
	code = m.Run(ctx, args)
	return code, out.String(), errb.String()
}

// must runs evault and fails the test unless it exits 0.
func (s *stack) must(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := s.run(t, context.Background(), args...)
	if code != 0 {
		t.Fatalf("evault %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// tamper flips a byte of every download from storage while on.
type tamper struct {
	on      atomic.Bool
	storage string
}

func (tp *tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || !tp.on.Load() || r.Method != "GET" || !strings.HasPrefix(r.URL.String(), tp.storage) || resp.StatusCode != 200 {
		return resp, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	data[len(data)/2] ^= 0x01
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp, nil
}

func write(t *testing.T, path, body string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func decode[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	return v
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil))
}

// TestUsage: the version, and usage errors exit 2 without calling a vault.
func TestUsage(t *testing.T) {
	s := &stack{dir: t.TempDir(), env: map[string]string{}, http: http.DefaultClient, config: t.TempDir()}
	if code, out, _ := s.run(t, context.Background(), "--version"); code != evault.ExitOK || !strings.HasPrefix(out, "evault ") {
		t.Errorf("--version: exit %d, printed %q", code, out)
	}
	// A vault that must not be called.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a usage error called the vault: %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	vault := []string{"--api", srv.URL, "--token", "t"}
	for _, args := range [][]string{{"dossier", "bogus"}, {"log", "bogus"}, {"bogus"}, {"ls", "--no-such-flag"}, {"get"},
		append([]string{"get", "a.txt", "--dossier", "dos_x", "--version", "-1"}, vault...),
		append([]string{"get", "a.txt", "--dossier", "dos_x", "--version", "0"}, vault...)} {
		if code, _, errOut := s.run(t, context.Background(), args...); code != evault.ExitUsage {
			t.Errorf("evault %s: got exit %d, want %d (usage)\n%s", strings.Join(args, " "), code, evault.ExitUsage, errOut)
		}
	}
}

// TestInterruptedWhileRetrying: Ctrl-C while evault waits to retry a 503
// exits 130, as every interrupted command does, not as the 503 would.
func TestInterruptedWhileRetrying(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"type":"https://evidencevault.dev/problems/storage-unavailable","title":"Storage is unavailable","status":503}`))
	}))
	defer srv.Close()
	s := &stack{dir: t.TempDir(), env: map[string]string{}, http: http.DefaultClient, config: t.TempDir()}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	code, _, errOut := s.run(t, ctx, "--api", srv.URL, "--token", "t", "keys")
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Ctrl-C during a retry's wait: took %s", took)
	}
	if code != evault.ExitInterrupted {
		t.Errorf("Ctrl-C during a retry's wait: got exit %d, want %d\n%s", code, evault.ExitInterrupted, errOut)
	}
}

// TestCLI runs every command against one local stack on real MinIO.
func TestCLI(t *testing.T) {
	dir := t.TempDir()
	env, _, _ := testenv.LocalStack(t, dir)
	tp := &tamper{storage: env["VAULT_S3_ENDPOINT"]}
	s := &stack{dir: dir, env: env, http: &http.Client{Transport: tp}, config: t.TempDir()}
	work := t.TempDir()

	created := decode[struct{ ID string }](t, s.must(t, "dossier", "create", "--json", "--name", "Pulse oximeter AI",
		"--basic-udi-di", "1987654Ad4X4bL5ttr2310c2K", "--risk-class", "IIb", "--high-risk-ai", "--notified-body", "0197"))
	dossier := created.ID
	if !strings.HasPrefix(dossier, "dos_") {
		t.Fatalf("got dossier id %q", dossier)
	}
	if out := s.must(t, "dossier", "list"); !strings.Contains(out, dossier) || !strings.Contains(out, "Pulse oximeter AI") {
		t.Errorf("dossier list lacks the dossier:\n%s", out)
	}
	grants(t, s, dossier)

	meta := []string{"--dossier", dossier, "--kind", "test-report", "--section", "MDR-II-6.1", "--revision", "A",
		"--author", "QA", "--standard", "IEC 62304:2006+A1:2015"}
	report := write(t, filepath.Join(work, "sv.txt"), "software validation, revision A\n")
	// The first upload's receipt is verified against the log, pinned now.
	code, out, errOut := s.run(t, context.Background(), append([]string{"upload", report, "--path", "test-reports/sv.txt", "--title", "Software validation"}, meta...)...)
	if code != 0 || !strings.Contains(out, "sealed test-reports/sv.txt version 1") || !strings.Contains(errOut, "first use of log") {
		t.Errorf("upload: exit %d, printed:\n%s%s", code, out, errOut)
	}
	write(t, report, "software validation, revision B\n")
	out = s.must(t, append([]string{"upload", report, "--path", "test-reports/sv.txt", "--title", "Software validation", "--json"}, meta...)...)
	up := decode[struct {
		Uploads []struct {
			Version   int
			SHA256    string
			ReceiptID string
		}
	}](t, out)
	if len(up.Uploads) != 1 || up.Uploads[0].Version != 2 || up.Uploads[0].SHA256 != fileSHA(t, report) {
		t.Errorf("second upload: got %+v, want version 2 with the file's SHA-256", up)
	}
	// The same file again, as a user re-running the command would: no new
	// version, unless asked for.
	out = s.must(t, append([]string{"upload", report, "--path", "test-reports/sv.txt", "--title", "Software validation"}, meta...)...)
	if !strings.Contains(out, "unchanged test-reports/sv.txt: version 2") {
		t.Errorf("re-upload of an unchanged file printed:\n%s", out)
	}
	if out := s.must(t, "versions", "test-reports/sv.txt", "--dossier", dossier); strings.Contains(out, "\n3 ") || strings.Contains(out, "version 3") {
		t.Errorf("an unchanged re-upload sealed a version:\n%s", out)
	}

	t.Run("manifest", func(t *testing.T) {
		folder := filepath.Join(work, "evidence")
		write(t, filepath.Join(folder, "clinical/cer.txt"), "clinical evaluation report\n")
		write(t, filepath.Join(folder, "risk/rmf.csv"), "hazard,risk\nhypoxia,low\n")
		write(t, filepath.Join(folder, "evidence.yaml"), `
defaults:
  revision: "1"
  language: en
  author: Clinical affairs
  effectiveDate: 2026-11-01
files:
  - file: clinical/cer.txt
    title: Clinical evaluation report
    kind: clinical-evidence
    section: MDR-II-6.1
  - file: risk/rmf.csv
    path: risk/risk-management-file.csv
    title: Risk management file
    kind: risk-management
    section: MDR-II-5
`)
		code, out, errOut := s.run(t, context.Background(), "upload", folder, "--dossier", dossier, "--json")
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		got := decode[struct{ Uploads []struct{ Path string } }](t, out)
		if len(got.Uploads) != 2 || got.Uploads[1].Path != "risk/risk-management-file.csv" {
			t.Errorf("got %+v", got)
		}
	})

	t.Run("invalid metadata refused before sending", func(t *testing.T) {
		folder := filepath.Join(work, "bad")
		write(t, filepath.Join(folder, "a.txt"), "a\n")
		write(t, filepath.Join(folder, "b.txt"), "b\n")
		write(t, filepath.Join(folder, "evidence.yaml"), `
files:
  - file: a.txt
    title: A
    kind: test-report
    section: MDR-II-6.1
    revision: A
    language: en
    effectiveDate: "2026-11-01"
    author: QA
  - file: b.txt
    title: B
    kind: lab-notes
    section: MDR-II-6.1
    revision: A
    language: english
    effectiveDate: "2026-13-01"
    author: QA
  - file: missing.txt
    title: C
    colour: blue
`)
		code, _, errOut := s.run(t, context.Background(), "upload", folder, "--dossier", dossier)
		if code != evault.ExitInvalid {
			t.Errorf("got exit %d, want %d", code, evault.ExitInvalid)
		}
		for _, want := range []string{"b.txt:\n", "/kind:", "/language:", "/effectiveDate:", "missing.txt:\n", "/colour: is not a document field", "2 of 3 files have invalid metadata; nothing was sent"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
		if out := s.must(t, "ls", "--dossier", dossier); strings.Contains(out, "a.txt") {
			t.Errorf("a.txt was sent although another file was invalid:\n%s", out)
		}
	})

	t.Run("ls and versions", func(t *testing.T) {
		out := s.must(t, "ls", "--dossier", dossier)
		for _, want := range []string{"test-reports/sv.txt", "clinical/cer.txt", "risk/risk-management-file.csv"} {
			if !strings.Contains(out, want) {
				t.Errorf("ls lacks %s:\n%s", want, out)
			}
		}
		vs := decode[struct{ Versions []struct{ Version int } }](t, s.must(t, "versions", "test-reports/sv.txt", "--dossier", dossier, "--json"))
		if len(vs.Versions) != 2 || vs.Versions[0].Version != 1 {
			t.Errorf("got versions %+v, want 1 and 2", vs)
		}
	})

	keyDir := filepath.Join(work, "keys")
	s.must(t, "keys", "--out", keyDir)
	keys, _ := filepath.Glob(filepath.Join(keyDir, "*.pem"))
	if len(keys) != 1 {
		t.Fatalf("got keys %v, want one", keys)
	}

	t.Run("get and verify", func(t *testing.T) {
		dest := filepath.Join(work, "got-v1.txt")
		code, _, errOut := s.run(t, context.Background(), "get", "test-reports/sv.txt", "--dossier", dossier, "--version", "1", "-o", dest, "--role", "auditor")
		if code != 0 || strings.Contains(errOut, "first use of log") {
			t.Fatalf("first get: exit %d, want 0 and the key the upload pinned used:\n%s", code, errOut)
		}
		if data, _ := os.ReadFile(dest); string(data) != "software validation, revision A\n" {
			t.Errorf("got %q, want revision A", data)
		}
		known := filepath.Join(s.config, "evault", "known_vaults.json")
		if fi, err := os.Stat(known); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("known vaults: got %v, %v; want a file only its owner reads", fi, err)
		}
		out := s.must(t, "verify", dest, dest+".receipt.json", "--key", keys[0], "--offline")
		if !strings.Contains(out, "VALID") || !strings.Contains(out, "log_inclusion") {
			t.Errorf("verify printed:\n%s", out)
		}
		// Without --key: the pin, and the log as it is now.
		out = s.must(t, "verify", dest, dest+".receipt.json")
		if !strings.Contains(out, "VALID") || !strings.Contains(out, "log_consistent") || !strings.Contains(out, "you pinned") {
			t.Errorf("verify with the pinned key printed:\n%s", out)
		}
		write(t, dest, "software validation, revision A!\n")
		if code, _, errOut := s.run(t, context.Background(), "verify", dest, dest+".receipt.json", "--key", keys[0]); code != evault.ExitVerify || !strings.Contains(errOut, "FAIL file_digest") {
			t.Errorf("verify of a changed file: got exit %d, want %d:\n%s", code, evault.ExitVerify, errOut)
		}
		s2 := *s
		s2.config = t.TempDir()
		if code, _, errOut := s2.run(t, context.Background(), "verify", dest, dest+".receipt.json", "--offline"); code != evault.ExitUsage || !strings.Contains(errOut, "no key is pinned") {
			t.Errorf("offline verify with nothing pinned: got exit %d, want %d:\n%s", code, evault.ExitUsage, errOut)
		}
	})

	t.Run("pinned log", func(t *testing.T) { pinnedLog(t, s, dossier, dir, work) })

	t.Run("tampered download refused", func(t *testing.T) {
		dest := filepath.Join(work, "tampered", "sv.txt")
		os.MkdirAll(filepath.Dir(dest), 0o755)
		tp.on.Store(true)
		code, _, errOut := s.run(t, context.Background(), "get", "test-reports/sv.txt", "--dossier", dossier, "-o", dest)
		tp.on.Store(false)
		if code != evault.ExitVerify || !strings.Contains(errOut, "FAIL file_digest") {
			t.Errorf("got exit %d, want %d:\n%s", code, evault.ExitVerify, errOut)
		}
		if left, _ := os.ReadDir(filepath.Dir(dest)); len(left) != 0 {
			t.Errorf("a refused download left %v behind", left)
		}
		if code, _, _ := s.run(t, context.Background(), "get", "no/such.txt", "--dossier", dossier, "-o", dest); code != evault.ExitNotFound {
			t.Errorf("get of a missing document: got exit %d, want %d", code, evault.ExitNotFound)
		}
		if code, _, _ := s.run(t, context.Background(), "ls", "--dossier", dossier, "--role", "other"); code != evault.ExitNotFound {
			t.Errorf("another tenant listing the dossier: got exit %d, want %d", code, evault.ExitNotFound)
		}
	})

	t.Run("lifecycle", func(t *testing.T) { lifecycle(t, s, dossier, report) })
	t.Run("export and verify-bundle", func(t *testing.T) { exportBundles(t, s, dossier, keys[0], work) })
	t.Run("timestamps and witnesses", func(t *testing.T) { independentTrust(t, s, dossier, keys[0], work) })
	t.Run("multipart 2 GiB interrupted and resumed", func(t *testing.T) { resumeLarge(t, s, dossier, work) })
}

func exportBundles(t *testing.T, s *stack, dossier, key, work string) {
	out := filepath.Join(work, "bundle")
	m := decode[struct {
		Log       struct{ Size int64 }
		Documents []struct {
			Path    string
			Version int
		}
	}](t, s.must(t, "export", dossier, "--out", out, "--json", "--role", "auditor"))
	if len(m.Documents) != 3 {
		t.Fatalf("got %d documents, want 3", len(m.Documents))
	}
	if got := s.must(t, "verify-bundle", out, "--key", key); !strings.Contains(got, "VALID") {
		t.Errorf("verify-bundle printed:\n%s", got)
	}
	if got := s.must(t, "verify-bundle", out); !strings.Contains(got, "VALID") || !strings.Contains(got, "you pinned") {
		t.Errorf("verify-bundle with the pinned key printed:\n%s", got)
	}
	zipped := filepath.Join(work, "bundle.zip")
	s.must(t, "export", dossier, "--out", zipped)
	s.must(t, "verify-bundle", zipped, "--key", key)

	// At the checkpoint right after version 1 of the report (entry 2,
	// after the key's genesis and the auditor's grant), the bundle holds
	// that version only.
	early := filepath.Join(work, "early")
	em := decode[struct {
		Documents []struct {
			Path    string
			Version int
		}
	}](t, s.must(t, "export", dossier, "--out", early, "--checkpoint", "3", "--json"))
	if len(em.Documents) != 1 || em.Documents[0].Version != 1 {
		t.Errorf("at checkpoint 3: got %+v, want version 1 of the report alone", em.Documents)
	}
	s.must(t, "verify-bundle", early, "--key", key)
	// At an earlier checkpoint there is no export snapshot: the bundle does
	// not prove it holds every document, and --require-complete says so.
	if code, _, errOut := s.run(t, context.Background(), "verify-bundle", early, "--key", key, "--require-complete"); code != evault.ExitVerify || !strings.Contains(errOut, "no export snapshot") {
		t.Errorf("--require-complete on a bundle without a snapshot: exit %d\n%s", code, errOut)
	}
	if got := s.must(t, "verify-bundle", out, "--key", key, "--require-complete"); !strings.Contains(got, "the whole dossier as its export event") {
		t.Errorf("verify-bundle --require-complete printed:\n%s", got)
	}

	// A submission's bundle holds exactly its versions, proven by its event.
	subs := decode[struct {
		Submissions []struct {
			ID        string
			Documents []struct{ Path string }
		}
	}](t, s.must(t, "submission", "list", dossier, "--json"))
	if len(subs.Submissions) == 0 {
		t.Fatal("no submission to export")
	}
	subOut := filepath.Join(work, "submission")
	sm := decode[struct {
		Submission string
		Documents  []struct{ Path, Status string }
	}](t, s.must(t, "export", dossier, "--out", subOut, "--submission", subs.Submissions[0].ID, "--json", "--role", "auditor"))
	if sm.Submission != subs.Submissions[0].ID || len(sm.Documents) != len(subs.Submissions[0].Documents) {
		t.Errorf("submission export: got %+v, want the submission's %d documents", sm, len(subs.Submissions[0].Documents))
	}
	if got := s.must(t, "verify-bundle", subOut, "--key", key, "--json"); !strings.Contains(got, "exactly submission "+sm.Submission) {
		t.Errorf("verify-bundle of the submission printed:\n%s", got)
	}
	// Obsolete documents are shown, or left out when asked.
	s.must(t, "status", dossier, "risk/risk-management-file.csv", "obsolete", "--reason", "RMF rev 2 pending")
	cur := decode[struct {
		LeftOut   []string
		Documents []struct{ Path string }
	}](t, s.must(t, "export", dossier, "--out", filepath.Join(work, "current"), "--current-only", "--json"))
	if len(cur.LeftOut) != 1 || cur.LeftOut[0] != "risk/risk-management-file.csv" || len(cur.Documents) != 2 {
		t.Errorf("--current-only: got %+v", cur)
	}
	s.must(t, "verify-bundle", filepath.Join(work, "current"), "--key", key)
	s.must(t, "status", dossier, "risk/risk-management-file.csv", "current", "--reason", "kept in force")

	tests := []struct {
		name  string
		spoil func(dir string)
		item  string
	}{
		{"changed file", func(dir string) {
			write(t, filepath.Join(dir, "files/clinical/cer.txt"), "clinical evaluation report, edited\n")
		}, "files/clinical/cer.txt"},
		{"swapped receipt", func(dir string) {
			a, b := filepath.Join(dir, "receipts/clinical/cer.txt.receipt.json"), filepath.Join(dir, "receipts/test-reports/sv.txt.receipt.json")
			da, _ := os.ReadFile(a)
			db, _ := os.ReadFile(b)
			os.WriteFile(a, db, 0o644)
			os.WriteFile(b, da, 0o644)
		}, "receipts/clinical/cer.txt.receipt.json"},
		{"altered checkpoint", func(dir string) {
			cp, _ := os.ReadFile(filepath.Join(dir, "checkpoint.txt"))
			lines := strings.SplitN(string(cp), "\n", 3)
			lines[1] = "999"
			os.WriteFile(filepath.Join(dir, "checkpoint.txt"), []byte(strings.Join(lines, "\n")), 0o644)
		}, "checkpoint.txt"},
		{"missing file", func(dir string) {
			os.Remove(filepath.Join(dir, "files/risk/risk-management-file.csv"))
		}, "files/risk/risk-management-file.csv"},
		// The bundle's sums are not signed: whoever edits the events
		// rewrites them too. The events' proofs and the manifest's claims
		// must still hold.
		{"a sign-off taken out of the events", func(dir string) {
			spoilEvents(t, dir, func(events []map[string]any) []map[string]any {
				var kept []map[string]any
				for _, e := range events {
					if !strings.Contains(eventKind(t, e), "signoff") {
						kept = append(kept, e)
					}
				}
				return kept
			})
		}, "lifecycle.json"},
		{"an event's proof for another entry", func(dir string) {
			spoilEvents(t, dir, func(events []map[string]any) []map[string]any {
				events[0]["index"] = events[0]["index"].(float64) + 1
				return events
			})
		}, "lifecycle.json"},
		{"an event left out between others", func(dir string) {
			spoilEvents(t, dir, func(events []map[string]any) []map[string]any {
				return append(events[:1:1], events[2:]...)
			})
		}, "lifecycle.json"},
		{"a sign-off's printed name rewritten", func(dir string) {
			spoilManifest(t, dir, "test-reports/sv.txt", func(doc map[string]any) {
				doc["signoffs"].([]any)[0].(map[string]any)["name"] = "Dr. Someone Else, Head of QA"
			})
		}, "test-reports/sv.txt"},
		{"a legal hold claimed", func(dir string) {
			spoilManifest(t, dir, "clinical/cer.txt", func(doc map[string]any) { doc["legalHold"] = true })
		}, "clinical/cer.txt"},
		{"a document dropped", func(dir string) {
			rewrite(t, dir, "MANIFEST.json", func(v any) any {
				m := v.(map[string]any)
				docs := m["documents"].([]any)
				m["documents"] = docs[1:]
				return m
			})
		}, "MANIFEST.json"},
		{"a key written twice in the manifest", func(dir string) {
			data, _ := os.ReadFile(filepath.Join(dir, "MANIFEST.json"))
			edited := strings.Replace(string(data), `"approved": true`, `"approved": true, "Approved": false`, 1)
			writeSummed(t, dir, "MANIFEST.json", []byte(edited))
		}, "MANIFEST.json"},
		{"a status claimed without the events", func(dir string) {
			os.Remove(filepath.Join(dir, "lifecycle.json"))
			rewrite(t, dir, "MANIFEST.json", func(v any) any { delete(v.(map[string]any), "lifecycle"); return v })
		}, "MANIFEST.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "b")
			if err := os.CopyFS(dir, os.DirFS(out)); err != nil {
				t.Fatal(err)
			}
			tt.spoil(dir)
			code, _, errOut := s.run(t, context.Background(), "verify-bundle", dir, "--key", key)
			if code != evault.ExitVerify || !strings.Contains(errOut, ": "+tt.item+": ") {
				t.Errorf("got exit %d, want %d naming %s:\n%s", code, evault.ExitVerify, tt.item, errOut)
			}
		})
	}
}

// partCounter cancels the CLI's context once n parts have been stored, as
// Ctrl-C or a lost connection would, and counts the parts sent.
type partCounter struct {
	sent   atomic.Int64
	after  int64
	cancel context.CancelFunc
}

func (p *partCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.Method == "PUT" && r.URL.Query().Has("partNumber") && resp.StatusCode == 200 {
		if p.sent.Add(1) == p.after && p.cancel != nil {
			p.cancel()
		}
	}
	return resp, err
}

func resumeLarge(t *testing.T, s *stack, dossier, work string) {
	const size = 2<<30 + 12345 // 33 parts of the default 64 MiB
	file := filepath.Join(work, "imaging.dcm")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	src := rand.NewChaCha8([32]byte{1})
	if _, err := io.CopyN(f, src, size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	defer os.Remove(file)

	args := []string{"upload", file, "--dossier", dossier, "--path", "imaging/validation-set.dcm", "--title", "Validation imaging set",
		"--kind", "clinical-evidence", "--section", "MDR-II-6.1", "--revision", "1", "--author", "Data team",
		"--state-dir", filepath.Join(work, "state"), "--json"}
	ctx, cancel := context.WithCancel(context.Background())
	pc := &partCounter{after: 10, cancel: cancel}
	s2 := *s
	s2.http = &http.Client{Transport: pc}
	code, _, errOut := s2.run(t, ctx, args...)
	if code != evault.ExitInterrupted || !strings.Contains(errOut, "run the same command again to resume") {
		t.Fatalf("interrupted upload: got exit %d, want %d:\n%s", code, evault.ExitInterrupted, errOut)
	}
	first := pc.sent.Load()

	pc2 := &partCounter{}
	s2.http = &http.Client{Transport: pc2}
	code, out, errOut := s2.run(t, context.Background(), args...)
	if code != 0 {
		t.Fatalf("resumed upload: exit %d\n%s", code, errOut)
	}
	res := decode[struct {
		Uploads []struct {
			SHA256           string
			Size             int64
			Parts, PartsSent int
			Resumed          bool
		}
	}](t, out).Uploads[0]
	if !res.Resumed || res.Parts != 33 || int64(res.PartsSent) != pc2.sent.Load() || first+pc2.sent.Load() > 33+4 {
		t.Errorf("got %+v after %d parts before the interruption and %d after; want the rest only", res, first, pc2.sent.Load())
	}
	t.Logf("%d parts stored before the interruption, %d sent on resuming, %d in all", first, pc2.sent.Load(), res.Parts)
	if res.Size != size || res.SHA256 != fileSHA(t, file) {
		t.Errorf("got size %d sha %s, want %d and the file's", res.Size, res.SHA256, size)
	}
}

// pinnedLog: what evault kept of the log decides what it trusts. Another
// key pinned, or a kept checkpoint the log does not extend, is refused;
// --key against a key the log does not lead from is refused too.
func pinnedLog(t *testing.T, s *stack, dossier, dir, work string) {
	if out := s.must(t, "log", "check"); !strings.Contains(out, "CONSISTENT") || !strings.Contains(out, "extends the checkpoint kept") {
		t.Errorf("log check printed:\n%s", out)
	}
	known := filepath.Join(s.config, "evault", "known_vaults.json")
	saved, err := os.ReadFile(known)
	if err != nil {
		t.Fatal(err)
	}
	defer os.WriteFile(known, saved, 0o600)
	var kf struct {
		Logs map[string]map[string]any `json:"logs"`
	}
	if err := json.Unmarshal(saved, &kf); err != nil || len(kf.Logs) != 1 {
		t.Fatalf("known vaults: %v\n%s", err, saved)
	}
	var origin string
	for o := range kf.Logs {
		origin = o
	}
	edit := func(field string, v any) {
		t.Helper()
		var f map[string]map[string]map[string]any
		json.Unmarshal(saved, &f)
		f["logs"][origin][field] = v
		data, _ := json.Marshal(f)
		os.WriteFile(known, data, 0o600)
	}
	key, err := os.ReadFile(filepath.Join(dir, ".local", "signing-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := receipt.NewLocalSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	other, err := receipt.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	latest := decode[struct{ Size int64 }](t, s.must(t, "log", "check", "--json"))
	signed := func(size int64) string {
		cp, err := ledger.SignCheckpoint(context.Background(), signer, ledger.Checkpoint{Origin: origin, Size: size, Hash: tlog.Hash{1}})
		if err != nil {
			t.Fatal(err)
		}
		return string(cp)
	}
	otherPEM := filepath.Join(work, "other.pem")
	write(t, otherPEM, string(other.Key().PEM()))
	dest := filepath.Join(work, "pinned.txt")
	tests := []struct {
		name  string
		setup func()
		args  []string
		want  []string
	}{
		{"another key pinned", func() {
			edit("key", map[string]string{"keyId": other.Key().ID, "algorithm": receipt.Algorithm, "publicKey": string(other.Key().PEM())})
		}, []string{"get", "test-reports/sv.txt", "--dossier", dossier, "-o", dest}, []string{other.Key().ID, signer.Key().ID, known}},
		{"a fork of the checkpoint kept", func() { edit("checkpoint", signed(latest.Size)) },
			[]string{"log", "check"}, []string{"forked"}},
		{"a checkpoint kept beyond the log", func() { edit("checkpoint", signed(latest.Size+5)) },
			[]string{"export", dossier, "--out", filepath.Join(work, "never")}, []string{"rolled back"}},
		{"--key the log does not lead from", func() { os.WriteFile(known, saved, 0o600) },
			[]string{"log", "check", "--key", otherPEM}, []string{"no signed rotation from the key " + other.Key().ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup()
			code, _, errOut := s.run(t, context.Background(), tt.args...)
			if code != evault.ExitVerify {
				t.Errorf("got exit %d, want %d:\n%s", code, evault.ExitVerify, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if _, err := os.Stat(dest); err == nil {
				t.Errorf("a refused get left %s", dest)
			}
		})
	}
}

// grants: the notified body's auditor reads nothing of tenant demo until
// the uploader grants them the dossier; then evault me lists the grant,
// and the auditor acts in demo (.local/env's VAULT_TENANT).
func grants(t *testing.T, s *stack, dossier string) {
	t.Helper()
	if code, _, errOut := s.run(t, context.Background(), "ls", "--dossier", dossier, "--role", "auditor"); code != evault.ExitAuth {
		t.Errorf("auditor before a grant: exit %d %s, want %d", code, errOut, evault.ExitAuth)
	}
	until := time.Now().AddDate(0, 3, 0).Format(time.DateOnly)
	out := s.must(t, "grant", "give", "--email", "auditor@nb0197.example", "--dossier", dossier, "--until", until, "--note", "CE assessment")
	if !strings.Contains(out, "active") || !strings.Contains(out, "auditor@nb0197.example") || !strings.Contains(out, dossier) {
		t.Errorf("grant give printed:\n%s", out)
	}
	me := decode[struct {
		Grants []struct{ Tenant, Status string }
	}](t, s.must(t, "me", "--json", "--role", "auditor"))
	if len(me.Grants) != 1 || me.Grants[0].Tenant != "demo" || me.Grants[0].Status != "active" {
		t.Errorf("me as the auditor: got %+v, want one active grant of demo", me)
	}
	if code, _, errOut := s.run(t, context.Background(), "grant", "give", "--email", "x@y.example", "--all", "--until", until, "--role", "auditor"); code != evault.ExitAuth {
		t.Errorf("auditor granting: exit %d %s, want %d", code, errOut, evault.ExitAuth)
	}
	if code, _, _ := s.run(t, context.Background(), "grant", "give", "--email", "x@y.example", "--all", "--until", "2020-01-01"); code != evault.ExitInvalid {
		t.Errorf("a grant ending in the past: exit %d, want %d", code, evault.ExitInvalid)
	}
}

// independentTrust verifies with what does not rest on the vault alone:
// the stack's timestamp authority's root and its witness's key, as an
// auditor who obtained them from those parties would give them.
func independentTrust(t *testing.T, s *stack, dossier, key, work string) {
	roots, witness := s.env["VAULT_TSA_ROOTS_FILE"], s.env["VAULT_WITNESS_KEY"]
	if roots == "" || witness == "" {
		t.Fatalf("the stack names no timestamp authority or witness: %v", s.env)
	}
	policy := []string{"--tsa-roots", roots, "--require-timestamp", "--witness", witness}
	dest := filepath.Join(work, "trusted", "sv.txt")
	os.MkdirAll(filepath.Dir(dest), 0o755)
	out := s.must(t, append([]string{"get", "test-reports/sv.txt", "--dossier", dossier, "-o", dest, "--role", "auditor"}, policy...)...)
	if !strings.Contains(out, "verified") {
		t.Errorf("get printed:\n%s", out)
	}
	out = s.must(t, append([]string{"verify", dest, dest + ".receipt.json", "--key", key, "--offline"}, policy...)...)
	for _, want := range []string{"ok   timestamp", "development TSA", "ok   witnessed", "witness.evidencevault.dev", "VALID"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify with the policy: no %q in\n%s", want, out)
		}
	}
	// The token is RFC 3161's: openssl checks it against the root.
	var rb struct {
		Envelope   struct{ Signatures []struct{ Sig []byte } }
		Timestamps [][]byte
	}
	data, err := os.ReadFile(dest + ".receipt.json")
	if err != nil || json.Unmarshal(data, &rb) != nil || len(rb.Timestamps) != 1 || len(rb.Envelope.Signatures) != 1 {
		t.Fatalf("receipt: %v, %d timestamps", err, len(rb.Timestamps))
	}
	tsr, sig := write(t, filepath.Join(work, "trusted", "r.tsr"), string(rb.Timestamps[0])), write(t, filepath.Join(work, "trusted", "sig.bin"), string(rb.Envelope.Signatures[0].Sig))
	if out, err := exec.Command("openssl", "ts", "-verify", "-in", tsr, "-data", sig, "-CAfile", roots).CombinedOutput(); err != nil || !strings.Contains(string(out), "Verification: OK") {
		t.Errorf("openssl ts -verify: %v\n%s", err, out)
	}

	bundleDir := filepath.Join(work, "trusted-bundle")
	s.must(t, append([]string{"export", dossier, "--out", bundleDir, "--role", "auditor"}, policy...)...)
	if out := s.must(t, append([]string{"verify-bundle", bundleDir, "--key", key}, policy...)...); !strings.Contains(out, "VALID") {
		t.Errorf("verify-bundle with the policy printed:\n%s", out)
	}

	// Another authority's root, or another witness's key: refused.
	other := filepath.Join(work, "trusted", "other-root.pem")
	otherTSA, err := devtsa.New(devtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, other, string(otherTSA.RootPEM()))
	w, err := devwitness.New(context.Background(), devwitness.Options{Name: "other.witness.example", LogKey: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for name, args := range map[string][]string{
		"another authority": {"--tsa-roots", other},
		"another witness":   {"--witness", w.VKey()},
		"two of one":        {"--witness", witness, "--witness", w.VKey(), "--witnesses", "2"},
	} {
		for _, cmd := range [][]string{{"verify", dest, dest + ".receipt.json", "--key", key, "--offline"}, {"verify-bundle", bundleDir, "--key", key}} {
			if code, out, errOut := s.run(t, context.Background(), append(cmd, args...)...); code != evault.ExitVerify {
				t.Errorf("%s, %s: got exit %d, want %d\n%s%s", name, cmd[0], code, evault.ExitVerify, out, errOut)
			}
		}
		if code, _, errOut := s.run(t, context.Background(), append([]string{"get", "test-reports/sv.txt", "--dossier", dossier, "-o", dest + "." + strings.ReplaceAll(name, " ", "-"), "--role", "auditor"}, args...)...); code != evault.ExitVerify {
			t.Errorf("%s, get: got exit %d, want %d\n%s", name, code, evault.ExitVerify, errOut)
		}
	}
	if code, _, _ := s.run(t, context.Background(), "verify", dest, dest+".receipt.json", "--key", key, "--require-timestamp"); code != evault.ExitUsage {
		t.Errorf("--require-timestamp without roots: got exit %d, want %d", code, evault.ExitUsage)
	}
}

// lifecycle runs the dossier's regulatory life from the CLI: the demo
// tokens were issued at the stack's start, a sign-in recent enough to
// sign with.
func lifecycle(t *testing.T, s *stack, dossier, report string) {
	today := time.Now().UTC().Format(time.DateOnly)
	if code, _, _ := s.run(t, context.Background(), "market", dossier, "--first-placed", today); code != evault.ExitAuth {
		t.Errorf("uploader sets the market status: exit %d, want %d", code, evault.ExitAuth)
	}
	if out := s.must(t, "market", dossier, "--first-placed", today, "--reason", "CE certificate", "--role", "admin"); !strings.Contains(out, "on the market since "+today) ||
		!strings.Contains(out, "locked until at least") {
		t.Errorf("market printed:\n%s", out)
	}
	hold := decode[struct{ ID string }](t, s.must(t, "hold", "set", dossier, "--path", "test-reports/sv.txt", "--reason", "FSCA 2026-04", "--role", "admin", "--json"))
	if code, _, _ := s.run(t, context.Background(), "signoff", dossier, "test-reports/sv.txt", "--version", "2", "--meaning", "approved"); code != evault.ExitUsage {
		t.Errorf("sign-off without the file or its SHA-256: exit %d, want %d", code, evault.ExitUsage)
	}
	if code, _, errOut := s.run(t, context.Background(), "signoff", dossier, "test-reports/sv.txt", "--version", "1", "--meaning", "approved", "--file", report, "--role", "admin"); code != evault.ExitInvalid || !strings.Contains(errOut, "sha256") {
		t.Errorf("sign-off of version 1 with version 2's bytes: exit %d, want %d\n%s", code, evault.ExitInvalid, errOut)
	}
	out := s.must(t, "signoff", dossier, "test-reports/sv.txt", "--version", "2", "--meaning", "approved", "--file", report, "--role", "admin")
	if !strings.Contains(out, "APPROVED") || !strings.Contains(out, "approved") || !strings.Contains(out, "dana@demo.example") {
		t.Errorf("signoff printed:\n%s", out)
	}
	if out := s.must(t, "versions", "test-reports/sv.txt", "--dossier", dossier, "--role", "auditor"); !strings.Contains(out, "current, approved, LEGAL HOLD") || !strings.Contains(out, "superseded") {
		t.Errorf("versions as the auditor:\n%s", out)
	}
	code, out, _ := s.run(t, context.Background(), "completeness", dossier)
	if code != evault.ExitNotFound || !strings.Contains(out, "MDR-II-6.1") || !strings.Contains(out, "complete") || !strings.Contains(out, "missing") {
		t.Errorf("completeness: exit %d, want %d\n%s", code, evault.ExitNotFound, out)
	}
	page := filepath.Join(t.TempDir(), "completeness.html")
	s.must(t, "completeness", dossier, "--html", page)
	if b, err := os.ReadFile(page); err != nil || !strings.Contains(string(b), "<table>") {
		t.Errorf("completeness page: %v", err)
	}
	sub := decode[struct {
		ID        string
		Documents []struct{ Path string }
	}](t, s.must(t, "submission", "create", dossier, "--notified-body", "0197", "--json"))
	if len(sub.Documents) == 0 {
		t.Fatalf("submission holds no documents")
	}
	if out := s.must(t, "submission", "changes", dossier, sub.ID); !strings.Contains(out, "0 added, 0 removed, 0 changed") {
		t.Errorf("changes right after:\n%s", out)
	}
	s.must(t, "status", dossier, "test-reports/sv.txt", "withdrawn", "--reason", "test method replaced")
	if out := s.must(t, "submission", "changes", dossier, sub.ID); !strings.Contains(out, "- test-reports/sv.txt v2") {
		t.Errorf("changes after withdrawing:\n%s", out)
	}
	s.must(t, "status", dossier, "test-reports/sv.txt", "current", "--reason", "withdrawn by mistake")
	if out := s.must(t, "hold", "release", dossier, hold.ID, "--reason", "FSCA closed", "--role", "admin"); strings.Contains(out, "LEGAL HOLD") {
		t.Errorf("hold release printed:\n%s", out)
	}
	if out := s.must(t, "lifecycle", dossier, "--role", "auditor"); !strings.Contains(out, "submission "+sub.ID) {
		t.Errorf("lifecycle as the auditor:\n%s", out)
	}
}

// spoilEvents rewrites a bundle's lifecycle events, and its SHA256SUMS to
// match, as someone editing the bundle would.
func spoilEvents(t *testing.T, dir string, edit func([]map[string]any) []map[string]any) {
	t.Helper()
	rewrite(t, dir, "lifecycle.json", func(v any) any {
		var events []map[string]any
		for _, e := range v.([]any) {
			events = append(events, e.(map[string]any))
		}
		return edit(events)
	})
}

// spoilManifest rewrites what MANIFEST.json says of one document.
func spoilManifest(t *testing.T, dir, path string, edit func(doc map[string]any)) {
	t.Helper()
	rewrite(t, dir, "MANIFEST.json", func(v any) any {
		for _, d := range v.(map[string]any)["documents"].([]any) {
			if doc := d.(map[string]any); doc["path"] == path {
				edit(doc)
			}
		}
		return v
	})
}

// rewrite edits a JSON file of a bundle and its line in SHA256SUMS.
func rewrite(t *testing.T, dir, file string, edit func(any) any) {
	t.Helper()
	name := filepath.Join(dir, file)
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	data, _ = json.MarshalIndent(edit(v), "", "  ")
	writeSummed(t, dir, file, data)
}

// writeSummed writes a bundle's file and its line in SHA256SUMS.
func writeSummed(t *testing.T, dir, file string, data []byte) {
	t.Helper()
	os.WriteFile(filepath.Join(dir, file), data, 0o644)
	sums, _ := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	sum := sha256.Sum256(data)
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		if strings.HasSuffix(l, "  "+file) {
			l = hex.EncodeToString(sum[:]) + "  " + file
		}
		lines = append(lines, l)
	}
	os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

// eventKind reads the event name out of a bundle event's envelope.
func eventKind(t *testing.T, e map[string]any) string {
	t.Helper()
	env, _ := json.Marshal(e["envelope"])
	_, st, err := receipt.Parse(env)
	if err != nil {
		t.Fatal(err)
	}
	var ev vault.LifecycleEvent
	if err := st.DecodePredicate(&ev); err != nil {
		t.Fatal(err)
	}
	return ev.Event
}

// The same upload command run again another day is the same upload: the
// effective date it did not give (today's by default) is the latest
// version's when the bytes are the same, so the file is unchanged, not a
// 409 for a date nobody chose. The first run gives yesterday's date, what
// the default was had it run yesterday.
func TestUploadAgainAnotherDay(t *testing.T) {
	dir := t.TempDir()
	env, _, _ := testenv.LocalStack(t, dir)
	s := &stack{dir: dir, env: env, http: http.DefaultClient, config: t.TempDir()}
	created := decode[struct{ ID string }](t, s.must(t, "dossier", "create", "--json", "--name", "Pulse oximeter AI",
		"--basic-udi-di", "1987654Ad4X4bL5ttr2310c2K", "--risk-class", "IIb", "--high-risk-ai", "--notified-body", "0197"))
	report := write(t, filepath.Join(t.TempDir(), "sv.txt"), "software validation, revision A\n")
	cmd := []string{"upload", report, "--dossier", created.ID, "--path", "test-reports/sv.txt", "--kind", "test-report",
		"--section", "MDR-II-6.1", "--revision", "A", "--author", "QA"}
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	s.must(t, append(cmd, "--effective-date", yesterday)...)
	if out := s.must(t, cmd...); !strings.Contains(out, "unchanged test-reports/sv.txt: version 1") {
		t.Errorf("the same upload a day later printed:\n%s", out)
	}
	// New bytes by default take today's date.
	write(t, report, "software validation, revision B\n")
	s.must(t, cmd...)
	got := decode[struct {
		Versions []struct {
			Version  int
			Document struct{ EffectiveDate string }
		}
	}](t, s.must(t, "versions", "test-reports/sv.txt", "--dossier", created.ID, "--json"))
	vs := got.Versions
	if today := time.Now().UTC().Format(time.DateOnly); len(vs) != 2 || vs[1].Document.EffectiveDate != today || vs[0].Document.EffectiveDate != yesterday {
		t.Errorf("versions %+v, want version 1 effective %s, 2 %s", vs, yesterday, today)
	}
}
