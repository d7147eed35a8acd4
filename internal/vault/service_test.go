package vault_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/logging"
	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/vault"
)

func code(err error) vault.Code {
	if err == nil {
		return ""
	}
	return vault.ErrorCode(err)
}

func TestSealIssuesLockedSignedReceipt(t *testing.T) {
	f := setup(t, vault.Config{})
	body := []byte("usability validation summary\n")
	before := time.Now().UTC().Add(-time.Second)
	r := f.sealed(t, "usability/summary.txt", body)
	p := r.Predicate
	doc := document("usability/summary.txt", body)

	if r.Subject.Name != doc.Path || r.Subject.Digest["sha256"] != doc.File.SHA256 {
		t.Errorf("got subject %+v, want %s with the file's sha256", r.Subject, doc.Path)
	}
	if p.Tenant != "acme" || p.Dossier.ID != f.dossier.ID || p.Dossier.BasicUDIDI != udiA || p.Version != 1 || p.Supersedes != nil {
		t.Errorf("got predicate %+v", p)
	}
	if p.Uploader != (vault.Principal{Tenant: "acme", Subject: alice.Subject, Role: vault.RoleUploader}) {
		t.Errorf("got uploader %+v", p.Uploader)
	}
	if p.Storage.Bucket != f.store.Bucket() || p.Storage.Size != int64(len(body)) || p.Storage.ContentType != "text/plain" || p.Storage.VersionID == "" {
		t.Errorf("got storage %+v", p.Storage)
	}
	if p.ReceivedAt.Before(before) || p.ReceivedAt.Location() != time.UTC {
		t.Errorf("got receivedAt %v, want a UTC time after %v", p.ReceivedAt, before)
	}
	wantUntil := p.SealedAt.Truncate(time.Second).AddDate(regulation.RetentionYears, 0, 0)
	if p.Retention.Mode != vault.Compliance || !p.Retention.RetainUntil.Equal(wantUntil) {
		t.Errorf("got retention %+v, want COMPLIANCE until %v", p.Retention, wantUntil)
	}
	info, err := f.store.Stat(context.Background(), p.Storage.Key, p.Storage.VersionID)
	if err != nil {
		t.Fatal(err)
	}
	if info.LockMode != vault.Compliance || info.RetainUntil.Before(wantUntil) {
		t.Errorf("stored version locked %s until %v, want COMPLIANCE until %v", info.LockMode, info.RetainUntil, wantUntil)
	}
	// The receipt object itself is locked as long as the evidence.
	ids, _ := f.store.Versions(context.Background(), "vault/acme/receipts/"+p.ReceiptID+".json")
	rinfo, err := f.store.Stat(context.Background(), "vault/acme/receipts/"+p.ReceiptID+".json", ids[0])
	if err != nil || rinfo.LockMode != vault.Compliance || rinfo.RetainUntil.Before(wantUntil) {
		t.Errorf("receipt object lock: got %s until %v (%v)", rinfo.LockMode, rinfo.RetainUntil, err)
	}

	data, _ := receipt.Marshal(r.Envelope)
	v, err := f.svc.Verify(as(alice), data, doc.File.SHA256, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Valid {
		t.Errorf("fresh receipt does not verify: %+v", v.Checks)
	}
}

func TestImplantableRetention(t *testing.T) {
	f := setup(t, vault.Config{})
	d, err := f.svc.CreateDossier(as(alice), dossierInput(udiB, true))
	if err != nil {
		t.Fatal(err)
	}
	if d.RetentionYears != 15 {
		t.Errorf("got %d retention years, want 15 for an implantable", d.RetentionYears)
	}
	f.dossier = d
	r := f.sealed(t, "implant/biocompat.txt", []byte("ISO 10993-1 evaluation"))
	if got, want := r.Predicate.Retention.RetainUntil, r.Predicate.SealedAt.Truncate(time.Second).AddDate(15, 0, 0); !got.Equal(want) {
		t.Errorf("got retain until %v, want %v", got, want)
	}
}

func TestCompleteIsIdempotent(t *testing.T) {
	f := setup(t, vault.Config{})
	body := []byte("first")
	tk, err := f.svc.StartUpload(as(alice), f.dossier.ID, document("a/b.txt", body))
	if err != nil {
		t.Fatal(err)
	}
	f.put(t, tk, body)

	// Complete from several clients and the seal trigger at once: one
	// receipt, one version, byte for byte the same answer.
	const n = 8
	receipts := make([]*vault.Receipt, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if i%2 == 0 {
				receipts[i], errs[i] = f.svc.Complete(as(alice), tk.UploadID)
			} else {
				receipts[i], errs[i] = f.svc.SealObject(context.Background(), "evidence/acme/"+f.dossier.ID+"/a/b.txt", versionOf(t, f, "evidence/acme/"+f.dossier.ID+"/a/b.txt"))
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("sealer %d: %v", i, errs[i])
		}
		if receipts[i].Envelope.Signatures[0].Sig != receipts[0].Envelope.Signatures[0].Sig {
			t.Errorf("sealer %d got another receipt", i)
		}
	}
	versions, err := f.svc.Versions(as(alice), f.dossier.ID, "a/b.txt")
	if err != nil || len(versions) != 1 {
		t.Fatalf("got %d versions (%v), want 1", len(versions), err)
	}
	again, err := f.svc.Complete(as(alice), tk.UploadID)
	if err != nil || again.Envelope.Signatures[0].Sig != receipts[0].Envelope.Signatures[0].Sig {
		t.Errorf("retry: got another receipt (%v)", err)
	}
}

func versionOf(t *testing.T, f fixture, key string) string {
	t.Helper()
	ids, err := f.store.Versions(context.Background(), key)
	if err != nil || len(ids) == 0 {
		t.Fatalf("versions of %s: %v %v", key, ids, err)
	}
	return ids[0]
}

func TestVersionsChainInSealOrder(t *testing.T) {
	f := setup(t, vault.Config{})
	var prev *vault.Receipt
	for i := 1; i <= 3; i++ {
		r := f.sealed(t, "risk/fmea.txt", []byte(fmt.Sprintf("FMEA revision %d", i)))
		if r.Predicate.Version != i {
			t.Errorf("got version %d, want %d", r.Predicate.Version, i)
		}
		if prev == nil && r.Predicate.Supersedes != nil {
			t.Errorf("first version supersedes %+v", r.Predicate.Supersedes)
		}
		if prev != nil {
			want := vault.VersionRef{Version: i - 1, ReceiptID: prev.Predicate.ReceiptID, SHA256: prev.Subject.Digest["sha256"], VersionID: prev.Predicate.Storage.VersionID}
			if r.Predicate.Supersedes == nil || *r.Predicate.Supersedes != want {
				t.Errorf("version %d supersedes %+v, want %+v", i, r.Predicate.Supersedes, want)
			}
		}
		prev = r
	}
	f.sealed(t, "design/spec.txt", []byte("spec"))
	docs, err := f.svc.Documents(as(alice), f.dossier.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].Document.Path != "design/spec.txt" || docs[1].Document.Path != "risk/fmea.txt" || docs[1].Version != 3 {
		t.Errorf("got documents %v, want design/spec.txt v1 and risk/fmea.txt v3", summary(docs))
	}
	versions, err := f.svc.Versions(as(alice), f.dossier.ID, "risk/fmea.txt")
	if err != nil || len(versions) != 3 {
		t.Fatalf("got %d versions (%v)", len(versions), err)
	}
	for i, v := range versions {
		if v.Version != i+1 || v.ReceiptID == "" {
			t.Errorf("versions[%d] = %+v", i, v)
		}
	}
}

func summary(vs []vault.Version) []string {
	var out []string
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%s v%d", v.Document.Path, v.Version))
	}
	return out
}

func TestConcurrentVersionsOfOneDocument(t *testing.T) {
	f := setup(t, vault.Config{})
	const n = 6
	tickets := make([]vault.Ticket, n)
	for i := range n {
		body := []byte(fmt.Sprintf("clinical data set, batch %d", i))
		tk, err := f.svc.StartUpload(as(alice), f.dossier.ID, document("clinical/data.txt", body))
		if err != nil {
			t.Fatal(err)
		}
		f.put(t, tk, body)
		tickets[i] = tk
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = f.svc.Complete(as(alice), tickets[i].UploadID) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("complete %d: %v", i, err)
		}
	}
	versions, err := f.svc.Versions(as(alice), f.dossier.ID, "clinical/data.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != n {
		t.Fatalf("got %d versions, want %d", len(versions), n)
	}
	uploads := map[string]bool{}
	for i, v := range versions {
		uploads[v.UploadID] = true
		if v.Version != i+1 {
			t.Errorf("versions[%d] is version %d", i, v.Version)
		}
		if i > 0 && (v.Supersedes == nil || v.Supersedes.ReceiptID != versions[i-1].ReceiptID) {
			t.Errorf("version %d supersedes %+v, want receipt %s", v.Version, v.Supersedes, versions[i-1].ReceiptID)
		}
	}
	if len(uploads) != n {
		t.Errorf("got %d distinct uploads in the chain, want %d", len(uploads), n)
	}
}

func TestCompleteBeforeBytesArrive(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	f := setup(t, vault.Config{Now: clock})
	tk, err := f.svc.StartUpload(as(alice), f.dossier.ID, document("late.txt", []byte("late")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Complete(as(alice), tk.UploadID); code(err) != vault.CodeNotUploaded {
		t.Errorf("complete before PUT: got %v, want %s", err, vault.CodeNotUploaded)
	}
	now = now.Add(16 * time.Minute)
	if _, err := f.svc.Complete(as(alice), tk.UploadID); code(err) != vault.CodeExpired {
		t.Errorf("complete after expiry: got %v, want %s", err, vault.CodeExpired)
	}
	if keys, _ := f.store.List(context.Background(), "vault/acme/receipts/"); len(keys) != 0 {
		t.Errorf("failed completes left receipts: %v", keys)
	}
}

func TestTenantsCannotSeeEachOther(t *testing.T) {
	f := setup(t, vault.Config{})
	r := f.sealed(t, "secret/plan.txt", []byte("acme's plan"))
	tk, err := f.svc.StartUpload(as(alice), f.dossier.ID, document("secret/next.txt", []byte("next")))
	if err != nil {
		t.Fatal(err)
	}
	evil := as(mallory)
	checks := map[string]error{}
	_, checks["dossier"] = f.svc.Dossier(evil, f.dossier.ID)
	_, checks["documents"] = f.svc.Documents(evil, f.dossier.ID)
	_, checks["versions"] = f.svc.Versions(evil, f.dossier.ID, "secret/plan.txt")
	_, checks["download"] = f.svc.Download(evil, f.dossier.ID, "secret/plan.txt", 0)
	_, checks["receipt"] = f.svc.Receipt(evil, r.Predicate.ReceiptID)
	_, checks["complete"] = f.svc.Complete(evil, tk.UploadID)
	_, checks["upload"] = f.svc.StartUpload(evil, f.dossier.ID, document("x.txt", []byte("x")))
	for what, err := range checks {
		if code(err) != vault.CodeNotFound {
			t.Errorf("%s across tenants: got %v, want %s", what, err, vault.CodeNotFound)
		}
	}
	if ds, err := f.svc.ListDossiers(evil); err != nil || len(ds) != 0 {
		t.Errorf("list across tenants: got %v, %v", ds, err)
	}
	// Verifying acme's receipt as another tenant checks the signature but
	// does not reveal whether the version is still stored.
	data, _ := receipt.Marshal(r.Envelope)
	v, err := f.svc.Verify(evil, data, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range v.Checks {
		if (c.Name == vault.CheckDigest || c.Name == vault.CheckLocked) && !c.Skipped {
			t.Errorf("check %s ran for another tenant: %+v", c.Name, c)
		}
	}
}

func TestAuditorsReadOnlyWhatTheyAreGranted(t *testing.T) {
	f := setup(t, vault.Config{})
	other, err := f.svc.CreateDossier(as(bob), dossierInput(udiB, false))
	if err != nil {
		t.Fatal(err)
	}
	f.sealed(t, "a.txt", []byte("a"))
	auditor := as(vault.Identity{Tenant: "acme", Subject: "auditor@nb.example", Role: vault.RoleAuditor, Dossiers: []string{f.dossier.ID}})

	ds, err := f.svc.ListDossiers(auditor)
	if err != nil || len(ds) != 1 || ds[0].ID != f.dossier.ID {
		t.Errorf("auditor lists %v (%v), want only %s", ds, err, f.dossier.ID)
	}
	if _, err := f.svc.Download(auditor, f.dossier.ID, "a.txt", 1); err != nil {
		t.Errorf("auditor download of a granted dossier: %v", err)
	}
	if _, err := f.svc.Dossier(auditor, other.ID); code(err) != vault.CodeNotFound {
		t.Errorf("ungranted dossier: got %v, want not found", err)
	}
	if _, err := f.svc.StartUpload(auditor, f.dossier.ID, document("b.txt", []byte("b"))); code(err) != vault.CodeForbidden {
		t.Errorf("auditor upload: got %v, want forbidden", err)
	}
	if _, err := f.svc.CreateDossier(auditor, dossierInput("12345678901234567890123NT", false)); code(err) != vault.CodeForbidden {
		t.Errorf("auditor creates a dossier: got %v, want forbidden", err)
	}
}

func TestDossierPerBasicUDIDI(t *testing.T) {
	f := setup(t, vault.Config{})
	_, err := f.svc.CreateDossier(as(bob), dossierInput(udiA, false))
	var ve *vault.Error
	if !errors.As(err, &ve) || ve.Code != vault.CodeConflict || !strings.Contains(ve.Message, f.dossier.ID) {
		t.Errorf("second dossier for one device: got %v, want a conflict naming %s", err, f.dossier.ID)
	}
	// Another tenant may hold the same device model.
	if _, err := f.svc.CreateDossier(as(mallory), dossierInput(udiA, false)); err != nil {
		t.Errorf("same UDI in another tenant: %v", err)
	}
}

func TestDocumentMustFitDossier(t *testing.T) {
	svc := setup(t, vault.Config{}).svc
	in := dossierInput(udiB, false)
	in.HighRiskAI = no()
	d, err := svc.CreateDossier(as(alice), in)
	if err != nil {
		t.Fatal(err)
	}
	doc := document("ai/model-card.txt", []byte("x"))
	doc.Kind, doc.Section = regulation.KindAIActTechnicalDocumentation, "AIA-IV-2"
	_, err = svc.StartUpload(as(alice), d.ID, doc)
	var ve *vault.Error
	if !errors.As(err, &ve) || ve.Code != vault.CodeInvalid || len(ve.Fields) != 2 {
		t.Errorf("AI Act documentation in a non-AI dossier: got %v, want 2 invalid fields", err)
	}
}

func TestVerifyNamesEachCheck(t *testing.T) {
	f := setup(t, vault.Config{})
	body := []byte("performance evaluation")
	r := f.sealed(t, "perf.txt", body)
	good, _ := receipt.Marshal(r.Envelope)
	sum := sha256.Sum256(body)

	altered := func() []byte {
		env := *r.Envelope
		raw, _ := base64.StdEncoding.DecodeString(env.Payload)
		env.Payload = base64.StdEncoding.EncodeToString(bytes.Replace(raw, []byte(`"version":1`), []byte(`"version":2`), 1))
		b, _ := receipt.Marshal(&env)
		return b
	}()
	forged := func() []byte {
		st := receipt.Statement{Subject: []receipt.Subject{{Name: r.Subject.Name, Digest: r.Subject.Digest}}, PredicateType: vault.PredicateType}
		payload, _ := r.Envelope.DecodeB64Payload()
		var whole struct {
			Predicate json.RawMessage `json:"predicate"`
		}
		json.Unmarshal(payload, &whole)
		st.Predicate = whole.Predicate
		env, err := receipt.Sign(context.Background(), st, newSigner(t))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := receipt.Marshal(env)
		return b
	}()
	tests := []struct {
		name   string
		data   []byte
		sha    string
		failed []string
	}{
		{"genuine", good, hex.EncodeToString(sum[:]), nil},
		{"genuine, no file", good, "", nil},
		{"other file", good, strings.Repeat("0", 64), []string{vault.CheckFile}},
		{"altered", altered, "", []string{vault.CheckSignature}},
		{"forged with an unknown key", forged, "", []string{vault.CheckKeyKnown}},
		{"not a receipt", []byte(`{"hello":"world"}`), "", []string{vault.CheckFormat}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := f.svc.Verify(as(alice), tt.data, tt.sha, nil)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, c := range v.Checks {
				if !c.Passed && !c.Skipped {
					failed = append(failed, c.Name)
				}
			}
			if strings.Join(failed, ",") != strings.Join(tt.failed, ",") {
				t.Errorf("got failed checks %v, want %v: %+v", failed, tt.failed, v.Checks)
			}
			if v.Valid != (tt.failed == nil) {
				t.Errorf("got valid %v, want %v", v.Valid, tt.failed == nil)
			}
		})
	}
}

// TestKeyRotation: a rotation is a log entry signed by both keys; after it
// both keys are listed, receipts of either verify, each key only for its
// span of the log, and a vault with a key the log cannot lead to refuses to
// sign into it.
func TestKeyRotation(t *testing.T) {
	store := memstore.New("evidence")
	k1, k2 := newSigner(t), newSigner(t)
	first := newService(store, k1, vault.Config{})
	d, err := first.CreateDossier(as(alice), dossierInput(udiA, false))
	if err != nil {
		t.Fatal(err)
	}
	old := fixture{svc: first, store: store, dossier: d}.sealed(t, "a.txt", []byte("signed by the first key"))

	second := newService(store, k2, vault.Config{Previous: k1})
	keys, err := second.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].KeyID != k2.Key().ID || !keys[0].Current || keys[1].KeyID != k1.Key().ID || keys[1].Current {
		t.Fatalf("got keys %+v, want the rotated one current, then the one it replaces", keys)
	}
	newer := fixture{svc: second, store: store, dossier: d}.sealed(t, "b.txt", []byte("signed by the second key"))
	if old.Log.Index != 1 || newer.Log.Index != 3 {
		t.Errorf("got receipts at %d and %d, want 1 and 3 (genesis at 0, the rotation at 2)", old.Log.Index, newer.Log.Index)
	}
	for name, r := range map[string]*vault.Receipt{"old": old, "new": newer} {
		data, _ := json.Marshal(r.Bundle())
		v, err := second.Verify(as(alice), data, "", nil)
		if err != nil || !v.Valid {
			t.Errorf("%s receipt after the rotation: %+v %v", name, v, err)
		}
	}
	// The history leads from either key to the other, and from no other.
	kl, err := second.KeyHistory(as(alice), 0)
	if err != nil || len(kl.Events) != 2 {
		t.Fatalf("key history: got %+v, %v; want genesis and rotation", kl, err)
	}
	h := kl.Events
	origin := vault.LogOrigin(store.Bucket(), "acme")
	cp, err := ledger.OpenCheckpoint([]byte(kl.Checkpoint), origin, receipt.PublicKeys([]receipt.Key{k2.Key()}))
	if err != nil {
		t.Fatal(err)
	}
	for _, pinned := range []*receipt.LocalSigner{k1, k2} {
		tr, err := h.Trust(context.Background(), origin, pinned.Key(), &cp)
		if err != nil || len(tr.Keys) != 2 || !tr.Allows(k1.Key().ID, 1) || tr.Allows(k1.Key().ID, 3) || !tr.Allows(k2.Key().ID, 3) {
			t.Errorf("trust from %s: got %+v, %v", pinned.Key().ID, tr, err)
		}
	}
	var untrusted *vault.UntrustedKeyError
	if _, err := h.Trust(context.Background(), origin, newSigner(t).Key(), nil); !errors.As(err, &untrusted) {
		t.Errorf("trust from another key: got %v, want an UntrustedKeyError", err)
	}
	// The retired key signing after its rotation: refused, though its
	// signature holds.
	st := receipt.Statement{Subject: []receipt.Subject{newer.Subject}, PredicateType: vault.PredicateType}
	payload, _ := newer.Envelope.DecodeB64Payload()
	var whole struct {
		Predicate json.RawMessage `json:"predicate"`
	}
	json.Unmarshal(payload, &whole)
	st.Predicate = whole.Predicate
	late, _ := receipt.Sign(context.Background(), st, k1)
	lateEnv, _ := json.Marshal(late)
	lateBundle, _ := json.Marshal(vault.Bundle{Envelope: lateEnv, Log: newer.Log})
	if v, _ := second.Verify(as(alice), lateBundle, "", nil); v.Valid || v.Checks[1].Name != vault.CheckKeyKnown || v.Checks[1].Passed {
		t.Errorf("a receipt the retired key signed after its rotation: got %+v", v.Checks)
	}
	// A vault whose key the log cannot lead to refuses to sign into it.
	third := newService(store, newSigner(t), vault.Config{})
	_, err = third.StartUpload(as(alice), d.ID, document("c.txt", []byte("c")))
	if code(err) != vault.CodeTampered || !strings.Contains(err.Error(), "VAULT_PREVIOUS_SIGNING_KEY") {
		t.Errorf("sealing with an unrelated key: got %v, want a refusal naming the previous key setting", err)
	}
}

func TestGovernanceModeForDevelopment(t *testing.T) {
	f := setup(t, vault.Config{LockMode: vault.Governance})
	r := f.sealed(t, "dev.txt", []byte("dev"))
	info, err := f.store.Stat(context.Background(), r.Predicate.Storage.Key, r.Predicate.Storage.VersionID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Predicate.Retention.Mode != vault.Governance || info.LockMode != vault.Governance {
		t.Errorf("got receipt mode %s, stored mode %s; want GOVERNANCE", r.Predicate.Retention.Mode, info.LockMode)
	}
}

func TestDownloadIsLogged(t *testing.T) {
	var logs bytes.Buffer
	f := setup(t, vault.Config{Logger: logging.New(&logs, 0)})
	r := f.sealed(t, "cer.txt", []byte("clinical evaluation report"))
	auditor := vault.Identity{Tenant: "acme", Subject: "auditor@nb0197.example", Role: vault.RoleAuditor, Dossiers: []string{vault.AllDossiers}}
	ctx := logging.WithRequestID(as(auditor), "req-42")
	d, err := f.svc.Download(ctx, f.dossier.ID, "cer.txt", 1)
	if err != nil {
		t.Fatal(err)
	}
	if d.Version.VersionID != r.Predicate.Storage.VersionID || d.Download.Method != http.MethodGet || d.Receipt.Predicate.ReceiptID != r.Predicate.ReceiptID {
		t.Errorf("got download %+v", d)
	}
	var event struct {
		Msg   string `json:"msg"`
		Event string `json:"event"`
		Who   struct{ Tenant, Subject, Role string }
		What  struct {
			Dossier, Path, VersionID, ReceiptID string
			Version                             int
		}
		When      time.Time
		RequestID string
	}
	found := false
	for _, line := range strings.Split(logs.String(), "\n") {
		if json.Unmarshal([]byte(line), &event) == nil && event.Msg == "access" {
			found = true
			break
		}
	}
	if !found {
		t.Fatalf("no access event in the logs:\n%s", logs.String())
	}
	if event.Event != "download" || event.Who.Subject != auditor.Subject || event.Who.Role != "auditor" ||
		event.What.VersionID != r.Predicate.Storage.VersionID || event.What.Version != 1 || event.What.ReceiptID != r.Predicate.ReceiptID ||
		event.When.IsZero() || event.RequestID != "req-42" {
		t.Errorf("got access event %+v", event)
	}
	if _, err := f.svc.Download(as(auditor), f.dossier.ID, "cer.txt", 2); code(err) != vault.CodeNotFound {
		t.Errorf("download of a version that does not exist: got %v", err)
	}
}

// TestReceiptVerifiesWithStandardTools runs scripts/verify-receipt.sh, the
// procedure docs/receipt.md gives auditors: openssl, jq and the public key.
func TestReceiptVerifiesWithStandardTools(t *testing.T) {
	for _, tool := range []string{"openssl", "jq", "base64", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to test the documented verification: %v", tool, err)
		}
	}
	f := setup(t, vault.Config{})
	body := []byte("declaration of conformity, signed\n")
	r := f.sealed(t, "doc/declaration.txt", body)
	keys, err := f.svc.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	envelope, _ := receipt.Marshal(r.Envelope)
	good := write("receipt.json", envelope)
	key := write("key.pem", []byte(keys[0].PEM))
	file := write("declaration.txt", body)
	other := write("other.txt", []byte("another file"))
	changed := *r.Envelope
	payload, _ := changed.DecodeB64Payload()
	changed.Payload = base64.StdEncoding.EncodeToString(bytes.Replace(payload, []byte(`"version":1`), []byte(`"version":2`), 1))
	alteredJSON, _ := receipt.Marshal(&changed)
	altered := write("altered.json", alteredJSON)
	stranger, _ := receipt.GenerateKey()
	strangerSigner, _ := receipt.NewLocalSigner(stranger)
	wrongKey := write("wrong.pem", strangerSigner.Key().PEM())

	tests := []struct {
		name string
		args []string
		ok   bool
		say  string
	}{
		{"genuine", []string{good, key, file}, true, "VALID"},
		{"genuine, no file", []string{good, key}, true, "VALID"},
		{"other file", []string{good, key, other}, false, "FAIL file"},
		{"altered receipt", []string{altered, key, file}, false, "FAIL signature"},
		{"another key", []string{good, wrongKey, file}, false, "FAIL key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command("../../scripts/verify-receipt.sh", tt.args...).CombinedOutput()
			if (err == nil) != tt.ok || !strings.Contains(string(out), tt.say) {
				t.Errorf("got %v:\n%s\nwant ok=%v saying %q", err, out, tt.ok, tt.say)
			}
		})
	}
}

// TestDocumentedExample keeps docs/examples, a receipt made by `make run`,
// verifiable both by the vault's code and by the documented script.
func TestDocumentedExample(t *testing.T) {
	read := func(name string) []byte {
		data, err := os.ReadFile("../../docs/examples/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	r, err := vault.OpenReceipt(read("receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := receipt.ParsePublicKey(read("key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := receipt.Verify(context.Background(), r.Envelope, []receipt.Key{key}); err != nil {
		t.Errorf("documented receipt does not verify: %v", err)
	}
	sum := sha256.Sum256(read("software-validation.txt"))
	if r.Subject.Digest["sha256"] != hex.EncodeToString(sum[:]) {
		t.Error("documented file is not the one the documented receipt names")
	}
	out, err := exec.Command("../../scripts/verify-receipt.sh", "../../docs/examples/receipt.json",
		"../../docs/examples/key.pem", "../../docs/examples/software-validation.txt").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "VALID") {
		t.Errorf("script on the documented example: %v\n%s", err, out)
	}
}

// TestClaimsDoNotTrustInstanceClocks: an instance whose clock runs five
// minutes slow seals a version; another instance's retry of that upload
// answers with the same receipt and adds no chain entry. Which entries can
// be a session's own is decided by storage's clock alone.
func TestClaimsDoNotTrustInstanceClocks(t *testing.T) {
	store := memstore.New("evidence")
	signer := newSigner(t)
	slow := newService(store, signer, vault.Config{Now: func() time.Time { return time.Now().Add(-5 * time.Minute) }})
	right := newService(store, signer, vault.Config{})
	d, err := right.CreateDossier(as(alice), dossierInput(udiA, false))
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{svc: right, store: store, dossier: d}
	f.sealed(t, "a.txt", []byte("version 1"))
	body := []byte("version 2, sealed by the slow instance")
	tk, err := right.StartUpload(as(alice), d.ID, document("a.txt", body))
	if err != nil {
		t.Fatal(err)
	}
	f.put(t, tk, body)
	first, err := slow.Complete(as(alice), tk.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []*vault.Service{right, slow} {
		again, err := svc.Complete(as(alice), tk.UploadID)
		if err != nil || again.Predicate.ReceiptID != first.Predicate.ReceiptID || again.Predicate.Version != 2 {
			t.Errorf("retry: got %+v, %v; want the slow instance's receipt for version 2", again, err)
		}
	}
	vs, err := right.Versions(as(alice), d.ID, "a.txt")
	if err != nil || len(vs) != 2 {
		t.Errorf("got %d versions, %v; want 2", len(vs), err)
	}
	latest, err := right.Download(as(alice), d.ID, "a.txt", 0)
	if err != nil || latest.Version.SHA256 != first.Subject.Digest["sha256"] {
		t.Errorf("latest: got %+v, %v; want the slow instance's version", latest, err)
	}
	if rep, err := right.Audit(as(bob)); err != nil || !rep.OK() {
		t.Errorf("audit: %+v, %v", rep, err)
	}
}

// TestMeOfAnAuditorWhoseTokenNamesATenant: GET /v1/me tells an auditor
// where they may act, even when the tenant their token names granted them
// nothing: it lists the grants other tenants gave them.
func TestMeOfAnAuditorWhoseTokenNamesATenant(t *testing.T) {
	f := setup(t, vault.Config{})
	if _, err := f.svc.CreateDossier(as(mallory), dossierInput(udiB, false)); err != nil {
		t.Fatal(err)
	}
	until := time.Now().AddDate(0, 1, 0)
	if _, err := f.svc.CreateGrant(as(mallory), vault.GrantInput{Grantee: &vault.Grantee{Email: "nora@nb0197.example"}, Dossiers: []string{vault.AllDossiers}, Until: &until}); err != nil {
		t.Fatal(err)
	}
	nora, err := vault.NewIdentity("acme", "nora-sub", string(vault.RoleAuditor), "nora@nb0197.example")
	if err != nil {
		t.Fatal(err)
	}
	me, err := f.svc.WhoAmI(as(nora))
	if err != nil {
		t.Fatalf("WhoAmI of an auditor whose token names acme, which granted nothing: %v", err)
	}
	if len(me.Grants) != 1 || me.Grants[0].Tenant != "evil" {
		t.Errorf("got grants %+v, want evil's one", me.Grants)
	}
	// Acting in acme is still refused.
	if _, err := f.svc.ListDossiers(as(nora)); code(err) != vault.CodeForbidden {
		t.Errorf("list acme's dossiers: got %v, want forbidden", err)
	}
}
