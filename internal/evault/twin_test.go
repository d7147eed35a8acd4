package evault_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/devtsa"
	"github.com/evidencevault/vault/internal/evault"
	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/tsa"
	"github.com/evidencevault/vault/internal/vault"
)

// memFetch answers the presigned URLs of a memstore bucket.
type memFetch struct{ b *memstore.Bucket }

func (m memFetch) RoundTrip(r *http.Request) (*http.Response, error) {
	data, err := m.b.Fetch(vault.Presigned{Method: r.Method, URL: r.URL.String()})
	if err != nil {
		return nil, err
	}
	return &http.Response{StatusCode: 200, Body: io.NopCloser(bytes.NewReader(data)), Header: http.Header{}, Request: r}, nil
}

type tsaClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *tsaClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *tsaClock) add(years int)  { c.mu.Lock(); c.t = c.t.AddDate(years, 0, 0); c.mu.Unlock() }

// TestTwinSignatureThroughEvault: a year after sealing, the operator
// writes the twin of a receipt's signature over it (no key needed).
// evault get, requiring a timestamp, still keeps a receipt proven at the
// seal, and evault export still exports it.
func TestTwinSignatureThroughEvault(t *testing.T) {
	admin := vault.Identity{Tenant: "acme", Subject: "alice@acme.example", Role: vault.RoleAdmin}
	ctx := vault.NewContext(context.Background(), admin)
	clk := &tsaClock{t: time.Now()}
	a, err := devtsa.New(devtsa.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	tsrv := httptest.NewServer(a)
	defer tsrv.Close()
	trust := tsa.Trust{Roots: []*x509.Certificate{a.Root()}}
	stamps, err := tsa.New(tsa.Config{URL: tsrv.URL, Trust: trust})
	if err != nil {
		t.Fatal(err)
	}
	iss := testenv.NewIssuer(t)
	signer, err := receipt.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	svc, b, d, r := memVault(t, ctx, signer, vault.Config{Timestamps: stamps})
	sig, _ := base64.StdEncoding.DecodeString(r.Envelope.Signatures[0].Sig)
	sealed, err := trust.Verify(r.Timestamps[0], sig)
	if err != nil {
		t.Fatal(err)
	}

	clk.add(1)
	key := "vault/acme/receipts/" + r.Predicate.ReceiptID + ".json"
	data, _ := b.Latest(key)
	var stored map[string]json.RawMessage
	if err := json.Unmarshal(data, &stored); err != nil {
		t.Fatal(err)
	}
	env, _, err := receipt.Parse(stored["envelope"])
	if err != nil {
		t.Fatal(err)
	}
	twin, err := receipt.TwinSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	env.Signatures[0].Sig = base64.StdEncoding.EncodeToString(twin)
	stored["envelope"], _ = json.Marshal(env)
	out, _ := json.Marshal(stored)
	b.Overwrite(key, out)

	srv := httptest.NewServer(httpapi.New(svc, iss.Verifier(), slog.New(slog.DiscardHandler)).Handler())
	defer srv.Close()
	tr := &http.Transport{}
	tr.RegisterProtocol("memstore", memFetch{b})
	work := t.TempDir()
	rootFile := filepath.Join(work, "tsa-root.pem")
	if err := os.WriteFile(rootFile, a.RootPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"EVAULT_API": srv.URL, "EVAULT_TOKEN": iss.Token(t, admin)}
	run := func(args ...string) (int, string) {
		var o, e bytes.Buffer
		m := &evault.Main{Stdout: &o, Stderr: &e, Getenv: func(k string) string { return vars[k] }, HTTP: &http.Client{Transport: tr}, Dir: work, ConfigDir: t.TempDir()}
		code := m.Run(context.Background(), args)
		return code, o.String() + e.String()
	}
	dest := filepath.Join(work, "a.txt")
	if code, o := run("get", "tests/a.txt", "--dossier", d.ID, "-o", dest, "--tsa-roots", rootFile, "--require-timestamp"); code != 0 {
		t.Fatalf("get: exit %d\n%s", code, o)
	}
	keptData, err := os.ReadFile(dest + ".receipt.json")
	if err != nil {
		t.Fatal(err)
	}
	var kept vault.Bundle
	if err := json.Unmarshal(keptData, &kept); err != nil || len(kept.Timestamps) != 1 {
		t.Fatalf("kept receipt: %d timestamps (%v), want 1", len(kept.Timestamps), err)
	}
	keptEnv, _, err := receipt.Parse(kept.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	keptSig, _ := base64.StdEncoding.DecodeString(keptEnv.Signatures[0].Sig)
	st, err := trust.Verify(kept.Timestamps[0], keptSig)
	if err != nil || !st.Time.Equal(sealed.Time) {
		t.Errorf("kept receipt proven at %s (%v), want the seal's %s", st.Time, err, sealed.Time)
	}
	if code, o := run("export", d.ID, "--out", filepath.Join(work, "bundle"), "--tsa-roots", rootFile); code != 0 {
		t.Errorf("export: exit %d\n%s", code, o)
	}
}
