package evault_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/devwitness"
	"github.com/evidencevault/vault/internal/evault"
	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/evidencevault/vault/internal/witnessing"
)

// TestWitnessPolicyRefusesBeforePinning: evault refuses a latest checkpoint
// that fails the witness policy before anything is pinned (docs/ledger.md).
// Met first, an impostor (its own key, no cosignature) is refused and
// nothing is kept, so the real, witnessed vault is not refused after it.
func TestWitnessPolicyRefusesBeforePinning(t *testing.T) {
	admin := vault.Identity{Tenant: "acme", Subject: "alice@acme.example", Role: vault.RoleAdmin}
	ctx := vault.NewContext(context.Background(), admin)
	iss := testenv.NewIssuer(t)
	realSigner, err := receipt.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	fakeSigner, err := receipt.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	pub := realSigner.Public().(*ecdsa.PublicKey)
	w, err := devwitness.New(context.Background(), devwitness.Options{Name: "witness.nb.example", LogKey: func(origin string) (string, bool) {
		vkey, err := ledger.VerifierKey(origin, pub)
		return vkey, err == nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	wsrv := httptest.NewServer(w)
	defer wsrv.Close()
	wu, _ := url.Parse(wsrv.URL)
	wv, _ := witnessing.ParseVerifier(w.VKey())
	mk := func(s receipt.Signer, ws vault.Cosigner) http.Handler {
		svc, _, _, _ := memVault(t, ctx, s, vault.Config{Witnesses: ws})
		return httpapi.New(svc, iss.Verifier(), slog.New(slog.DiscardHandler)).Handler()
	}
	fake := mk(fakeSigner, nil)
	real := mk(realSigner, witnessing.New([]witnessing.Witness{{URL: wu, Verifier: wv, Key: w.VKey()}}, 0, 5*time.Second))
	var h atomic.Value
	h.Store(fake)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { h.Load().(http.Handler).ServeHTTP(rw, r) }))
	defer srv.Close()

	cfg := t.TempDir()
	env := map[string]string{"EVAULT_API": srv.URL, "EVAULT_TOKEN": iss.Token(t, admin)}
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		m := &evault.Main{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }, Dir: t.TempDir(), ConfigDir: cfg}
		code := m.Run(context.Background(), args)
		return code, out.String() + errb.String()
	}
	code, out := run("log", "check", "--witness", w.VKey())
	if code != evault.ExitVerify || !strings.Contains(out, "does not meet your witness policy") {
		t.Errorf("impostor, first use: got exit %d: %s, want %d, the witness policy unmet", code, out, evault.ExitVerify)
	}
	if data, err := os.ReadFile(filepath.Join(cfg, "evault", "known_vaults.json")); err == nil {
		t.Errorf("the refused log was pinned anyway: known_vaults.json:\n%s", data)
	}
	h.Store(real)
	code, out = run("log", "check", "--witness", w.VKey())
	if code != 0 {
		t.Errorf("the real, witnessed vault is refused after the refused impostor: exit %d: %s", code, strings.TrimSpace(out))
	}
}
