package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/s3event"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const (
	issuer   = "https://issuer.test"
	audience = "evidence-vault"
	udi      = "1987654Ad4X4bL5ttr2310c2K"
	// portal is the browser origin the test API allows (CORS).
	portal = "https://portal.example.com"
)

var (
	uploader = vault.Identity{Tenant: "demo", Subject: "alice@demo.example", Role: vault.RoleUploader}
	// auditor is a notified body's, with demo for its home tenant in its
	// token; demo grants them every dossier.
	auditor  = vault.Identity{Home: "demo", Subject: "auditor@nb.example", Role: vault.RoleAuditor}
	stranger = vault.Identity{Tenant: "other", Subject: "mallory@other.example", Role: vault.RoleUploader}
)

// api is the HTTP API on a real MinIO bucket, with MinIO's webhook wired to
// the same sealing code the local server uses.
type api struct {
	url    string
	issuer *testenv.Issuer
	bucket string
	s3     *s3.Client
	svc    *vault.Service
	// mem is the in-memory bucket of newMemAPI, instead of MinIO.
	mem *memstore.Bucket
}

func newAPI(t *testing.T, cfg vault.Config) *api { return start(t, cfg, false) }

// start runs the API; with trigger, uploads are also sealed by MinIO's
// ObjectCreated events, as in the local stack and in AWS.
func start(t *testing.T, cfg vault.Config, trigger bool) *api {
	t.Helper()
	env := testenv.Get(t)
	store := env.Bucket(t, trigger)
	a := serve(t, store.Storage(), store.Bucket(), cfg)
	if trigger {
		log := testenv.Logger(t)
		env.SetWebhook(t, s3event.Webhook(env.WebhookToken, s3event.Handler(a.svc, store.Bucket(), log), log))
	}
	a.s3 = env.Client(t)
	return a
}

// newMemAPI is the API on an in-memory bucket: for what the answers say,
// not what storage does.
func newMemAPI(t *testing.T, cfg vault.Config) *api {
	t.Helper()
	b := memstore.New("evidence")
	a := serve(t, b.Storage(), b.Bucket(), cfg)
	a.mem = b
	return a
}

// serve runs the API, checked against its contract, on storage of bucket,
// with the test's uploader granting auditor every dossier.
func serve(t *testing.T, storage vault.Storage, bucket string, cfg vault.Config) *api {
	t.Helper()
	cfg.Bucket = bucket
	log := testenv.Logger(t)
	cfg.Logger = log
	svc := vault.New(storage, testenv.Signer(t), cfg)
	iss := testenv.NewIssuer(t)
	srv := httptest.NewServer(contract(t, httpapi.New(svc, iss.Verifier(), log, httpapi.AllowOrigins(portal)).Handler()))
	t.Cleanup(srv.Close)
	testenv.GrantAll(t, svc, uploader, auditor.Subject)
	return &api{url: srv.URL, issuer: iss, bucket: bucket, svc: svc}
}

// token is a token for id; an auditor's acts in tenant demo.
func (a *api) token(t *testing.T, id vault.Identity) string {
	t.Helper()
	return a.issuer.Token(t, id)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, r.body)
	}
}

func (r response) problem(t *testing.T) httpapi.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("got Content-Type %q, want application/problem+json", ct)
	}
	var p httpapi.Problem
	r.json(t, &p)
	if p.Status != r.status {
		t.Errorf("problem status %d differs from HTTP status %d", p.Status, r.status)
	}
	return p
}

// call makes a request; body may be a string (sent as is) or a value
// (sent as JSON).
func (a *api) call(t *testing.T, method, path, token string, body any, header ...string) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, data}
}

// stored lists every object version and delete marker in the bucket: what
// a bad request must leave as it was.
func (a *api) stored(t *testing.T) []string {
	t.Helper()
	// The head hint is written after a seal answers; wait for it, so that
	// it is not taken for a change a later request made.
	if err := a.svc.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out []string
	p := s3.NewListObjectVersionsPaginator(a.s3, &s3.ListObjectVersionsInput{Bucket: aws.String(a.bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Versions {
			out = append(out, aws.ToString(v.Key)+"@"+aws.ToString(v.VersionId))
		}
		for _, m := range page.DeleteMarkers {
			out = append(out, "deleted:"+aws.ToString(m.Key)+"@"+aws.ToString(m.VersionId))
		}
	}
	slices.Sort(out)
	return out
}

// unchanged fails the test if the bucket differs from before.
func (a *api) unchanged(t *testing.T, before []string) {
	t.Helper()
	if after := a.stored(t); !slices.Equal(before, after) {
		t.Errorf("storage changed:\nbefore %v\nafter  %v", before, after)
	}
}

func dossierBody() map[string]any {
	return map[string]any{"name": "CardioScan AI", "basicUdiDi": udi, "regulation": "MDR", "riskClass": "IIa",
		"implantable": false, "highRiskAi": true, "notifiedBody": "0197"}
}

func (a *api) createDossier(t *testing.T) string {
	t.Helper()
	r := a.call(t, "POST", "/v1/dossiers", a.token(t, uploader), dossierBody())
	if r.status != http.StatusCreated {
		t.Fatalf("create dossier: %d %s", r.status, r.body)
	}
	var d vault.Dossier
	r.json(t, &d)
	if r.header.Get("Location") != "/v1/dossiers/"+d.ID {
		t.Errorf("got Location %q", r.header.Get("Location"))
	}
	return d.ID
}

func docBody(path string, content []byte) map[string]any {
	sum := sha256.Sum256(content)
	return map[string]any{
		"path": path, "title": "Software validation report", "kind": "test-report", "section": "MDR-II-6.1",
		"revision": "A", "language": "en", "effectiveDate": "2026-11-02", "standards": []string{"IEC 62304:2006+A1:2015"},
		"author": "QA team",
		"file":   map[string]any{"name": path[strings.LastIndex(path, "/")+1:], "size": len(content), "sha256": hex.EncodeToString(sum[:]), "contentType": "text/plain"},
	}
}

type ticket struct {
	vault.Ticket
	Complete string `json:"complete"`
}

func (a *api) startUpload(t *testing.T, token, dossier, path string, content []byte) ticket {
	t.Helper()
	r := a.call(t, "POST", "/v1/dossiers/"+dossier+"/uploads", token, docBody(path, content))
	if r.status != http.StatusCreated {
		t.Fatalf("start upload: %d %s", r.status, r.body)
	}
	var tk ticket
	r.json(t, &tk)
	return tk
}

type receiptBody struct {
	ReceiptID string                 `json:"receiptId"`
	Predicate vault.ReceiptPredicate `json:"predicate"`
	Envelope  json.RawMessage        `json:"envelope"`
	Log       json.RawMessage        `json:"log"`
	// raw is the whole answer.
	raw []byte
}

// bundle is the receipt as GET /v1/receipts and downloads serve it.
func (rb receiptBody) bundle(t *testing.T) []byte {
	t.Helper()
	data, err := json.Marshal(map[string]json.RawMessage{"envelope": rb.Envelope, "log": rb.Log})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (a *api) upload(t *testing.T, dossier, path string, content []byte) receiptBody {
	t.Helper()
	tok := a.token(t, uploader)
	tk := a.startUpload(t, tok, dossier, path, content)
	if a.mem != nil {
		if err := a.mem.Send(tk.Upload, content); err != nil {
			t.Fatalf("PUT: %v", err)
		}
	} else if got := testenv.Curl(t, tk.Upload.Method, tk.Upload.URL, tk.Upload.Headers, content); got.Status != http.StatusOK {
		t.Fatalf("curl PUT: %d %s", got.Status, got.Body)
	}
	r := a.call(t, "POST", tk.Complete, tok, nil)
	if r.status != http.StatusOK {
		t.Fatalf("complete: %d %s", r.status, r.body)
	}
	var rb receiptBody
	r.json(t, &rb)
	rb.raw = r.body
	return rb
}

func TestUploadDownloadVerify(t *testing.T) {
	a := newAPI(t, vault.Config{})
	dossier := a.createDossier(t)
	v1 := []byte("software validation report, revision A\n")
	first := a.upload(t, dossier, "test-reports/validation.txt", v1)
	v2 := []byte("software validation report, revision B\n")
	second := a.upload(t, dossier, "test-reports/validation.txt", v2)
	if second.Predicate.Version != 2 || second.Predicate.Supersedes == nil || second.Predicate.Supersedes.ReceiptID != first.ReceiptID {
		t.Errorf("second version: got %+v", second.Predicate)
	}

	aud := a.token(t, auditor)
	r := a.call(t, "GET", "/v1/receipts/"+first.ReceiptID, aud, nil)
	if r.status != http.StatusOK || !bytes.Equal(compact(t, r.body), compact(t, first.bundle(t))) {
		t.Errorf("GET receipt: %d, body differs from the one complete returned", r.status)
	}

	var versions struct{ Versions []vault.Version }
	a.call(t, "GET", "/v1/dossiers/"+dossier+"/versions?path="+url.QueryEscape("test-reports/validation.txt"), aud, nil).json(t, &versions)
	if len(versions.Versions) != 2 || versions.Versions[0].ReceiptID != first.ReceiptID || versions.Versions[1].ReceiptID != second.ReceiptID {
		t.Errorf("got versions %+v", versions.Versions)
	}
	var docs struct{ Documents []vault.Version }
	a.call(t, "GET", "/v1/dossiers/"+dossier+"/documents", aud, nil).json(t, &docs)
	if len(docs.Documents) != 1 || docs.Documents[0].Version != 2 {
		t.Errorf("got documents %+v", docs.Documents)
	}

	// An auditor downloads the exact first version with curl.
	var dl struct {
		Version  vault.Version
		Download vault.Presigned
		Receipt  json.RawMessage
	}
	r = a.call(t, "GET", "/v1/dossiers/"+dossier+"/download?version=1&path="+url.QueryEscape("test-reports/validation.txt"), aud, nil)
	if r.status != http.StatusOK {
		t.Fatalf("download: %d %s", r.status, r.body)
	}
	r.json(t, &dl)
	got := testenv.Curl(t, dl.Download.Method, dl.Download.URL, dl.Download.Headers, nil)
	if got.Status != http.StatusOK || !bytes.Equal(got.Body, v1) {
		t.Errorf("curl GET of version 1: %d %q, want %q", got.Status, got.Body, v1)
	}
	if !bytes.Equal(compact(t, dl.Receipt), compact(t, first.bundle(t))) {
		t.Error("download came with another receipt than version 1's")
	}

	sum := sha256.Sum256(v1)
	var ver vault.Verification
	r = a.call(t, "POST", "/v1/verify", aud, map[string]any{"receipt": first.Envelope, "sha256": hex.EncodeToString(sum[:])})
	r.json(t, &ver)
	if r.status != http.StatusOK || !ver.Valid || len(ver.Checks) != 7 {
		t.Errorf("verify: %d %+v", r.status, ver)
	}

	var keys struct{ Keys []vault.PublicKey }
	r = a.call(t, "GET", "/v1/keys", "", nil)
	r.json(t, &keys)
	if r.status != http.StatusOK || len(keys.Keys) != 1 || !keys.Keys[0].Current || !strings.Contains(keys.Keys[0].PEM, "PUBLIC KEY") {
		t.Errorf("keys: %d %+v", r.status, keys)
	}
}

func compact(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSealedWithoutComplete(t *testing.T) {
	a := start(t, vault.Config{}, true)
	dossier := a.createDossier(t)
	content := []byte("recorded usability session notes")
	tk := a.startUpload(t, a.token(t, uploader), dossier, "usability/notes.txt", content)
	if got := testenv.Curl(t, tk.Upload.Method, tk.Upload.URL, tk.Upload.Headers, content); got.Status != http.StatusOK {
		t.Fatalf("curl PUT: %d %s", got.Status, got.Body)
	}
	// The client never calls complete: MinIO's webhook delivers the
	// ObjectCreated event to the seal code, which issues the receipt.
	receiptID := "rcp_" + strings.TrimPrefix(tk.UploadID, "upl_")
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := a.call(t, "GET", "/v1/receipts/"+receiptID, a.token(t, auditor), nil)
		if r.status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no receipt %s 30 s after the upload: last answer %d %s", receiptID, r.status, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// complete afterwards returns that same receipt.
	r := a.call(t, "POST", tk.Complete, a.token(t, uploader), nil)
	var rb receiptBody
	r.json(t, &rb)
	if r.status != http.StatusOK || rb.ReceiptID != receiptID {
		t.Errorf("complete after the trigger sealed: %d %s", r.status, rb.ReceiptID)
	}
}

func TestMalformedBodies(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	dossier := a.createDossier(t)
	before := a.stored(t)
	huge := `{"name":"` + strings.Repeat("x", 70<<10) + `"}`
	// A bad query's answer names the body's problems too: {} lacks these.
	emptyDocument := []string{"/path", "/title", "/kind", "/revision", "/language", "/effectiveDate", "/author", "/file/name", "/file/size", "/file/sha256", "/file/contentType"}
	tests := []struct {
		name     string
		path     string
		body     string
		ctype    string
		status   int
		typ      string
		pointers []string
		detail   string
	}{
		{"truncated JSON", "/v1/dossiers", `{"name": "x",`, "", 400, "malformed-json", nil, "ends in the middle"},
		{"syntax error", "/v1/dossiers", "{\n  \"name\": \"x\",,\n}", "", 400, "malformed-json", nil, "line 2"},
		{"empty body", "/v1/dossiers", "", "", 400, "malformed-json", nil, "empty"},
		{"trailing data", "/v1/dossiers", `{"name":"x"} {"name":"y"}`, "", 400, "malformed-json", nil, "after its JSON value"},
		{"unknown fields", "/v1/dossiers", `{"name":"x","colour":"red","Owner":"me"}`, "", 400, "unknown-fields", []string{"/colour", "/Owner"}, "refused"},
		{"nested unknown field", "/v1/dossiers/" + dossier + "/uploads", `{"path":"a.txt","file":{"name":"a.txt","md5":"x"}}`, "", 400, "unknown-fields", []string{"/file/md5"}, "refused"},
		{"field given twice", "/v1/dossiers", `{"name":"x","name":"y"}`, "", 400, "duplicate-fields", []string{"/name"}, "refused"},
		{"field in another case", "/v1/dossiers", `{"NAME":"x","Name":"y"}`, "", 400, "unknown-fields", []string{"/NAME", "/Name"}, "refused"},
		{"invalid UTF-8", "/v1/dossiers/" + dossier + "/uploads", "{\"path\":\"a\xff.txt\",\"title\":\"t\xc3\"}", "", 400, "invalid-utf8", []string{"/path", "/title"}, "refused"},
		{"wrong type, and every other bad field with it", "/v1/dossiers", `{"implantable":"yes"}`, "", 400, "wrong-type",
			[]string{"/implantable", "/name", "/basicUdiDi", "/regulation", "/riskClass", "/highRiskAi"}, "refused"},
		{"four wrong types and a bad date", "/v1/dossiers/" + dossier + "/uploads", `{"path":1,"title":true,"revision":[],"file":{"size":"1"},"effectiveDate":"0001-01-01"}`, "", 400, "wrong-type",
			[]string{"/path", "/title", "/revision", "/file/size", "/kind", "/language", "/effectiveDate", "/author", "/file/name", "/file/sha256", "/file/contentType"}, "refused"},
		{"not JSON", "/v1/dossiers", `name=x`, "application/x-www-form-urlencoded", 415, "unsupported-media-type", nil, "application/json"},
		{"oversize", "/v1/dossiers", huge, "", 413, "body-too-large", nil, "at most 65536 bytes"},
		{"multipart flag", "/v1/dossiers/" + dossier + "/uploads?multipart=yes", `{}`, "", 400, "invalid-query", append([]string{"/multipart"}, emptyDocument...), "true or false"},
		{"part size", "/v1/dossiers/" + dossier + "/uploads?multipart=true&partSize=big", `{}`, "", 400, "invalid-query", append([]string{"/partSize"}, emptyDocument...), "number of bytes"},
		{"part size alone", "/v1/dossiers/" + dossier + "/uploads?partSize=5242880", `{}`, "", 400, "invalid-query", append([]string{"/partSize"}, emptyDocument...), "only with multipart"},
		{"parts of no upload", "/v1/uploads/upl_nope/parts", `{"parts":[]}`, "", 404, "not-found", nil, "no upload"},
		{"parts unknown field", "/v1/uploads/upl_nope/parts", `{"parts":[{"partNumber":1,"md5":"x"}]}`, "", 400, "unknown-fields", []string{"/parts/0/md5"}, "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctype := tt.ctype
			if ctype == "" {
				ctype = "application/json"
			}
			r := a.call(t, "POST", tt.path, tok, tt.body, "Content-Type", ctype)
			if r.status != tt.status {
				t.Fatalf("got %d, want %d: %s", r.status, tt.status, r.body)
			}
			p := r.problem(t)
			if p.Type != httpapi.ProblemBase+tt.typ || !strings.Contains(p.Detail, tt.detail) || p.RequestID == "" {
				t.Errorf("got problem %+v, want type %s saying %q", p, tt.typ, tt.detail)
			}
			var got []string
			for _, e := range p.Errors {
				got = append(got, e.Pointer)
			}
			if !slices.Equal(got, tt.pointers) {
				t.Errorf("got pointers %v, want %v", got, tt.pointers)
			}
		})
	}
	a.unchanged(t, before)
}

func TestInvalidMetadataReportsEveryField(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	dossier := a.createDossier(t)
	before := a.stored(t)

	bad := dossierBody()
	bad["basicUdiDi"] = "1987654Ad4X4bL5ttr2310c2X"
	bad["riskClass"] = "B"
	bad["notifiedBody"] = "NB0197"
	delete(bad, "implantable")
	r := a.call(t, "POST", "/v1/dossiers", tok, bad)
	p := r.problem(t)
	if r.status != http.StatusUnprocessableEntity || p.Type != httpapi.ProblemBase+"invalid-request" {
		t.Errorf("got %d %s", r.status, p.Type)
	}
	wantPointers(t, p, "/basicUdiDi", "/implantable", "/notifiedBody", "/riskClass")

	fields := []struct {
		pointer string
		change  func(map[string]any)
		detail  string
	}{
		{"/path", func(m map[string]any) { m["path"] = "../../../etc/passwd" }, "must not be . or .."},
		{"/path", func(m map[string]any) { m["path"] = "reports/a\u0000b.txt" }, "control or invisible"},
		{"/path", func(m map[string]any) { m["path"] = "reports/\u202etxt.exe" }, "control or invisible"},
		{"/path", func(m map[string]any) { m["path"] = "/abs.txt" }, "relative"},
		{"/title", func(m map[string]any) { m["title"] = "" }, "is required"},
		{"/kind", func(m map[string]any) { m["kind"] = "brochure" }, "must be one of"},
		{"/section", func(m map[string]any) { m["section"] = "MDR-III-1.1" }, "does not hold test-report"},
		{"/revision", func(m map[string]any) { m["revision"] = strings.Repeat("r", 33) }, "at most 32"},
		{"/language", func(m map[string]any) { m["language"] = "EN" }, "ISO 639-1"},
		{"/effectiveDate", func(m map[string]any) { m["effectiveDate"] = "2026-13-01" }, "YYYY-MM-DD"},
		{"/standards/0", func(m map[string]any) { m["standards"] = []string{"62304"} }, "designation"},
		{"/author", func(m map[string]any) { m["author"] = " QA" }, "space"},
		{"/file/name", func(m map[string]any) { m["file"].(map[string]any)["name"] = "..\\x.txt" }, "must not contain"},
		{"/file/size", func(m map[string]any) { m["file"].(map[string]any)["size"] = 0 }, "at least 1 byte"},
		{"/file/sha256", func(m map[string]any) { m["file"].(map[string]any)["sha256"] = "deadbeef" }, "64 hexadecimal"},
		{"/file/contentType", func(m map[string]any) { m["file"].(map[string]any)["contentType"] = "application/x-sh" }, "accepted media types"},
	}
	for _, f := range fields {
		t.Run(f.pointer+" "+f.detail, func(t *testing.T) {
			body := docBody("reports/a.txt", []byte("x"))
			f.change(body)
			r := a.call(t, "POST", "/v1/dossiers/"+dossier+"/uploads", tok, body)
			p := r.problem(t)
			if r.status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Pointer != f.pointer || !strings.Contains(p.Errors[0].Detail, f.detail) {
				t.Errorf("got %d %+v, want one error at %s saying %q", r.status, p.Errors, f.pointer, f.detail)
			}
		})
	}
	a.unchanged(t, before)
}

func wantPointers(t *testing.T, p httpapi.Problem, want ...string) {
	t.Helper()
	var got []string
	for _, e := range p.Errors {
		got = append(got, e.Pointer)
		if e.Detail == "" {
			t.Errorf("%s has no message", e.Pointer)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("got errors at %v, want %v", got, want)
	}
}

func TestStorageRefusesUndeclaredBytes(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	dossier := a.createDossier(t)
	content := []byte("risk management report")
	tk := a.startUpload(t, tok, dossier, "risk/report.txt", content)
	before := a.stored(t)

	if got := testenv.Curl(t, tk.Upload.Method, tk.Upload.URL, tk.Upload.Headers, bytes.ToUpper(content)); got.Status != http.StatusBadRequest {
		t.Errorf("wrong bytes: got %d, want 400: %s", got.Status, got.Body)
	}
	if got := testenv.Curl(t, tk.Upload.Method, tk.Upload.URL, tk.Upload.Headers, append(content, '.')); got.Status != http.StatusForbidden {
		t.Errorf("wrong size: got %d, want 403: %s", got.Status, got.Body)
	}
	r := a.call(t, "POST", tk.Complete, tok, nil)
	if p := r.problem(t); r.status != http.StatusConflict || p.Type != httpapi.ProblemBase+"not-uploaded" {
		t.Errorf("complete with no object: got %d %+v", r.status, p)
	}
	a.unchanged(t, before)
}

func TestExpiredUpload(t *testing.T) {
	a := newAPI(t, vault.Config{UploadTTL: time.Second})
	tok := a.token(t, uploader)
	dossier := a.createDossier(t)
	content := []byte("late")
	tk := a.startUpload(t, tok, dossier, "late.txt", content)
	before := a.stored(t)
	time.Sleep(2100 * time.Millisecond)
	if got := testenv.Curl(t, tk.Upload.Method, tk.Upload.URL, tk.Upload.Headers, content); got.Status != http.StatusForbidden {
		t.Errorf("expired presigned URL: got %d, want 403: %s", got.Status, got.Body)
	}
	r := a.call(t, "POST", tk.Complete, tok, nil)
	if p := r.problem(t); r.status != http.StatusGone || p.Type != httpapi.ProblemBase+"upload-expired" {
		t.Errorf("complete after expiry: got %d %+v", r.status, p)
	}
	a.unchanged(t, before)
}

func TestOtherTenantsAnswer404(t *testing.T) {
	a := newAPI(t, vault.Config{})
	dossier := a.createDossier(t)
	rb := a.upload(t, dossier, "plan.txt", []byte("plan"))
	tk := a.startUpload(t, a.token(t, uploader), dossier, "next.txt", []byte("next"))
	if got := testenv.Curl(t, tk.Upload.Method, tk.Upload.URL, tk.Upload.Headers, []byte("next")); got.Status != http.StatusOK {
		t.Fatal(got.Status)
	}
	before := a.stored(t)
	evil := a.token(t, stranger)
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/dossiers/" + dossier},
		{"GET", "/v1/dossiers/" + dossier + "/documents"},
		{"GET", "/v1/dossiers/" + dossier + "/versions?path=plan.txt"},
		{"GET", "/v1/dossiers/" + dossier + "/download?path=plan.txt"},
		{"GET", "/v1/receipts/" + rb.ReceiptID},
		{"POST", tk.Complete},
		{"GET", "/v1/dossiers/dos_aaaaaaaaaaaaaaaa"},
	} {
		r := a.call(t, c.method, c.path, evil, nil)
		if p := r.problem(t); r.status != http.StatusNotFound || p.Type != httpapi.ProblemBase+"not-found" {
			t.Errorf("%s %s as another tenant: got %d %s", c.method, c.path, r.status, r.body)
		}
	}
	r := a.call(t, "POST", "/v1/dossiers/"+dossier+"/uploads", evil, docBody("x.txt", []byte("x")))
	if r.status != http.StatusNotFound {
		t.Errorf("upload into another tenant's dossier: got %d", r.status)
	}
	a.unchanged(t, before)
	// The upload the stranger could not complete is still the owner's.
	if r := a.call(t, "POST", tk.Complete, a.token(t, uploader), nil); r.status != http.StatusOK {
		t.Errorf("owner's complete after the stranger's attempt: %d %s", r.status, r.body)
	}
}

func TestAuditorIsReadOnly(t *testing.T) {
	a := newAPI(t, vault.Config{})
	dossier := a.createDossier(t)
	before := a.stored(t)
	aud := a.token(t, auditor)
	r := a.call(t, "POST", "/v1/dossiers/"+dossier+"/uploads", aud, docBody("x.txt", []byte("x")))
	if p := r.problem(t); r.status != http.StatusForbidden || p.Type != httpapi.ProblemBase+"forbidden" {
		t.Errorf("auditor upload: got %d %s", r.status, r.body)
	}
	if r := a.call(t, "GET", "/v1/dossiers/"+dossier, aud, nil); r.status != http.StatusOK {
		t.Errorf("auditor read: got %d", r.status)
	}
	a.unchanged(t, before)
}

func TestVerifyForgedOrAlteredReceipt(t *testing.T) {
	a := newAPI(t, vault.Config{})
	dossier := a.createDossier(t)
	rb := a.upload(t, dossier, "a.txt", []byte("a"))
	before := a.stored(t)
	aud := a.token(t, auditor)

	var env map[string]any
	json.Unmarshal(rb.Envelope, &env)
	sigs := env["signatures"].([]any)
	sig := sigs[0].(map[string]any)
	forged, _ := base64.StdEncoding.DecodeString(sig["sig"].(string))
	forged[len(forged)-1] ^= 1
	sig["sig"] = base64.StdEncoding.EncodeToString(forged)
	r := a.call(t, "POST", "/v1/verify", aud, map[string]any{"receipt": env})
	var v vault.Verification
	r.json(t, &v)
	if r.status != http.StatusOK || v.Valid || !failed(v, vault.CheckSignature) {
		t.Errorf("forged signature: %d %+v", r.status, v)
	}
	r = a.call(t, "POST", "/v1/verify", aud, map[string]any{"receipt": "not an envelope"})
	r.json(t, &v)
	if v.Valid || !failed(v, vault.CheckFormat) {
		t.Errorf("garbage receipt: %+v", v)
	}
	r = a.call(t, "POST", "/v1/verify", aud, map[string]any{"sha256": "x"})
	if p := r.problem(t); r.status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Pointer != "/receipt" {
		t.Errorf("verify without a receipt: %d %s", r.status, r.body)
	}
	a.unchanged(t, before)
}

func failed(v vault.Verification, name string) bool {
	for _, c := range v.Checks {
		if c.Name == name {
			return !c.Passed && !c.Skipped
		}
	}
	return false
}

// Token checks themselves are internal/oidcauth's (verify_test.go); the
// API answers each refusal as 401 with a Bearer challenge, and stores
// nothing.
func TestTokensAreChecked(t *testing.T) {
	a := newAPI(t, vault.Config{})
	before := a.stored(t)
	stranger := testenv.NewIssuer(t)
	tests := []struct {
		name, token, detail string
	}{
		{"no token", "", "send a bearer token"},
		{"not a JWT", "abc.def", "not valid here"},
		{"another issuer's key", stranger.Token(t, uploader), "not valid here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.call(t, "POST", "/v1/dossiers", tt.token, dossierBody())
			p := r.problem(t)
			if r.status != http.StatusUnauthorized || !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("got %d %q, want 401 saying %q", r.status, p.Detail, tt.detail)
			}
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("got WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	a.unchanged(t, before)
}

func TestRoutingProblems(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	tests := []struct {
		method, path string
		status       int
		typ          string
	}{
		{"GET", "/v2/dossiers", 404, "not-found"},
		{"DELETE", "/v1/dossiers", 405, "method-not-allowed"},
		{"PUT", "/v1/receipts/rcp_x", 405, "method-not-allowed"},
		{"GET", "/v1/dossiers/dos_aaaaaaaaaaaaaaaa/versions", 400, "invalid-query"},
		{"GET", "/v1/dossiers/dos_aaaaaaaaaaaaaaaa/download?path=a&version=0", 400, "invalid-query"},
		{"GET", "/v1/receipts/not-an-id", 404, "not-found"},
		{"POST", "/v1/uploads/upl_nope/complete", 404, "not-found"},
		{"GET", "/v1/uploads/upl_nope", 404, "not-found"},
		{"DELETE", "/v1/uploads/upl_nope", 404, "not-found"},
		{"PUT", "/v1/uploads/upl_nope/parts", 405, "method-not-allowed"},
	}
	for _, tt := range tests {
		r := a.call(t, tt.method, tt.path, tok, nil)
		if p := r.problem(t); r.status != tt.status || p.Type != httpapi.ProblemBase+tt.typ {
			t.Errorf("%s %s: got %d %s, want %d %s", tt.method, tt.path, r.status, p.Type, tt.status, tt.typ)
		}
	}
	r := a.call(t, "GET", "/v1/dossiers", tok, nil, "X-Request-Id", "trace-123")
	if r.header.Get("X-Request-Id") != "trace-123" {
		t.Errorf("request id not echoed: %q", r.header.Get("X-Request-Id"))
	}
}

// TestTrustFromAPinnedKey: a caller who pins the vault's key verifies from
// it and is told so; the log's key history and entries are there for
// clients that check the log themselves.
func TestTrustFromAPinnedKey(t *testing.T) {
	a := newAPI(t, vault.Config{})
	dossier := a.createDossier(t)
	rb := a.upload(t, dossier, "a.txt", []byte("a"))
	aud := a.token(t, auditor)
	var keys struct{ Keys []vault.PublicKey }
	a.call(t, "GET", "/v1/keys", "", nil).json(t, &keys)
	other, err := receipt.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		key   string
		valid bool
		basis string
	}{
		{"the vault's key pinned", keys.Keys[0].PEM, true, "the key you pinned, " + keys.Keys[0].KeyID},
		{"another key pinned", string(other.Key().PEM()), false, "does not lead from it"},
		{"nothing pinned", "", true, "pin the vault's key yourself"},
	}
	for _, tt := range tests {
		var v vault.Verification
		r := a.call(t, "POST", "/v1/verify", aud, map[string]any{"receipt": json.RawMessage(rb.bundle(t)), "key": tt.key})
		r.json(t, &v)
		if r.status != http.StatusOK || v.Valid != tt.valid || v.Trusted == nil || !strings.Contains(v.Trusted.Basis, tt.basis) {
			t.Errorf("%s: got %d valid %v trusted %+v, want valid %v on %q", tt.name, r.status, v.Valid, v.Trusted, tt.valid, tt.basis)
		}
	}
	r := a.call(t, "POST", "/v1/verify", aud, map[string]any{"key": "not a key"})
	if p := r.problem(t); r.status != http.StatusUnprocessableEntity || len(p.Errors) != 2 || p.Errors[0].Pointer != "/receipt" || p.Errors[1].Pointer != "/key" {
		t.Errorf("verify with neither a receipt nor a key: got %d %s, want both fields named", r.status, r.body)
	}

	var kl vault.KeyLog
	r = a.call(t, "GET", "/v1/log/keys", aud, nil)
	r.json(t, &kl)
	// The log: the key's genesis, the auditor's grant, the receipt.
	if r.status != http.StatusOK || len(kl.Events) != 1 || kl.Events[0].Log.Index != 0 || !strings.HasPrefix(kl.Checkpoint, kl.Origin+"\n3\n") {
		t.Errorf("key history: got %d %+v, want the genesis at 0 under the checkpoint of 3", r.status, kl)
	}
	var entries vault.LogEntries
	r = a.call(t, "GET", "/v1/log/entries?start=0&end=10", aud, nil)
	r.json(t, &entries)
	// An auditor sees the grant's place, not whom the tenant granted.
	if r.status != http.StatusOK || len(entries.Entries) != 3 || entries.Entries[1].ID != "" || entries.Entries[1].Envelope != nil ||
		entries.Entries[2].ID != rb.ReceiptID || entries.Entries[2].Envelope == nil {
		t.Errorf("entries: got %d %s", r.status, r.body)
	}
	for _, q := range []struct{ query, pointers string }{
		{"start=x&end=0", "/start /end"},
		{"start=3&end=2", "/start"},
	} {
		r := a.call(t, "GET", "/v1/log/entries?"+q.query, aud, nil)
		p := r.problem(t)
		var got []string
		for _, e := range p.Errors {
			got = append(got, e.Pointer)
		}
		if r.status != http.StatusBadRequest || strings.Join(got, " ") != q.pointers {
			t.Errorf("entries?%s: got %d %v, want 400 naming %s", q.query, r.status, got, q.pointers)
		}
	}
	if r := a.call(t, "GET", "/v1/log/keys?size=0", aud, nil); r.status != http.StatusBadRequest {
		t.Errorf("key history at size 0: got %d, want 400", r.status)
	}
}
