package vault_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/evidencevault/vault/internal/devtsa"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/tsa"
	"github.com/evidencevault/vault/internal/vault"
)

// stamped is a vault whose receipts a development authority timestamps.
type stamped struct {
	fixture
	authority *devtsa.Authority
	trust     tsa.Trust
}

func stampedVault(t *testing.T, vaultClock func() time.Time) stamped {
	t.Helper()
	a, err := devtsa.New(devtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	trust := tsa.Trust{Roots: []*x509.Certificate{a.Root()}, Policy: devtsa.Policy}
	c, err := tsa.New(tsa.Config{URL: srv.URL, Trust: trust, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f := setup(t, vault.Config{Timestamps: c, Now: vaultClock})
	return stamped{fixture: f, authority: a, trust: trust}
}

// verifyBundle checks a served receipt offline, trusting the vault's key
// and the authority.
func (s stamped) verifyBundle(t *testing.T, r *vault.Receipt, require bool) vault.Check {
	t.Helper()
	data, err := json.Marshal(r.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := s.svc.Keys(as(alice))
	if err != nil {
		t.Fatal(err)
	}
	var trusted []receipt.Key
	for _, k := range keys {
		key, err := receipt.ParsePublicKey([]byte(k.PEM))
		if err != nil {
			t.Fatal(err)
		}
		trusted = append(trusted, key)
	}
	trust := vault.TrustKeys("test", trusted...)
	trust.Stamps, trust.RequireStamp = &s.trust, require
	out, _ := vault.VerifyOffline(context.Background(), data, trust, "", -1)
	for _, c := range out.Checks {
		if c.Name == vault.CheckTimestamp {
			if c.Passed != out.Valid && c.Passed {
				t.Errorf("timestamp passed but the verdict is %v: %+v", out.Valid, out.Checks)
			}
			return c
		}
	}
	t.Fatalf("no timestamp check in %+v", out.Checks)
	return vault.Check{}
}

func TestReceiptsAreTimestamped(t *testing.T) {
	s := stampedVault(t, nil)
	r := s.sealed(t, "tests/a.txt", []byte("report a"))
	if len(r.Timestamps) != 1 {
		t.Fatalf("got %d timestamps on the sealed receipt, want 1", len(r.Timestamps))
	}
	if c := s.verifyBundle(t, r, true); !c.Passed || !strings.Contains(c.Detail, "development TSA") {
		t.Fatalf("got %+v, want a timestamp by the development authority", c)
	}
	served, err := s.svc.Receipt(as(alice), r.Predicate.ReceiptID)
	if err != nil {
		t.Fatal(err)
	}
	if len(served.Timestamps) != 1 || string(served.Timestamps[0]) != string(r.Timestamps[0]) {
		t.Fatalf("got %d timestamps served, want the sealed one", len(served.Timestamps))
	}
	v, err := s.svc.Verify(as(alice), mustJSON(t, served.Bundle()), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Valid || !hasPassed(v.Checks, vault.CheckTimestamp) {
		t.Fatalf("POST /v1/verify: got %+v, want valid with the timestamp checked", v.Checks)
	}
	if got := s.authority.Issued(); got != 1 {
		t.Errorf("got %d tokens issued, want 1 (reads use the kept one)", got)
	}
}

func TestTimestampPendingWhileAuthorityDown(t *testing.T) {
	c := &clock{t: time.Now()}
	s := stampedVault(t, c.now)
	s.authority.SetDown(true)
	r := s.sealed(t, "tests/a.txt", []byte("sealed while the authority is down"))
	if len(r.Timestamps) != 0 {
		t.Fatalf("got %d timestamps, want none while the authority is down", len(r.Timestamps))
	}
	if ch := s.verifyBundle(t, r, false); !ch.Passed || !strings.HasPrefix(ch.Detail, "pending") {
		t.Errorf("without a requirement: got %+v, want passed as pending", ch)
	}
	if ch := s.verifyBundle(t, r, true); ch.Passed {
		t.Errorf("with a requirement: got %+v, want a failure", ch)
	}
	second := s.sealed(t, "tests/b.txt", []byte("also sealed while down"))

	// Back up: a read within 30 s of the failure does not wait on the
	// authority again; the sweep stamps what is pending.
	s.authority.SetDown(false)
	if got, err := s.svc.Receipt(as(alice), second.Predicate.ReceiptID); err != nil || len(got.Timestamps) != 0 || !got.Pending {
		t.Fatalf("read just after a failure: got %v timestamps, %v; want none yet", got, err)
	}
	stamped, pending, err := s.svc.StampPending(context.Background(), alice.Tenant)
	if err != nil || stamped != 2 || pending != 0 {
		t.Fatalf("StampPending: got %d stamped, %d pending, %v; want 2, 0", stamped, pending, err)
	}
	again, _, _ := s.svc.StampPending(context.Background(), alice.Tenant)
	if again != 0 {
		t.Errorf("second sweep: got %d stamped, want 0", again)
	}
	got, err := s.svc.Receipt(as(alice), r.Predicate.ReceiptID)
	if err != nil || len(got.Timestamps) != 1 {
		t.Fatalf("got %v, %v, want the late timestamp", got, err)
	}
	if ch := s.verifyBundle(t, got, true); !ch.Passed {
		t.Fatalf("late timestamp: got %+v", ch)
	}

	// A read stamps a pending receipt itself once the failure is old.
	s.authority.SetDown(true)
	third := s.sealed(t, "tests/c.txt", []byte("third"))
	s.authority.SetDown(false)
	c.add(time.Minute)
	if got, err := s.svc.Receipt(as(alice), third.Predicate.ReceiptID); err != nil || len(got.Timestamps) != 1 {
		t.Fatalf("read after the failure aged: got %v, %v, want a timestamp", got, err)
	}
}

func TestPlantedTimestamps(t *testing.T) {
	s := stampedVault(t, nil)
	r := s.sealed(t, "tests/a.txt", []byte("report a"))
	other := s.sealed(t, "tests/b.txt", []byte("report b"))
	stranger, err := devtsa.New(devtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(stranger)
	defer srv.Close()
	sc, err := tsa.New(tsa.Config{URL: srv.URL, Trust: tsa.Trust{Roots: []*x509.Certificate{stranger.Root()}}})
	if err != nil {
		t.Fatal(err)
	}
	sig := signatureBytes(t, r.Envelope)
	strangers, _, err := sc.Stamp(context.Background(), sig)
	if err != nil {
		t.Fatal(err)
	}
	key := "vault/" + alice.Tenant + "/timestamps/" + r.Predicate.ReceiptID + ".tsr"
	for name, plant := range map[string]func(){
		"junk over it":                    func() { s.store.Overwrite(key, []byte("not a token")) },
		"another receipt's token over it": func() { s.store.Overwrite(key, other.Timestamps[0]) },
		"an untrusted authority's token":  func() { s.store.Overwrite(key, strangers) },
		"a delete marker":                 func() { s.store.Hide(key) },
	} {
		plant()
		got, err := s.svc.Receipt(as(alice), r.Predicate.ReceiptID)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got.Timestamps) != 1 || string(got.Timestamps[0]) != string(r.Timestamps[0]) {
			t.Errorf("%s: got %d timestamps, want the vault's own", name, len(got.Timestamps))
		}
	}

	// A presented bundle with a token that is not its own is refused.
	for name, tsr := range map[string][]byte{"another receipt's": other.Timestamps[0], "an untrusted authority's": strangers, "junk": []byte("junk")} {
		forged := *r
		forged.Timestamps = [][]byte{tsr}
		if ch := s.verifyBundle(t, &forged, false); ch.Passed {
			t.Errorf("%s token: got %+v, want refused", name, ch)
		}
	}
}

func TestTimestampContradictsSealedAt(t *testing.T) {
	// The vault's clock runs 10 minutes ahead: it claims to have sealed
	// after the authority saw the signature.
	s := stampedVault(t, func() time.Time { return time.Now().Add(10 * time.Minute) })
	r := s.sealed(t, "tests/a.txt", []byte("report"))
	if ch := s.verifyBundle(t, r, false); ch.Passed || !strings.Contains(ch.Detail, "before the receipt's sealedAt") {
		t.Fatalf("got %+v, want sealedAt contradicted", ch)
	}
}

func signatureBytes(t *testing.T, env *receipt.Envelope) []byte {
	t.Helper()
	data, err := json.Marshal(env.Signatures[0])
	if err != nil {
		t.Fatal(err)
	}
	var sig struct{ Sig []byte }
	if err := json.Unmarshal(data, &sig); err != nil {
		t.Fatal(err)
	}
	return sig.Sig
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func hasPassed(checks []vault.Check, name string) bool {
	for _, c := range checks {
		if c.Name == name {
			return c.Passed
		}
	}
	return false
}

// TestTimestampOverAnotherSignature: whoever holds the key timestamps
// bytes of their own early, then signs a backdated receipt later and puts
// the early bytes in the envelope as a second signature. The timestamp
// must be over the receipt's one signature.
func TestTimestampOverAnotherSignature(t *testing.T) {
	s := stampedVault(t, nil)
	r := s.sealed(t, "tests/a.txt", []byte("report"))
	srv := httptest.NewServer(s.authority)
	defer srv.Close()
	c, err := tsa.New(tsa.Config{URL: srv.URL, Trust: s.trust})
	if err != nil {
		t.Fatal(err)
	}
	early := []byte("bytes timestamped long before")
	tsr, _, err := c.Stamp(context.Background(), early)
	if err != nil {
		t.Fatal(err)
	}
	forged := *r
	env := *r.Envelope
	env.Signatures = append([]dsse.Signature{{KeyID: "x", Sig: base64.StdEncoding.EncodeToString(early)}}, env.Signatures...)
	forged.Envelope, forged.Timestamps = &env, [][]byte{tsr}
	if ch := s.verifyBundle(t, &forged, true); ch.Passed {
		t.Fatalf("got %+v, want refused", ch)
	}
}

// A submission is timestamped like a receipt: a token over its event's
// signature, served with it and kept for later reads.
func TestSubmissionIsTimestamped(t *testing.T) {
	s := stampedVault(t, nil)
	s.sealed(t, "a.txt", []byte("a"))
	sub, err := s.svc.Submit(as(alice), s.dossier.ID, vault.SubmissionInput{NotifiedBody: "0197", Date: time.Now().UTC().Format(time.DateOnly)})
	if err != nil {
		t.Fatal(err)
	}
	env, _, err := receipt.Parse(sub.Record.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	for name, rec := range map[string]*vault.SubmissionRecord{"as submitted": sub, "read back": must(s.svc.SubmissionOf(as(alice), s.dossier.ID, sub.ID))} {
		if rec.Record == nil || len(rec.Record.Timestamps) != 1 {
			t.Fatalf("%s: got %d timestamps, want 1", name, len(rec.Record.Timestamps))
		}
		if _, err := s.trust.Verify(rec.Record.Timestamps[0], sig); err != nil {
			t.Errorf("%s: the timestamp does not cover the event's signature: %v", name, err)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestCompleteAfterTheEventSeal: when the storage event sealed the upload
// before the uploader's complete, the complete's answer still carries the
// receipt's timestamp (the one kept, not a second token), as every later
// read does.
func TestCompleteAfterTheEventSeal(t *testing.T) {
	s := stampedVault(t, nil)
	body := []byte("report sealed by its event")
	tk, err := s.svc.StartUpload(as(alice), s.dossier.ID, document("tests/event.txt", body))
	if err != nil {
		t.Fatal(err)
	}
	s.put(t, tk, body)
	key := "evidence/acme/" + s.dossier.ID + "/tests/event.txt"
	byEvent, err := s.svc.SealObject(context.Background(), key, versionOf(t, s.fixture, key))
	if err != nil {
		t.Fatal(err)
	}
	completed, err := s.svc.Complete(as(alice), tk.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	if completed.Predicate.ReceiptID != byEvent.Predicate.ReceiptID {
		t.Fatalf("complete answered receipt %s, the event sealed %s", completed.Predicate.ReceiptID, byEvent.Predicate.ReceiptID)
	}
	if len(completed.Timestamps) != 1 || string(completed.Timestamps[0]) != string(byEvent.Timestamps[0]) {
		t.Fatalf("complete after the event's seal: got %d timestamps, want the event seal's one", len(completed.Timestamps))
	}
	if c := s.verifyBundle(t, completed, true); !c.Passed {
		t.Errorf("got %+v, want the timestamp to verify", c)
	}
	if got := s.authority.Issued(); got != 1 {
		t.Errorf("got %d tokens issued, want 1", got)
	}
}
