package evault_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/evault"
	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

// memTransport sends memstore:// presigned requests to the bucket.
type memTransport struct {
	b        *memstore.Bucket
	failPart func(r *http.Request) bool
}

func (m *memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "memstore" {
		return http.DefaultTransport.RoundTrip(r)
	}
	if m.failPart != nil && m.failPart(r) {
		return nil, errors.New("connection reset (injected)")
	}
	h := map[string]string{}
	for k := range r.Header {
		h[k] = r.Header.Get(k)
	}
	p := vault.Presigned{Method: r.Method, URL: r.URL.String(), Headers: h}
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Request: r, Body: io.NopCloser(strings.NewReader(""))}
	if r.Method == "PUT" {
		body, _ := io.ReadAll(r.Body)
		if err := m.b.Send(p, body); err != nil {
			resp.StatusCode, resp.Body = 400, io.NopCloser(strings.NewReader(err.Error()))
		}
		return resp, nil
	}
	data, err := m.b.Fetch(p)
	if err != nil {
		resp.StatusCode, resp.Body = 403, io.NopCloser(strings.NewReader(err.Error()))
		return resp, nil
	}
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(data)), int64(len(data))
	return resp, nil
}

type cliEnv struct {
	svc    *vault.Service
	b      *memstore.Bucket
	iss    *testenv.Issuer
	srv    *httptest.Server
	front  atomic.Value // func(http.ResponseWriter, *http.Request, http.Handler)
	cfg    string
	counts sync.Map
	tr     *memTransport
}

func newCLIEnv(t *testing.T) *cliEnv {
	e := &cliEnv{iss: testenv.NewIssuer(t), cfg: t.TempDir()}
	e.b = memstore.New("evidence")
	signer, err := receipt.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	e.svc = vault.New(e.b.Storage(), signer, vault.Config{Bucket: e.b.Bucket(), Logger: slog.New(slog.DiscardHandler)})
	h := httpapi.New(e.svc, e.iss.Verifier(), slog.New(slog.DiscardHandler)).Handler()
	e.tr = &memTransport{b: e.b}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := e.counts.LoadOrStore(r.Method+" "+r.URL.Path, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		if f, ok := e.front.Load().(func(http.ResponseWriter, *http.Request, http.Handler)); ok && f != nil {
			f(w, r, h)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *cliEnv) dossier(t *testing.T, tenant string) (context.Context, vault.Dossier) {
	ctx := vault.NewContext(context.Background(), vault.Identity{Tenant: tenant, Subject: "admin@" + tenant + ".example", Role: vault.RoleAdmin})
	yes, no := true, false
	d, err := e.svc.CreateDossier(ctx, vault.DossierInput{Name: "Device " + tenant, BasicUDIDI: "12345ANJ", Regulation: regulation.MDR, RiskClass: "IIb", Implantable: &no, HighRiskAI: &yes, NotifiedBody: "0197"})
	if err != nil {
		t.Fatal(err)
	}
	return ctx, d
}

func (e *cliEnv) run(t *testing.T, token string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	env := map[string]string{"EVAULT_API": e.srv.URL, "EVAULT_TOKEN": token}
	m := &evault.Main{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }, Dir: t.TempDir(), ConfigDir: e.cfg,
		HTTP: &http.Client{Transport: e.tr}}
	code := m.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

func (e *cliEnv) count(key string) int64 {
	n, ok := e.counts.Load(key)
	if !ok {
		return 0
	}
	return n.(*atomic.Int64).Load()
}

func (e *cliEnv) resetCounts() {
	e.counts.Range(func(k, _ any) bool { e.counts.Delete(k); return true })
}

var cliMeta = []string{"--kind", "test-report", "--section", "MDR-II-6.1", "--revision", "A", "--author", "QA"}

// An auditor with grants from acme and beta, both logs pinned: a server
// that answers --tenant acme with beta's log is refused.
func TestPinnedLogOfAnotherTenantIsRefused(t *testing.T) {
	e := newCLIEnv(t)
	nora := vault.Identity{Subject: "nora@nb0197.example", Role: vault.RoleAuditor}
	until := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	for _, tenant := range []string{"acme", "beta"} {
		ctx, d := e.dossier(t, tenant)
		if _, err := e.svc.CreateGrant(ctx, vault.GrantInput{Grantee: &vault.Grantee{Email: nora.Subject}, Dossiers: []string{d.ID}, Until: &until}); err != nil {
			t.Fatal(err)
		}
	}
	tok := e.iss.Token(t, nora)
	for _, tenant := range []string{"acme", "beta"} {
		code, out, errOut := e.run(t, tok, "log", "check", "--tenant", tenant)
		t.Logf("log check --tenant %s: exit %d\n%s%s", tenant, code, out, errOut)
	}
	// The server now answers acme's requests with beta's log.
	e.front.Store(func(w http.ResponseWriter, r *http.Request, h http.Handler) {
		if r.Header.Get("Vault-Tenant") == "acme" {
			r.Header.Set("Vault-Tenant", "beta")
		}
		h.ServeHTTP(w, r)
	})
	code, out, errOut := e.run(t, tok, "log", "check", "--tenant", "acme")
	t.Logf("swapped: log check --tenant acme: exit %d\n%s%s", code, out, errOut)
	if code != evault.ExitVerify || !strings.Contains(errOut, "with the log of tenant beta") {
		t.Errorf("--tenant acme answered with beta's log: got exit %d, want %d\n%s%s", code, evault.ExitVerify, out, errOut)
	}
}

// A member of acme (no --tenant) pinned acme's log; a server that then
// answers with another tenant's log is refused, not pinned on first use.
func TestOwnTenantStaysTheOnePinned(t *testing.T) {
	e := newCLIEnv(t)
	e.sealOne(t, "acme")
	e.sealOne(t, "acme-2")
	alice := vault.Identity{Tenant: "acme", Subject: "alice@acme.example", Role: vault.RoleAdmin}
	impostor := e.iss.Token(t, vault.Identity{Tenant: "acme-2", Subject: "x@acme.example", Role: vault.RoleAdmin})
	tok := e.iss.Token(t, alice)
	code, out, errOut := e.run(t, tok, "log", "check")
	t.Logf("log check: exit %d\n%s%s", code, out, errOut)
	e.front.Store(func(w http.ResponseWriter, r *http.Request, h http.Handler) {
		r.Header.Set("Authorization", "Bearer "+impostor)
		h.ServeHTTP(w, r)
	})
	code, out, errOut = e.run(t, tok, "log", "check")
	t.Logf("swapped: log check: exit %d\n%s%s", code, out, errOut)
	if code != evault.ExitVerify || !strings.Contains(errOut, "your own tenant's log here was acme's") {
		t.Errorf("the own tenant answered with acme-2's log: got exit %d, want %d\n%s%s", code, evault.ExitVerify, out, errOut)
	}
}

// TestUploadOpensTheLogOnce: a folder's receipts are verified against one
// view of the log, not one per file.
func TestUploadOpensTheLogOnce(t *testing.T) {
	e := newCLIEnv(t)
	_, d := e.dossier(t, "acme")
	tok := e.iss.Token(t, vault.Identity{Tenant: "acme", Subject: "alice@acme.example", Role: vault.RoleAdmin})
	dir := t.TempDir()
	var files []string
	for i := range 30 {
		files = append(files, write(t, filepath.Join(dir, fmt.Sprintf("r%02d.txt", i)), fmt.Sprintf("report %d\n", i)))
	}
	e.resetCounts()
	start := time.Now()
	code, out, errOut := e.run(t, tok, append(append([]string{"upload", "--dossier", d.ID, "--path", "tests"}, files...), cliMeta...)...)
	el := time.Since(start)
	if code != 0 {
		t.Fatalf("upload: exit %d\n%s%s", code, out, errOut)
	}
	var lines []string
	e.counts.Range(func(k, v any) bool {
		lines = append(lines, fmt.Sprintf("%s=%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	t.Logf("30 files in %v; requests: %s", el, strings.Join(lines, " "))
	if n := e.count("GET /v1/log/keys"); n != 1 {
		t.Errorf("30 files: got %d GET /v1/log/keys, want 1", n)
	}
}

// A multipart upload interrupted, resumed with the default date on
// another day (here: the first run named yesterday's date), is sealed
// with the metadata it was started with, and its receipt verified
// against that.
func TestResumeAnotherDayIsVerified(t *testing.T) {
	e := newCLIEnv(t)
	tok, args, yesterday := e.interruptedUpload(t, t.TempDir())
	code, out, errOut := e.run(t, tok, args...) // the same command the next day: default date today
	t.Logf("day 2 (resumed): exit %d\n%s%s", code, out, errOut)
	if code != 0 || !strings.Contains(errOut, "resumed with the metadata it was started with (effective date "+yesterday+")") {
		t.Errorf("the resumed upload: got exit %d, want 0 and the date it was started with said\n%s%s", code, out, errOut)
	}
	// Once more: the version sealed holds these bytes and that metadata.
	if code, out, errOut = e.run(t, tok, args...); code != 0 || !strings.Contains(out, "unchanged tests/big.txt") {
		t.Errorf("the same command again: got exit %d, want 0 and unchanged\n%s%s", code, out, errOut)
	}
}

// sealOne seals tests/a.txt in a new dossier of tenant tn.
func (e *cliEnv) sealOne(t *testing.T, tn string) {
	ctx, d := e.dossier(t, tn)
	sealReport(t, ctx, e.svc, e.b, d.ID, []byte("report "+tn))
}

// interruptedUpload starts an 11 MiB upload in parts dated yesterday and
// cuts it after its first part, as a run stopped the day before would
// leave it; it returns the token and the same command without the date.
func (e *cliEnv) interruptedUpload(t *testing.T, state string) (tok string, args []string, yesterday string) {
	t.Helper()
	_, d := e.dossier(t, "acme")
	tok = e.iss.Token(t, vault.Identity{Tenant: "acme", Subject: "alice@acme.example", Role: vault.RoleAdmin})
	big := make([]byte, 11<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	file := filepath.Join(t.TempDir(), "big.txt")
	os.WriteFile(file, big, 0o644)
	yesterday = time.Now().UTC().Add(-24 * time.Hour).Format("2006-01-02")
	var parts atomic.Int64
	e.tr.failPart = func(r *http.Request) bool { return strings.Contains(r.URL.RawQuery, "token") && parts.Add(1) > 1 }
	args = append([]string{"upload", file, "--dossier", d.ID, "--path", "tests/big.txt", "--multipart-threshold", "1048576", "--part-size", "5242880", "--parallel", "1", "--state-dir", state, "--content-type", "text/plain"}, cliMeta...)
	code, out, errOut := e.run(t, tok, append(args, "--effective-date", yesterday)...)
	t.Logf("day 1 (interrupted): exit %d\n%s%s", code, out, errOut)
	e.tr.failPart = nil
	return tok, args, yesterday
}
