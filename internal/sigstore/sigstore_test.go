package sigstore_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/evidencevault/vault/internal/devtsa"
	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/sigstore"
	"github.com/evidencevault/vault/internal/tsa"
	"github.com/evidencevault/vault/internal/vault"
)

// sealed is a real receipt: a vault (on the in-memory bucket) seals a
// document, its signature timestamped by a development authority.
type sealed struct {
	r         *vault.Receipt
	body      []byte
	signer    *receipt.LocalSigner
	authority *devtsa.Authority
}

func seal(t *testing.T, stamped bool) sealed {
	t.Helper()
	a, err := devtsa.New(devtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	signer, err := receipt.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	cfg := vault.Config{Bucket: "evidence", Logger: slog.New(slog.DiscardHandler)}
	if stamped {
		c, err := tsa.New(tsa.Config{URL: srv.URL, Trust: tsa.Trust{Roots: []*x509.Certificate{a.Root()}}})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Timestamps = c
	}
	b := memstore.New("evidence")
	svc := vault.New(b.Storage(), signer, cfg)
	ctx := vault.NewContext(context.Background(), vault.Identity{Tenant: "acme", Subject: "alice@acme.example", Role: vault.RoleUploader})
	yes, no := true, false
	d, err := svc.CreateDossier(ctx, vault.DossierInput{Name: "Device", BasicUDIDI: "12345ANJ", Regulation: regulation.MDR, RiskClass: "IIb",
		Implantable: &no, HighRiskAI: &yes, NotifiedBody: "0197"})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("software validation report\n")
	sum := sha256.Sum256(body)
	tk, err := svc.StartUpload(ctx, d.ID, vault.Document{Path: "tests/sv.txt", Title: "Software validation", Kind: regulation.KindTestReport,
		Section: "MDR-II-6.1", Revision: "A", Language: "en", EffectiveDate: "2026-11-01", Author: "QA",
		File: vault.File{Name: "sv.txt", Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), ContentType: "text/plain"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Send(tk.Upload, body); err != nil {
		t.Fatal(err)
	}
	r, err := svc.Complete(ctx, tk.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	return sealed{r: r, body: body, signer: signer, authority: a}
}

// verifier is sigstore-go's, trusting the vault's key and the
// authorities of trustedRoot, requiring threshold signed timestamps.
func verifier(t *testing.T, s sealed, trustedRoot []byte, threshold int) *verify.Verifier {
	t.Helper()
	tr, err := root.NewTrustedRootFromJSON(trustedRoot)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := signature.LoadECDSAVerifier(s.signer.Public().(*ecdsa.PublicKey), crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	keys := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return root.NewExpiringKey(sv, time.Time{}, time.Time{}), nil
	})
	var opts []verify.VerifierOption
	if threshold > 0 {
		opts = append(opts, verify.WithSignedTimestamps(threshold))
	} else {
		opts = append(opts, verify.WithNoObserverTimestamps())
	}
	v, err := verify.NewVerifier(root.TrustedMaterialCollection{tr, keys}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func load(t *testing.T, data []byte) *sgbundle.Bundle {
	t.Helper()
	var b sgbundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		t.Fatalf("sigstore-go refuses the bundle: %v\n%s", err, data)
	}
	return &b
}

func trustedRoot(t *testing.T, a *devtsa.Authority) []byte {
	t.Helper()
	tr, err := sigstore.TrustedRoot(sigstore.Authority{Chain: []*x509.Certificate{a.Leaf(), a.Root()}, URI: "http://127.0.0.1/dev-tsa"})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func digest(body []byte) []byte { s := sha256.Sum256(body); return s[:] }

func TestSigstoreVerifiesReceipt(t *testing.T) {
	s := seal(t, true)
	data, err := sigstore.Bundle(s.r.Envelope, s.r.Timestamps)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), sigstore.BundleMediaType) {
		t.Fatalf("no media type in\n%s", data)
	}
	v := verifier(t, s, trustedRoot(t, s.authority), 1)
	res, err := v.Verify(load(t, data), verify.NewPolicy(verify.WithArtifactDigest("sha256", digest(s.body)), verify.WithKey()))
	if err != nil {
		t.Fatalf("sigstore-go: %v", err)
	}
	if len(res.VerifiedTimestamps) != 1 || res.VerifiedTimestamps[0].Type != "TimestampAuthority" {
		t.Errorf("got timestamps %+v, want the authority's", res.VerifiedTimestamps)
	}
	if res.Statement == nil || res.Statement.PredicateType != vault.PredicateType {
		t.Errorf("got statement %+v, want the receipt's", res.Statement)
	}
}

func TestSigstoreRefuses(t *testing.T) {
	s := seal(t, true)
	data, err := sigstore.Bundle(s.r.Envelope, s.r.Timestamps)
	if err != nil {
		t.Fatal(err)
	}
	tr := trustedRoot(t, s.authority)
	policy := verify.NewPolicy(verify.WithArtifactDigest("sha256", digest(s.body)), verify.WithKey())
	other, err := devtsa.New(devtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	unstamped, err := sigstore.Bundle(s.r.Envelope, nil)
	if err != nil {
		t.Fatal(err)
	}
	altered := *s.r.Envelope
	altered.Payload = strings.Replace(altered.Payload, altered.Payload[40:44], "AAAA", 1)
	alteredData, err := sigstore.Bundle(&altered, s.r.Timestamps)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		bundle []byte
		root   []byte
		policy verify.PolicyBuilder
	}{
		{"another file", data, tr, verify.NewPolicy(verify.WithArtifactDigest("sha256", digest([]byte("other"))), verify.WithKey())},
		{"another authority trusted", data, trustedRoot(t, other), policy},
		{"no timestamp", unstamped, tr, policy},
		{"an altered statement", alteredData, tr, policy},
	} {
		if _, err := verifier(t, s, tc.root, 1).Verify(load(t, tc.bundle), tc.policy); err == nil {
			t.Errorf("%s: sigstore-go verified it", tc.name)
		}
	}
	// Without a timestamp the bundle still verifies where none is required.
	if _, err := verifier(t, s, tr, 0).Verify(load(t, unstamped), policy); err != nil {
		t.Errorf("unstamped, no timestamp required: %v", err)
	}
}
