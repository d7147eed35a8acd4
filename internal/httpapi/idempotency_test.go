package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/vault"
)

// attemptKey is where the vault keeps attempt n at id's Idempotency-Key.
func attemptKey(id vault.Identity, key string, n int) string {
	sum := sha256.Sum256([]byte(id.Subject + "\n" + key))
	return fmt.Sprintf("vault/%s/idempotency/%x/%06d.json", id.Tenant, sum, n)
}

// TestIdempotencyKeyEdges: after a refused request its key carries the
// corrected one; concurrent repeats after a failure run once; an answer
// copied to another caller's key, or to a caller who may no longer
// create, is not replayed.
func TestIdempotencyKeyEdges(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	d := a.createDossier(t)
	path := "/v1/dossiers/" + d + "/uploads"

	bad := docBody("fix/report.txt", []byte("report\n"))
	bad["language"] = "xx-not-a-language"
	if r := a.call(t, "POST", path, tok, bad, "Idempotency-Key", "fix-then-retry"); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad body: got %d", r.status)
	}
	if r := a.call(t, "POST", path, tok, docBody("fix/report.txt", []byte("report\n")), "Idempotency-Key", "fix-then-retry"); r.status != http.StatusCreated {
		t.Errorf("the corrected body with the key of a refused one: got %d %s, want 201", r.status, r.body)
	}

	// A failed first attempt, as a transient error leaves it; then eight
	// repeats at once: one runs, the others are told it is in progress.
	body := docBody("race/report.txt", []byte("race\n"))
	data, _ := json.Marshal(body)
	fp := sha256.New()
	for _, part := range []string{"POST", path, "", "application/json"} {
		fp.Write([]byte(part))
		fp.Write([]byte{0})
	}
	fp.Write(data)
	sum := sha256.Sum256([]byte(uploader.Subject + "\nrace-key"))
	failed, _ := json.Marshal(map[string]any{"tenant": uploader.Tenant, "subject": uploader.Subject, "key": hex.EncodeToString(sum[:]),
		"fingerprint": hex.EncodeToString(fp.Sum(nil)), "state": "failed", "at": time.Now().UTC()})
	if _, err := a.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(a.bucket), Key: aws.String(attemptKey(uploader, "race-key", 1)), Body: strings.NewReader(string(failed))}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	codes := make([]int, 8)
	ids := make([]string, 8)
	for i := range codes {
		wg.Go(func() {
			r := a.call(t, "POST", path, tok, string(data), "Idempotency-Key", "race-key")
			var tk ticket
			json.Unmarshal(r.body, &tk)
			codes[i], ids[i] = r.status, tk.UploadID
		})
	}
	wg.Wait()
	created := map[string]bool{}
	for i, c := range codes {
		switch c {
		case http.StatusCreated:
			created[ids[i]] = true
		case http.StatusConflict:
		default:
			t.Errorf("a concurrent repeat answered %d", c)
		}
	}
	if len(created) != 1 {
		t.Errorf("concurrent repeats of one key after a failure: got %d uploads (%v), want 1", len(created), codes)
	}

	// Alice's answer copied to Bob's key (bucket access): not his.
	bob := vault.Identity{Tenant: "demo", Subject: "bob@demo.example", Role: vault.RoleUploader}
	copyBody := docBody("copy/report.txt", []byte("copy\n"))
	var aliceTk, bobTk ticket
	a.call(t, "POST", path, tok, copyBody, "Idempotency-Key", "alice-key").json(t, &aliceTk)
	if _, err := a.s3.CopyObject(context.Background(), &s3.CopyObjectInput{Bucket: aws.String(a.bucket),
		Key: aws.String(attemptKey(bob, "bob-key", 1)), CopySource: aws.String(a.bucket + "/" + attemptKey(uploader, "alice-key", 1))}); err != nil {
		t.Fatal(err)
	}
	r := a.call(t, "POST", path, a.token(t, bob), copyBody, "Idempotency-Key", "bob-key")
	r.json(t, &bobTk)
	if r.header.Get("Idempotent-Replayed") != "" || bobTk.UploadID == aliceTk.UploadID {
		t.Errorf("alice's answer copied to bob's key was replayed to bob: %d %s", r.status, r.body)
	}

	// Alice, now an auditor, repeats her key: no upload ticket.
	downgraded := uploader
	downgraded.Role, downgraded.Home = vault.RoleAuditor, uploader.Tenant
	if r := a.call(t, "POST", path, a.token(t, downgraded), copyBody, "Idempotency-Key", "alice-key"); r.status != http.StatusForbidden {
		t.Errorf("a repeat by a caller who may no longer upload: got %d, want 403", r.status)
	}
}

// TestSameBytesNewMetadata: the document's latest bytes with other
// metadata are neither a copy nor "unchanged" (which would drop the
// change): 409 names the fields, and newVersion=true seals them.
func TestSameBytesNewMetadata(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	d := a.createDossier(t)
	content := []byte("same bytes\n")
	a.upload(t, d, "doc.txt", content)
	b := docBody("doc.txt", content)
	b["revision"], b["effectiveDate"] = "B", "2027-01-15"
	before := a.stored(t)
	r := a.call(t, "POST", "/v1/dossiers/"+d+"/uploads", tok, b)
	p := r.problem(t)
	var fields []string
	for _, f := range p.Errors {
		fields = append(fields, f.Pointer)
	}
	if r.status != http.StatusConflict || strings.Join(fields, " ") != "/effectiveDate /revision" || !strings.Contains(p.Detail, "newVersion=true") {
		t.Errorf("same bytes, new metadata: got %d %s %v, want 409 naming /effectiveDate and /revision", r.status, p.Detail, fields)
	}
	a.unchanged(t, before)
	if r := a.call(t, "POST", "/v1/dossiers/"+d+"/uploads?newVersion=true", tok, b); r.status != http.StatusCreated {
		t.Errorf("with newVersion=true: got %d %s", r.status, r.body)
	}
}

// TestCORSOrigins: origins match as browsers send them (no default port),
// and every answer varies by Origin once CORS is on.
func TestCORSOrigins(t *testing.T) {
	got, err := httpapi.ParseOrigins("https://Portal.example.com:443, http://localhost:80,http://localhost:5173")
	if want := "https://portal.example.com http://localhost http://localhost:5173"; err != nil || strings.Join(got, " ") != want {
		t.Errorf("ParseOrigins: got %v, %v, want %s", got, err, want)
	}
	a := newAPI(t, vault.Config{})
	for _, o := range []string{"https://PORTAL.example.com.evil", "null", portal + ".evil.example"} {
		if r := a.call(t, "OPTIONS", "/v1/dossiers", "", nil, "Origin", o, "Access-Control-Request-Method", "POST"); r.status != http.StatusForbidden {
			t.Errorf("preflight from %s: got %d, want 403", o, r.status)
		}
	}
	if r := a.call(t, "GET", "/v1/keys", "", nil); !strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Origin") {
		t.Errorf("an answer without Origin lacks Vary: Origin: %v", r.header)
	}
}

// TestExportIdempotent: an export's snapshot is a logged event, so a
// repeat with its Idempotency-Key answers the first, for any reader of the
// dossier; a reader who lost access gets no replay.
func TestExportIdempotent(t *testing.T) {
	a := newMemAPI(t, vault.Config{})
	d := a.createDossier(t)
	a.upload(t, d, "a.txt", []byte("hello\n"))
	path := "/v1/dossiers/" + d + "/exports"
	for _, id := range []vault.Identity{uploader, auditor} {
		tok := a.token(t, id)
		var first, again vault.LoggedEvent
		r1 := a.call(t, "POST", path, tok, nil, "Idempotency-Key", "export-1")
		r2 := a.call(t, "POST", path, tok, nil, "Idempotency-Key", "export-1")
		if r1.status != http.StatusCreated || r2.status != http.StatusCreated {
			t.Fatalf("%s: got %d then %d, want 201 twice: %s", id.Role, r1.status, r2.status, r2.body)
		}
		r1.json(t, &first)
		r2.json(t, &again)
		if first.ID != again.ID || r2.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("%s: got events %s and %s (replayed %q), want the first replayed", id.Role, first.ID, again.ID, r2.header.Get("Idempotent-Replayed"))
		}
	}
	// The grant revoked: the auditor's repeat is refused, not replayed.
	var grants struct {
		Grants []vault.Grant `json:"grants"`
	}
	a.call(t, "GET", "/v1/grants", a.token(t, uploader), nil).json(t, &grants)
	for _, g := range grants.Grants {
		if r := a.call(t, "DELETE", "/v1/grants/"+g.ID, a.token(t, uploader), nil); r.status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
	}
	if r := a.call(t, "POST", path, a.token(t, auditor), nil, "Idempotency-Key", "export-1"); r.status < 400 {
		t.Errorf("a repeat by an auditor whose grant was revoked: got %d %s, want a refusal", r.status, r.body)
	}
}
