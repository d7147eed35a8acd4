package vault_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/evidencevault/vault/internal/devtsa"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/tsa"
	"github.com/evidencevault/vault/internal/vault"
)

// rewritten writes over the record at key a new version whose envelope
// edit changed.
func rewritten(t *testing.T, f fixture, key string, edit func(env *receipt.Envelope)) {
	t.Helper()
	data, ok := f.store.Latest(key)
	if !ok {
		t.Fatalf("no object %s", key)
	}
	var b map[string]json.RawMessage
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	env, _, err := receipt.Parse(b["envelope"])
	if err != nil {
		t.Fatal(err)
	}
	edit(env)
	b["envelope"] = mustJSON(t, env)
	f.store.Overwrite(key, mustJSON(t, b))
}

// twinned writes over the record at key a new version whose envelope
// carries the twin of its signature: what an operator without the key
// can make.
func twinned(t *testing.T, f fixture, key string) {
	t.Helper()
	rewritten(t, f, key, func(env *receipt.Envelope) {
		twin, err := receipt.TwinSignature(signatureBytes(t, env))
		if err != nil {
			t.Fatal(err)
		}
		env.Signatures[0].Sig = base64.StdEncoding.EncodeToString(twin)
	})
}

// clockedAuthority is a development authority whose clock the test sets,
// and a client of it.
func clockedAuthority(t *testing.T) (*clock, *tsa.Client, tsa.Trust) {
	t.Helper()
	c := &clock{t: time.Now()}
	a, err := devtsa.New(devtsa.Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	trust := tsa.Trust{Roots: []*x509.Certificate{a.Root()}, Policy: devtsa.Policy}
	cl, err := tsa.New(tsa.Config{URL: srv.URL, Trust: trust, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c, cl, trust
}

// TestTwinSignatureCannotRedateAReceipt: a year after a receipt was
// sealed and timestamped, the operator writes the twin of its signature
// over it. Nothing the vault serves may then carry a timestamp of that
// later day: the receipt is served with its own signature and token, and
// no new token is asked for.
func TestTwinSignatureCannotRedateAReceipt(t *testing.T) {
	later, authority, trust := clockedAuthority(t)
	f := setup(t, vault.Config{Timestamps: authority})
	r := f.sealed(t, "tests/a.txt", []byte("report a"))
	sig := signatureBytes(t, r.Envelope)
	sealed, err := trust.Verify(r.Timestamps[0], sig)
	if err != nil {
		t.Fatal(err)
	}
	later.add(365 * 24 * time.Hour)
	id := r.Predicate.ReceiptID
	twinned(t, f, "vault/acme/receipts/"+id+".json")

	served, err := f.svc.Receipt(as(alice), id)
	if err != nil {
		t.Fatal(err)
	}
	if got := signatureBytes(t, served.Envelope); string(got) != string(sig) {
		t.Errorf("served the twin signature, want the one sealed")
	}
	if len(served.Timestamps) != 1 {
		t.Fatalf("got %d timestamps, want 1", len(served.Timestamps))
	}
	st, err := trust.Verify(served.Timestamps[0], signatureBytes(t, served.Envelope))
	if err != nil {
		t.Fatalf("the served timestamp does not cover the served signature: %v", err)
	}
	if !st.Time.Equal(sealed.Time) {
		t.Errorf("got a timestamp at %s, want the seal's, %s", st.Time, sealed.Time)
	}
	v, err := f.svc.Verify(as(alice), mustJSON(t, served.Bundle()), "", nil)
	if err != nil || !v.Valid {
		t.Errorf("served receipt: got %+v (%v), want valid", v, err)
	}
	// The sweep finds it stamped: it asks for nothing either.
	stamped, pending, err := f.svc.StampPending(context.Background(), "acme")
	if err != nil || stamped != 0 || pending != 0 {
		t.Errorf("sweep: got %d stamped, %d pending (%v), want none", stamped, pending, err)
	}
	if got := f.store.VersionCount("vault/acme/timestamps/" + id + ".tsr"); got != 1 {
		t.Errorf("got %d versions of the timestamp, want the seal's alone", got)
	}
}

// TestTwinSignatureCannotRedateASubmission: the same over a submission's
// signed record, whose timestamp proves when the dossier was submitted.
func TestTwinSignatureCannotRedateASubmission(t *testing.T) {
	later, authority, _ := clockedAuthority(t)
	f := setup(t, vault.Config{Timestamps: authority})
	f.sealed(t, "a.txt", []byte("a"))
	sub, err := f.svc.Submit(as(alice), f.dossier.ID, vault.SubmissionInput{NotifiedBody: "0197", Date: time.Now().UTC().Format(time.DateOnly)})
	if err != nil {
		t.Fatal(err)
	}
	env, _, err := receipt.Parse(sub.Record.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	sig := signatureBytes(t, env)
	later.add(365 * 24 * time.Hour)
	twinned(t, f, "vault/acme/lifecycle/"+f.dossier.ID+"/"+sub.ID+".json")

	got, err := f.svc.SubmissionOf(as(alice), f.dossier.ID, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	served, _, err := receipt.Parse(got.Record.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	if string(signatureBytes(t, served)) != string(sig) {
		t.Errorf("served the twin signature, want the one submitted")
	}
	if len(got.Record.Timestamps) != 1 || string(got.Record.Timestamps[0]) != string(sub.Record.Timestamps[0]) {
		t.Errorf("got %d timestamps, want the submission's own", len(got.Record.Timestamps))
	}
}

// TestExtraSignatureCannotRedate: the operator writes over a timestamped
// receipt, and over a submission's record, the envelope with a signature
// of no key put before the vault's own. What is served is the vault's
// own, with the seal's token; nothing new is asked of the authority.
func TestExtraSignatureCannotRedate(t *testing.T) {
	later, authority, _ := clockedAuthority(t)
	f := setup(t, vault.Config{Timestamps: authority})
	r := f.sealed(t, "tests/a.txt", []byte("report a"))
	sub, err := f.svc.Submit(as(alice), f.dossier.ID, vault.SubmissionInput{NotifiedBody: "0197", Date: time.Now().UTC().Format(time.DateOnly)})
	if err != nil {
		t.Fatal(err)
	}
	later.add(365 * 24 * time.Hour)
	junk := func(env *receipt.Envelope) {
		env.Signatures = append([]dsse.Signature{{KeyID: "nobody", Sig: base64.StdEncoding.EncodeToString([]byte("not a signature"))}}, env.Signatures...)
	}
	id := r.Predicate.ReceiptID
	rewritten(t, f, "vault/acme/receipts/"+id+".json", junk)
	rewritten(t, f, "vault/acme/lifecycle/"+f.dossier.ID+"/"+sub.ID+".json", junk)

	served, err := f.svc.Receipt(as(alice), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(served.Envelope.Signatures) != 1 || len(served.Timestamps) != 1 || string(served.Timestamps[0]) != string(r.Timestamps[0]) {
		t.Errorf("receipt: served %d signatures, %d timestamps; want the vault's one and the seal's token", len(served.Envelope.Signatures), len(served.Timestamps))
	}
	if v, err := f.svc.Verify(as(alice), mustJSON(t, served.Bundle()), "", nil); err != nil || !v.Valid {
		t.Errorf("served receipt: got %+v (%v), want valid", v, err)
	}
	got, err := f.svc.SubmissionOf(as(alice), f.dossier.ID, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	env, _, err := receipt.Parse(got.Record.Envelope)
	if err != nil || len(env.Signatures) != 1 || len(got.Record.Timestamps) != 1 || string(got.Record.Timestamps[0]) != string(sub.Record.Timestamps[0]) {
		t.Errorf("submission: served %v signatures, %d timestamps (%v); want the vault's one and its token", env, len(got.Record.Timestamps), err)
	}
	for _, key := range []string{"vault/acme/timestamps/" + id + ".tsr"} {
		if n := f.store.VersionCount(key); n != 1 {
			t.Errorf("%s: %d versions, want the seal's alone", key, n)
		}
	}
}
