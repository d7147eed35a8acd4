package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/devtsa"
	"github.com/evidencevault/vault/internal/devwitness"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/sigstore"
	"github.com/evidencevault/vault/internal/tsa"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/evidencevault/vault/internal/witnessing"
	"golang.org/x/mod/sumdb/note"
)

// TestTimestampsAndWitnessesServed: with a timestamp authority and a
// witness configured, what the API serves of a receipt carries both, in
// the contract's shapes, and is cached for good only once it has both.
func TestTimestampsAndWitnessesServed(t *testing.T) {
	authority, err := devtsa.New(devtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var tsaDown atomic.Bool
	tsaSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tsaDown.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		authority.ServeHTTP(w, r)
	}))
	defer tsaSrv.Close()
	stamps, err := tsa.New(tsa.Config{URL: tsaSrv.URL, Trust: tsa.Trust{Roots: []*x509.Certificate{authority.Root()}}})
	if err != nil {
		t.Fatal(err)
	}
	var logKey atomic.Pointer[ecdsa.PublicKey]
	w, err := devwitness.New(context.Background(), devwitness.Options{Name: "witness.test.example", LogKey: func(origin string) (string, bool) {
		k := logKey.Load()
		if k == nil {
			return "", false
		}
		vkey, err := ledger.VerifierKey(origin, k)
		return vkey, err == nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	wsrv := httptest.NewServer(w)
	defer wsrv.Close()
	u, _ := url.Parse(wsrv.URL)
	wv, err := witnessing.ParseVerifier(w.VKey())
	if err != nil {
		t.Fatal(err)
	}
	a := newAPI(t, vault.Config{Timestamps: stamps, Witnesses: witnessing.New([]witnessing.Witness{{URL: u, Verifier: wv, Key: w.VKey()}}, 0, 5*time.Second)})
	keys, err := a.svc.Keys(vault.NewContext(context.Background(), uploader))
	if err != nil || len(keys) == 0 {
		t.Fatal(keys, err)
	}
	k, err := receipt.ParsePublicKey([]byte(keys[0].PEM))
	if err != nil {
		t.Fatal(err)
	}
	logKey.Store(k.Public)
	policy := witnessing.Policy{Witnesses: []note.Verifier{wv}, Quorum: 1}

	// The policy verifiers are offered: the authority's root, the
	// witness's key, all of them required.
	vp := a.call(t, "GET", "/v1/verification-policy", "", nil)
	var offered vault.VerifierPolicy
	if err := json.Unmarshal(vp.body, &offered); err != nil || vp.status != http.StatusOK {
		t.Fatalf("verification policy: got %d %s", vp.status, vp.body)
	}
	if offered.Timestamps == nil || len(offered.Timestamps.Roots) != 1 || offered.Witnesses == nil ||
		!slices.Equal(offered.Witnesses.Keys, []string{w.VKey()}) || offered.Witnesses.Quorum != 1 {
		t.Errorf("verification policy: got %s", vp.body)
	} else if certs, err := tsa.ParseCertificates([]byte(offered.Timestamps.Roots[0])); err != nil || !certs[0].Equal(authority.Root()) {
		t.Errorf("verification policy: its root is not the authority's: %v", err)
	}

	dossier := a.createDossier(t)
	tok := a.token(t, uploader)
	rb := a.upload(t, dossier, "tests/a.txt", []byte("report a"))
	var sealed struct {
		Log        struct{ Checkpoint string }
		Timestamps [][]byte
	}
	if err := json.Unmarshal(rb.raw, &sealed); err != nil {
		t.Fatal(err)
	}
	if len(sealed.Timestamps) != 1 {
		t.Errorf("complete: got %d timestamps, want 1", len(sealed.Timestamps))
	}
	if _, err := policy.Check([]byte(sealed.Log.Checkpoint)); err != nil {
		t.Errorf("complete: the checkpoint is not witnessed: %v", err)
	}
	r := a.call(t, "GET", "/v1/receipts/"+rb.ReceiptID, tok, nil)
	if r.status != http.StatusOK || !strings.Contains(r.header.Get("Cache-Control"), "immutable") {
		t.Errorf("receipt: got %d %q, want 200 immutable", r.status, r.header.Get("Cache-Control"))
	}
	sg := a.call(t, "GET", "/v1/receipts/"+rb.ReceiptID+"/sigstore", tok, nil)
	if sg.status != http.StatusOK || sg.header.Get("Content-Type") != sigstore.BundleMediaType || !strings.Contains(string(sg.body), "rfc3161Timestamps") {
		t.Errorf("sigstore bundle: got %d %q\n%s", sg.status, sg.header.Get("Content-Type"), sg.body)
	}
	cp := a.call(t, "GET", "/v1/log/checkpoint", tok, nil)
	if _, err := policy.Check(cp.body); err != nil {
		t.Errorf("latest checkpoint: %v", err)
	}
	size := cp.header.Get("X-Log-Size")
	if at := a.call(t, "GET", "/v1/log/checkpoints/"+size, tok, nil); !strings.Contains(at.header.Get("Cache-Control"), "immutable") {
		t.Errorf("checkpoint %s: got %q, want immutable once witnessed", size, at.header.Get("Cache-Control"))
	}

	// While the authority is down the receipt is sealed, served without a
	// timestamp and not cached for good.
	tsaDown.Store(true)
	pending := a.upload(t, dossier, "tests/b.txt", []byte("report b"))
	r = a.call(t, "GET", "/v1/receipts/"+pending.ReceiptID, tok, nil)
	if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-cache" || strings.Contains(string(r.body), "timestamps") {
		t.Errorf("pending receipt: got %d %q\n%s", r.status, r.header.Get("Cache-Control"), r.body)
	}
	if n, _ := strconv.Atoi(size); n < 1 {
		t.Errorf("size %q", size)
	}
}
