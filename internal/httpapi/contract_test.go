package httpapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/vault"
)

// TestMethodNotAllowedSaysAllow: a known path with another method answers
// 405 with the methods served there.
func TestMethodNotAllowedSaysAllow(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	for _, tt := range []struct{ method, path, allow string }{
		{"PUT", "/v1/dossiers", "POST, GET"},
		{"DELETE", "/v1/receipts/rcp_x", "GET"},
		{"GET", "/v1/uploads/upl_x/complete", "POST"},
		// HEAD, which Go's router would serve as a GET: not in the contract.
		{"HEAD", "/v1/keys", "GET"},
		{"HEAD", "/v1/dossiers", "POST, GET"},
		{"HEAD", "/v1/dossiers/dos_x/download", "GET"},
	} {
		r := a.call(t, tt.method, tt.path, tok, nil)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != tt.allow {
			t.Errorf("%s %s: got %d Allow %q, want 405 Allow %q", tt.method, tt.path, r.status, r.header.Get("Allow"), tt.allow)
		}
		if tt.method == "HEAD" {
			continue // no body to hold the problem
		}
		if p := r.problem(t); p.Type != httpapi.ProblemBase+"method-not-allowed" {
			t.Errorf("%s %s: got problem %s", tt.method, tt.path, p.Type)
		}
	}
}

// TestCORS: the configured origin may call the API from a browser; any
// other origin gets no CORS headers, and its preflight is refused.
func TestCORS(t *testing.T) {
	a := newAPI(t, vault.Config{})
	pre := a.call(t, "OPTIONS", "/v1/dossiers", "", nil, "Origin", portal,
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type,idempotency-key")
	if pre.status != http.StatusNoContent || pre.header.Get("Access-Control-Allow-Origin") != portal ||
		!strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "Idempotency-Key") || !strings.Contains(pre.header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight from %s: got %d %v", portal, pre.status, pre.header)
	}
	// Every method a route is served with is allowed: PUT for the market
	// status and the approval policy.
	for _, tt := range []struct{ method, path string }{{"PUT", "/v1/dossiers/dos_x/market"}, {"PUT", "/v1/dossiers/dos_x/approval-policy"}, {"DELETE", "/v1/grants/gnt_x"}} {
		r := a.call(t, "OPTIONS", tt.path, "", nil, "Origin", portal, "Access-Control-Request-Method", tt.method, "Access-Control-Request-Headers", "authorization,content-type")
		if allowed := strings.Split(r.header.Get("Access-Control-Allow-Methods"), ", "); r.status != http.StatusNoContent || !slices.Contains(allowed, tt.method) {
			t.Errorf("preflight %s %s: got %d Allow-Methods %q", tt.method, tt.path, r.status, allowed)
		}
	}
	if r := a.call(t, "OPTIONS", "/v1/dossiers", "", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "POST"); r.status != http.StatusForbidden || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: got %d %v, want 403 without CORS headers", r.status, r.header)
	}
	r := a.call(t, "GET", "/v1/keys", "", nil, "Origin", portal)
	if r.header.Get("Access-Control-Allow-Origin") != portal || !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "ETag") || !strings.Contains(r.header.Get("Vary"), "Origin") {
		t.Errorf("GET from %s: got %v", portal, r.header)
	}
	if r := a.call(t, "GET", "/v1/keys", "", nil, "Origin", "https://evil.example"); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET from another origin carries CORS headers: %v", r.header)
	}
	if _, err := httpapi.ParseOrigins("https://portal.example.com/app"); err == nil {
		t.Error("an origin with a path was accepted")
	}
}

// TestPages: every list comes in pages that follow on from each other,
// with an opaque cursor that belongs to its list.
func TestPages(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	d := a.createDossier(t)
	for _, p := range []string{"a.txt", "b.txt", "c.txt"} {
		a.upload(t, d, p, []byte("content of "+p+"\n"))
	}
	for _, body := range []string{"v2\n", "v3\n"} {
		a.upload(t, d, "a.txt", []byte(body))
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		var page struct {
			Documents []vault.Version `json:"documents"`
			Next      string          `json:"next"`
		}
		q := url.Values{"limit": {"2"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		r := a.call(t, "GET", "/v1/dossiers/"+d+"/documents?"+q.Encode(), tok, nil)
		if r.status != http.StatusOK {
			t.Fatalf("documents page: %d %s", r.status, r.body)
		}
		r.json(t, &page)
		for _, v := range page.Documents {
			got = append(got, v.Document.Path+"@"+string(rune('0'+v.Version)))
		}
		if cursor = page.Next; cursor == "" || pages > 3 {
			break
		}
	}
	if want := "a.txt@3 b.txt@1 c.txt@1"; strings.Join(got, " ") != want {
		t.Errorf("documents, page by page: got %v, want %s", got, want)
	}
	var vs struct {
		Versions []vault.Version `json:"versions"`
		Next     string          `json:"next"`
	}
	a.call(t, "GET", "/v1/dossiers/"+d+"/versions?path=a.txt&limit=2", tok, nil).json(t, &vs)
	if len(vs.Versions) != 2 || vs.Versions[0].Version != 1 || vs.Next == "" {
		t.Fatalf("versions page 1: %+v", vs)
	}
	next := vs.Next
	vs.Versions, vs.Next = nil, ""
	a.call(t, "GET", "/v1/dossiers/"+d+"/versions?path=a.txt&limit=2&cursor="+next, tok, nil).json(t, &vs)
	if len(vs.Versions) != 1 || vs.Versions[0].Version != 3 || vs.Next != "" {
		t.Errorf("versions page 2: %+v", vs)
	}
	for _, q := range []string{"limit=0", "limit=1001", "cursor=nonsense", "cursor=" + next} {
		r := a.call(t, "GET", "/v1/dossiers/"+d+"/documents?"+q, tok, nil)
		if r.status != http.StatusBadRequest || r.problem(t).Type != httpapi.ProblemBase+"invalid-query" {
			t.Errorf("documents?%s: got %d %s, want 400 invalid-query", q, r.status, r.body)
		}
	}
}

// TestImmutableAnswersRevalidate: a receipt and a checkpoint at a size
// carry a strong ETag and Cache-Control: immutable; a sealed version's
// record an ETag and no-cache, since its state changes. A conditional GET
// answers 304 without a body.
func TestImmutableAnswersRevalidate(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, auditor)
	d := a.createDossier(t)
	rb := a.upload(t, d, "report.txt", []byte("report\n"))
	version1 := "/v1/dossiers/" + d + "/versions/1?path=report.txt"
	for _, tt := range []struct{ path, cache string }{
		{"/v1/receipts/" + rb.ReceiptID, "private, max-age=31536000, immutable"},
		{"/v1/log/checkpoints/2", "private, max-age=31536000, immutable"},
		{version1, "private, no-cache"},
	} {
		path := tt.path
		r := a.call(t, "GET", path, tok, nil)
		tag := r.header.Get("ETag")
		if r.status != http.StatusOK || !strings.HasPrefix(tag, `"`) || r.header.Get("Cache-Control") != tt.cache {
			t.Errorf("GET %s: got %d ETag %q Cache-Control %q, want 200, a tag, %q", path, r.status, tag, r.header.Get("Cache-Control"), tt.cache)
			continue
		}
		again := a.call(t, "GET", path, tok, nil, "If-None-Match", tag)
		if again.status != http.StatusNotModified || len(again.body) != 0 || again.header.Get("ETag") != tag {
			t.Errorf("GET %s If-None-Match %s: got %d with %d bytes", path, tag, again.status, len(again.body))
		}
		if other := a.call(t, "GET", path, tok, nil, "If-None-Match", `"other"`); other.status != http.StatusOK {
			t.Errorf("GET %s with another tag: got %d, want 200", path, other.status)
		}
	}
	// Version 1 superseded: a cache that revalidates gets its new state.
	before := a.call(t, "GET", version1, tok, nil)
	a.upload(t, d, "report.txt", []byte("report, revised\n"))
	after := a.call(t, "GET", version1, tok, nil, "If-None-Match", before.header.Get("ETag"))
	var v vault.Version
	if after.status != http.StatusOK {
		t.Fatalf("version 1 after it was superseded, with its old tag: got %d, want 200 with its new state", after.status)
	}
	if after.json(t, &v); v.State == nil || v.State.Status != vault.StatusSuperseded {
		t.Errorf("version 1 after it was superseded: state %+v", v.State)
	}
	// The contract changes with releases: tagged, but revalidated.
	r := a.call(t, "GET", "/v1/openapi.yaml", "", nil)
	if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-cache" || !strings.HasPrefix(string(r.body), "openapi: 3.1") {
		t.Errorf("GET /v1/openapi.yaml: %d %q %.40q", r.status, r.header.Get("Cache-Control"), r.body)
	}
	if again := a.call(t, "GET", "/v1/openapi.yaml", "", nil, "If-None-Match", r.header.Get("ETag")); again.status != http.StatusNotModified {
		t.Errorf("GET /v1/openapi.yaml with its tag: %d, want 304", again.status)
	}
	if r := a.call(t, "GET", "/v1/log/checkpoint", tok, nil); r.header.Get("Cache-Control") != "no-cache" || r.header.Get("ETag") != "" {
		t.Errorf("the latest checkpoint changes: got Cache-Control %q ETag %q", r.header.Get("Cache-Control"), r.header.Get("ETag"))
	}
}

// TestIdempotencyKey: a repeat of a creating POST with its key gets the
// first answer, marked replayed; the key with another request is refused.
func TestIdempotencyKey(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	first := a.call(t, "POST", "/v1/dossiers", tok, dossierBody(), "Idempotency-Key", "create-1")
	again := a.call(t, "POST", "/v1/dossiers", tok, dossierBody(), "Idempotency-Key", "create-1")
	if first.status != http.StatusCreated || again.status != http.StatusCreated || string(first.body) != string(again.body) ||
		again.header.Get("Idempotent-Replayed") != "true" || again.header.Get("Location") != first.header.Get("Location") {
		t.Fatalf("repeat of create: got %d %q then %d %q (replayed %q)", first.status, first.body, again.status, again.body, again.header.Get("Idempotent-Replayed"))
	}
	var dos vault.Dossier
	first.json(t, &dos)
	before := a.stored(t)
	body := docBody("report.txt", []byte("report\n"))
	up1 := a.call(t, "POST", "/v1/dossiers/"+dos.ID+"/uploads", tok, body, "Idempotency-Key", "upload-1")
	mid := a.stored(t)
	up2 := a.call(t, "POST", "/v1/dossiers/"+dos.ID+"/uploads", tok, body, "Idempotency-Key", "upload-1")
	var t1, t2 ticket
	up1.json(t, &t1)
	up2.json(t, &t2)
	if up1.status != http.StatusCreated || t1.UploadID == "" || t1.UploadID != t2.UploadID || up2.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("repeat of start upload: got %s then %s", t1.UploadID, t2.UploadID)
	}
	if len(mid) <= len(before) {
		t.Error("the first start upload stored nothing")
	}
	body["title"] = "Another title"
	r := a.call(t, "POST", "/v1/dossiers/"+dos.ID+"/uploads", tok, body, "Idempotency-Key", "upload-1")
	if r.status != http.StatusUnprocessableEntity || r.problem(t).Type != httpapi.ProblemBase+"idempotency-key-reused" {
		t.Errorf("the key with another body: got %d %s", r.status, r.body)
	}
	r = a.call(t, "POST", "/v1/dossiers/"+dos.ID+"/uploads", tok, body, "Idempotency-Key", "bad key")
	if p := r.problem(t); r.status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Pointer != "/Idempotency-Key" {
		t.Errorf("a malformed key: got %d %s", r.status, r.body)
	}
}

// TestUnchangedUpload: an upload of the bytes the document's latest
// version has answers with that version instead of sealing a copy, unless
// a new version is asked for.
func TestUnchangedUpload(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	d := a.createDossier(t)
	content := []byte("the same bytes\n")
	sealed := a.upload(t, d, "same.txt", content)
	before := a.stored(t)
	r := a.call(t, "POST", "/v1/dossiers/"+d+"/uploads", tok, docBody("same.txt", content))
	var got struct {
		State   string        `json:"state"`
		Version vault.Version `json:"version"`
		Receipt vault.Bundle  `json:"receipt"`
	}
	r.json(t, &got)
	if r.status != http.StatusOK || got.State != "unchanged" || got.Version.Version != 1 || got.Version.ReceiptID != sealed.ReceiptID {
		t.Errorf("upload of unchanged bytes: got %d %s", r.status, r.body)
	}
	a.unchanged(t, before)
	if r := a.call(t, "POST", "/v1/dossiers/"+d+"/uploads?newVersion=true", tok, docBody("same.txt", content)); r.status != http.StatusCreated {
		t.Errorf("upload of unchanged bytes with newVersion=true: got %d %s, want 201", r.status, r.body)
	}
}

// TestAbortedUploadRefusesParts: once a multipart upload is aborted, the
// vault hands out no more part URLs.
func TestAbortedUploadRefusesParts(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	d := a.createDossier(t)
	body := docBody("big.txt", []byte("big enough\n"))
	r := a.call(t, "POST", "/v1/dossiers/"+d+"/uploads?multipart=true", tok, body)
	var tk ticket
	r.json(t, &tk)
	sum := sha256.Sum256([]byte("big enough\n"))
	parts := map[string]any{"parts": []map[string]any{{"partNumber": 1, "sha256": hex.EncodeToString(sum[:])}}}
	if r := a.call(t, "POST", "/v1/uploads/"+tk.UploadID+"/parts", tok, parts); r.status != http.StatusOK {
		t.Fatalf("parts of an open upload: %d %s", r.status, r.body)
	}
	if r := a.call(t, "DELETE", "/v1/uploads/"+tk.UploadID, tok, nil); r.status != http.StatusNoContent {
		t.Fatalf("abort: %d %s", r.status, r.body)
	}
	r = a.call(t, "POST", "/v1/uploads/"+tk.UploadID+"/parts", tok, parts)
	if r.status != http.StatusConflict || !strings.Contains(r.problem(t).Detail, "aborted") {
		t.Errorf("parts of an aborted upload: got %d %s, want 409 saying aborted", r.status, r.body)
	}
}

// TestDocumentFieldRules: the path's extension is the file name's, null
// for a required field says so, and dates have bounds.
func TestDocumentFieldRules(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	d := a.createDossier(t)
	before := a.stored(t)
	tests := []struct {
		name   string
		edit   func(b map[string]any)
		field  string
		detail string
	}{
		{"path .pdf, file scan.png", func(b map[string]any) {
			b["path"] = "clinical/scan.pdf"
			b["file"].(map[string]any)["name"], b["file"].(map[string]any)["contentType"] = "scan.png", "image/png"
		}, "/file/name", "extension of the document's path (.pdf)"},
		{"size null", func(b map[string]any) { b["file"].(map[string]any)["size"] = nil }, "/file/size", "is required"},
		{"year 0000", func(b map[string]any) { b["effectiveDate"] = "0000-01-01" }, "/effectiveDate", "from 1900-01-01"},
		{"year 0001", func(b map[string]any) { b["effectiveDate"] = "0001-01-01" }, "/effectiveDate", "from 1900-01-01"},
		{"far ahead", func(b map[string]any) { b["effectiveDate"] = "2199-01-01" }, "/effectiveDate", "ten years ahead"},
		{"not a date", func(b map[string]any) { b["effectiveDate"] = "2026-02-30" }, "/effectiveDate", "calendar date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := docBody("report.txt", []byte("report\n"))
			tt.edit(body)
			r := a.call(t, "POST", "/v1/dossiers/"+d+"/uploads", tok, body)
			p := r.problem(t)
			if r.status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Pointer != tt.field || !strings.Contains(p.Errors[0].Detail, tt.detail) {
				t.Errorf("got %d %+v, want one error at %s saying %q", r.status, p.Errors, tt.field, tt.detail)
			}
		})
	}
	a.unchanged(t, before)
}
