package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/evidencevault/vault/internal/vault"
)

// admin runs tenant demo's regulatory affairs.
var admin = vault.Identity{Tenant: "demo", Subject: "dana@demo.example", Role: vault.RoleAdmin, Name: "Dana Regulatory"}

func pointers(t *testing.T, r response) []string {
	t.Helper()
	var out []string
	for _, e := range r.problem(t).Errors {
		out = append(out, e.Pointer)
	}
	return out
}

func TestLifecycleOverHTTP(t *testing.T) {
	a := newAPI(t, vault.Config{})
	up, adm, aud := a.token(t, uploader), a.token(t, admin), a.token(t, auditor)
	dossier := a.createDossier(t)
	body := []byte("clinical evaluation report\n")
	sum := sha256.Sum256(body)
	sha := hex.EncodeToString(sum[:])
	rb := a.upload(t, dossier, "clinical/cer.txt", body)
	base := "/v1/dossiers/" + dossier

	// Market status: admins only, every bad field at once.
	if r := a.call(t, "PUT", base+"/market", up, map[string]any{"firstPlacedOnMarket": "2026-03-02"}); r.status != http.StatusForbidden {
		t.Errorf("uploader sets market: got %d %s", r.status, r.body)
	}
	if r := a.call(t, "PUT", base+"/market", adm, map[string]any{"firstPlacedOnMarket": "2026-13-01", "reason": 7}); r.status != http.StatusBadRequest ||
		!slices.Contains(pointers(t, r), "/reason") || !slices.Contains(pointers(t, r), "/firstPlacedOnMarket") {
		t.Errorf("bad market body: got %d %s, want both fields named", r.status, r.body)
	}
	var st vault.DossierState
	r := a.call(t, "PUT", base+"/market", adm, map[string]any{"firstPlacedOnMarket": time.Now().UTC().Format(time.DateOnly), "reason": "CE certificate issued"})
	if r.status != http.StatusOK {
		t.Fatalf("market: %d %s", r.status, r.body)
	}
	r.json(t, &st)
	if !st.Market.OnMarket() || st.RetainUntil.Before(time.Now().AddDate(11, 0, -1)) {
		t.Errorf("on the market: got %+v", st)
	}

	// A legal hold, shown with the document.
	r = a.call(t, "POST", base+"/holds", adm, map[string]any{"path": "clinical/cer.txt", "reason": "FSCA 2026-04"})
	var h vault.Hold
	if r.json(t, &h); r.status != http.StatusCreated || h.ID == "" {
		t.Fatalf("hold: %d %s", r.status, r.body)
	}

	// A sign-off needs a fresh sign-in.
	stale := admin
	stale.AuthTime = time.Now().Add(-time.Hour)
	so := map[string]any{"path": "clinical/cer.txt", "version": 1, "sha256": sha, "meaning": "approved"}
	if r := a.call(t, "POST", base+"/signoffs", a.token(t, stale), so); r.status != http.StatusUnauthorized || r.problem(t).Type != httpapiProblem("reauthentication-required") {
		t.Errorf("stale sign-in: got %d %s, want 401 reauthentication-required", r.status, r.body)
	}
	if r := a.call(t, "POST", base+"/signoffs", adm, map[string]any{"path": "clinical/cer.txt", "version": 0, "sha256": "xyz", "meaning": "liked"}); r.status != http.StatusUnprocessableEntity ||
		len(pointers(t, r)) != 3 {
		t.Errorf("bad sign-off: got %d %s, want three fields named", r.status, r.body)
	}
	var v vault.Version
	r = a.call(t, "POST", base+"/signoffs", adm, so)
	if r.json(t, &v); r.status != http.StatusCreated || !v.State.Approved || v.State.Signoffs[0].Name != "Dana Regulatory" {
		t.Fatalf("sign-off: %d %s", r.status, r.body)
	}
	// The auditor sees the sign-off, the hold and the retention with the version.
	r = a.call(t, "GET", base+"/versions/1?path=clinical%2Fcer.txt", aud, nil)
	if r.json(t, &v); r.status != http.StatusOK || len(v.State.Signoffs) != 1 || len(v.State.LegalHolds) != 1 || !v.State.RetainedUntil.After(rb.Predicate.Retention.RetainUntil) {
		t.Errorf("auditor's view: %d %s", r.status, r.body)
	}

	// Completeness, as JSON and as a printable page.
	var c vault.Completeness
	r = a.call(t, "GET", base+"/completeness", aud, nil)
	if r.json(t, &c); r.status != http.StatusOK || c.Complete || c.Missing == 0 {
		t.Errorf("completeness: %d %s", r.status, r.body)
	}
	r = a.call(t, "GET", base+"/completeness?format=html", aud, nil)
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), "MDR-II-6.1") ||
		!strings.Contains(string(r.body), "missing") {
		t.Errorf("completeness page: %d %s", r.status, r.header)
	}
	if r := a.call(t, "GET", base+"/completeness?format=pdf", aud, nil); r.status != http.StatusBadRequest {
		t.Errorf("format=pdf: got %d", r.status)
	}

	// A submission, then what changed since.
	r = a.call(t, "POST", base+"/submissions", up, map[string]any{"notifiedBody": "0197", "date": time.Now().UTC().Format(time.DateOnly)})
	var sub vault.SubmissionRecord
	if r.json(t, &sub); r.status != http.StatusCreated || len(sub.Documents) != 1 || sub.Documents[0].SHA256 != sha || r.header.Get("Location") != base+"/submissions/"+sub.ID {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	a.upload(t, dossier, "clinical/cer.txt", []byte("clinical evaluation report, rev B\n"))
	var ch vault.Changes
	r = a.call(t, "GET", base+"/submissions/"+sub.ID+"/changes", aud, nil)
	if r.json(t, &ch); r.status != http.StatusOK || len(ch.Changed) != 1 || ch.Changed[0].To.Version != 2 {
		t.Errorf("changes: %d %s", r.status, r.body)
	}
	r = a.call(t, "GET", base+"/submissions/"+sub.ID, aud, nil)
	if r.json(t, &sub); r.status != http.StatusOK || sub.Record == nil || sub.Record.Log == nil {
		t.Errorf("submission: %d %s", r.status, r.body)
	}

	// A large submission is refused for its paths, not its size, with or
	// without an Idempotency-Key.
	many := make([]string, 1000)
	for i := range many {
		many[i] = fmt.Sprintf("clinical/%s-%04d.txt", strings.Repeat("x", 60), i)
	}
	for _, h := range [][]string{nil, {"Idempotency-Key", "submit-many"}} {
		r := a.call(t, "POST", base+"/submissions", up, map[string]any{"notifiedBody": "0197", "date": time.Now().UTC().Format(time.DateOnly), "paths": many}, h...)
		if r.status != http.StatusUnprocessableEntity || len(pointers(t, r)) != 1000 {
			t.Errorf("1,000 unknown paths (headers %v): got %d, want 422 naming each", h, r.status)
		}
	}

	// Obsolete, and the auditor may not change anything.
	if r := a.call(t, "POST", base+"/status", aud, map[string]any{"path": "clinical/cer.txt", "status": "obsolete", "reason": "x"}); r.status != http.StatusForbidden {
		t.Errorf("auditor marks obsolete: got %d", r.status)
	}
	r = a.call(t, "POST", base+"/status", up, map[string]any{"path": "clinical/cer.txt", "status": "obsolete", "reason": "replaced by CER-2"})
	if r.json(t, &v); r.status != http.StatusOK || v.State.Status != "obsolete" {
		t.Errorf("obsolete: %d %s", r.status, r.body)
	}
	r = a.call(t, "POST", base+"/holds/"+h.ID+"/release", adm, map[string]any{"reason": "FSCA closed"})
	if r.json(t, &st); r.status != http.StatusOK || len(st.LegalHolds) != 0 {
		t.Errorf("release: %d %s", r.status, r.body)
	}
	// An auditor about to make a bundle logs its snapshot.
	var snap vault.LoggedEvent
	r = a.call(t, "POST", base+"/exports", aud, nil)
	if r.json(t, &snap); r.status != http.StatusCreated || snap.Event != vault.EventExported || len(snap.Export.Documents) != 1 || snap.By.Role != vault.RoleAuditor {
		t.Errorf("export snapshot: %d %s", r.status, r.body)
	}
	r = a.call(t, "GET", base+"/lifecycle", aud, nil)
	if r.json(t, &st); r.status != http.StatusOK || len(st.Events) < 6 {
		t.Errorf("lifecycle: %d %s", r.status, r.body)
	}
}

func httpapiProblem(slug string) string { return "https://evidencevault.dev/problems/" + slug }

// An operator plants a governance-locked object among the tenant's
// receipts: the market status is still recorded, the rest extended.
func TestExtensionPastAPlantedObject(t *testing.T) {
	a := newAPI(t, vault.Config{})
	adm := a.token(t, admin)
	dossier := a.createDossier(t)
	a.upload(t, dossier, "clinical/cer.txt", []byte("clinical evaluation report\n"))
	_, err := a.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &a.bucket, Key: aws.String("vault/demo/receipts/zz-planted.json"),
		Body: strings.NewReader("{}"), ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: aws.Time(time.Now().Add(24 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	var st vault.DossierState
	r := a.call(t, "PUT", "/v1/dossiers/"+dossier+"/market", adm, map[string]any{"firstPlacedOnMarket": time.Now().UTC().Format(time.DateOnly)})
	if r.json(t, &st); r.status != http.StatusOK || st.LastExtension == nil || st.LastExtension.Extension.Objects == 0 {
		t.Fatalf("market with a planted object: %d %s", r.status, r.body)
	}
	head, err := a.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &a.bucket, Key: aws.String("evidence/demo/" + dossier + "/clinical/cer.txt")})
	if err != nil || head.ObjectLockRetainUntilDate.Before(time.Now().AddDate(11, 0, -1)) {
		t.Errorf("the evidence was not extended past the plant: %v (%v)", head.ObjectLockRetainUntilDate, err)
	}
}
