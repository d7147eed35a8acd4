package httpapi_test

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/vault"
)

// POST /v1/grants with a field of the wrong JSON type names that field and
// every other wrong one, as every body route does; nothing is stored.
func TestGrantListsEveryBadField(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	a.createDossier(t)
	before := a.stored(t)
	r := a.call(t, "POST", "/v1/grants", tok, map[string]any{
		"grantee":  map[string]any{"email": "not-an-address"},
		"dossiers": []string{"dos_nope"},
		"until":    12345, // wrong type
	})
	p := r.problem(t)
	got := []string{}
	for _, e := range p.Errors {
		got = append(got, e.Pointer)
	}
	for _, want := range []string{"/until", "/grantee/email", "/dossiers/0"} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("got %d with errors at %v; want one at %s too", r.status, got, want)
		}
	}
	a.unchanged(t, before)
}

// Two Vault-Tenant headers name two tenants: the request is ambiguous, and
// refused.
func TestTwoTenantHeadersRefused(t *testing.T) {
	a := newAPI(t, vault.Config{})
	a.createDossier(t)
	req, err := http.NewRequest("GET", a.url+"/v1/dossiers", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token(t, nora))
	until := time.Now().Add(24 * time.Hour).UTC()
	if r := a.call(t, "POST", "/v1/grants", a.token(t, uploader), map[string]any{"grantee": map[string]any{"subject": nora.Subject}, "dossiers": []string{"*"}, "until": until}); r.status != http.StatusCreated {
		t.Fatalf("grant: %d %s", r.status, r.body)
	}
	req.Header.Add("Vault-Tenant", "demo")
	req.Header.Add("Vault-Tenant", "other")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("two Vault-Tenant headers (demo, other): got %d, want 400", resp.StatusCode)
	}
}

// A query parameter given twice is ambiguous, and refused by name.
func TestQueryParameterTwiceRefused(t *testing.T) {
	a := newAPI(t, vault.Config{})
	admin := vault.Identity{Tenant: "demo", Subject: "bob@demo.example", Role: vault.RoleAdmin}
	today := time.Now().UTC().Format(time.DateOnly)
	r := a.call(t, "GET", "/v1/access?since="+today+"&since=2000-01-01", a.token(t, admin), nil)
	if r.status != http.StatusBadRequest {
		t.Fatalf("since twice: got %d %s, want 400", r.status, strings.TrimSpace(string(r.body)))
	}
	if p := r.problem(t); len(p.Errors) != 1 || p.Errors[0].Pointer != "/since" {
		t.Errorf("since twice: got problems %+v, want one at /since", p.Errors)
	}
}

// API Gateway joins two Idempotency-Key headers with a comma: a key with
// a comma is refused, and nothing is stored.
func TestJoinedIdempotencyKeysRefused(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	before := a.stored(t)
	r := a.call(t, "POST", "/v1/dossiers", tok, dossierBody(), "Idempotency-Key", "k1,k2")
	if p := r.problem(t); r.status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Pointer != "/Idempotency-Key" {
		t.Errorf("Idempotency-Key k1,k2: got %d %+v, want 422 with one problem at /Idempotency-Key", r.status, p.Errors)
	}
	a.unchanged(t, before)
}

// A request that takes no body refuses one that names anything, each
// member as an unknown field, before anything is stored: an export sent
// {"paths": [...]} must not log a snapshot of the whole dossier as if
// asked for it. An empty body or {} is no body.
func TestBodilessRoutesRefuseBodies(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	d := a.createDossier(t)
	a.upload(t, d, "a.txt", []byte("a\n"))
	before := a.stored(t)
	for _, tt := range []struct{ method, path string }{
		{"POST", "/v1/dossiers/" + d + "/exports"},
		{"POST", "/v1/uploads/upl_aaaaaaaaaaaaaaaaaaaaaaaaaa/complete"},
		{"DELETE", "/v1/uploads/upl_aaaaaaaaaaaaaaaaaaaaaaaaaa"},
		{"DELETE", "/v1/grants/gnt_aaaaaaaaaaaaaaaaaaaaaaaaaa"},
	} {
		r := a.call(t, tt.method, tt.path, tok, `{"paths": ["a.txt"], "checkpoint": 1}`)
		p := r.problem(t)
		var got []string
		for _, e := range p.Errors {
			got = append(got, e.Pointer)
		}
		if r.status != http.StatusBadRequest || p.Type != httpapi.ProblemBase+"unknown-fields" || strings.Join(got, " ") != "/paths /checkpoint" {
			t.Errorf("%s %s with a body: got %d %s %v, want 400 unknown-fields [/paths /checkpoint]", tt.method, tt.path, r.status, p.Type, got)
		}
		for _, body := range []string{`[1]`, `null`, `"x"`} {
			if r := a.call(t, tt.method, tt.path, tok, body); r.status != http.StatusBadRequest {
				t.Errorf("%s %s with %s: got %d, want 400", tt.method, tt.path, body, r.status)
			}
		}
	}
	a.unchanged(t, before)
	if r := a.call(t, "POST", "/v1/dossiers/"+d+"/exports", tok, `{}`); r.status != http.StatusCreated {
		t.Errorf("an export with {}: got %d %s, want 201", r.status, r.body)
	}
}

// Whole numbers of queries and paths are decimal digits, as the contract
// types them: "+1" is refused, not read as 1 (an immutable answer would
// then have two URLs), and a versions cursor must hold a count.
func TestNumbersAreDigitsOnly(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	d := a.createDossier(t)
	a.upload(t, d, "a.txt", []byte("a\n"))
	forged := base64.RawURLEncoding.EncodeToString([]byte("versions\x00not-a-number"))
	for _, tt := range []struct{ url, field string }{
		{"/v1/dossiers?limit=%2B2", "/limit"},
		{"/v1/dossiers/" + d + "/download?path=a.txt&version=%2B1", "/version"},
		{"/v1/dossiers/" + d + "/download?path=a.txt&version=99999999999", "/version"},
		{"/v1/log/checkpoints/%2B1", "/size"},
		{"/v1/dossiers/" + d + "/versions/%2B1?path=a.txt", "/version"},
		{"/v1/dossiers/" + d + "/versions/-0?path=a.txt", "/version"},
		{"/v1/log/proofs/inclusion?index=%2B0&size=1", "/index"},
		{"/v1/log/checkpoints/01", "/size"},
		{"/v1/dossiers?limit=007", "/limit"},
		{"/v1/dossiers/" + d + "/versions?path=a.txt&cursor=" + forged, "/cursor"},
	} {
		r := a.call(t, "GET", tt.url, tok, nil)
		p := r.problem(t)
		if r.status != http.StatusBadRequest || p.Type != httpapi.ProblemBase+"invalid-query" || len(p.Errors) != 1 || p.Errors[0].Pointer != tt.field {
			t.Errorf("GET %s: got %d %s %v, want 400 invalid-query naming %s", tt.url, r.status, p.Type, p.Errors, tt.field)
		}
	}
	if r := a.call(t, "GET", "/v1/dossiers/"+d+"/versions/1?path=a.txt", tok, nil); r.status != http.StatusOK {
		t.Errorf("GET version 1: got %d", r.status)
	}
}

// An auditor's malformed Vault-Tenant is named in the problem's errors.
func TestTenantHeaderIsNamed(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, auditor)
	for _, tenant := range []string{"Not_A_Tenant", "-demo", "demo!"} {
		r := a.call(t, "GET", "/v1/dossiers", tok, nil, "Vault-Tenant", tenant)
		p := r.problem(t)
		if r.status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Pointer != "/Vault-Tenant" {
			t.Errorf("Vault-Tenant %q: got %d %v, want 422 naming /Vault-Tenant", tenant, r.status, p.Errors)
		}
	}
}

// POST /v1/verify lists every bad field when one has the wrong type.
func TestVerifyListsEveryBadField(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	for _, tt := range []struct{ body, want string }{
		{`{"sha256": 5}`, "/receipt /sha256"},
		{`{"sha256": 5, "key": "not a key"}`, "/key /receipt /sha256"},
		{`{"receipt": null}`, "/receipt"},
	} {
		p := a.call(t, "POST", "/v1/verify", tok, tt.body).problem(t)
		var got []string
		for _, f := range p.Errors {
			got = append(got, f.Pointer)
		}
		slices.Sort(got)
		if strings.Join(got, " ") != tt.want {
			t.Errorf("verify %s: got fields %v, want %s", tt.body, got, tt.want)
		}
	}
}

// The access trail is read at most 92 days at a time, both ends counted.
func TestAccessTrailDays(t *testing.T) {
	a := newAPI(t, vault.Config{})
	admin := a.token(t, vault.Identity{Tenant: "demo", Subject: "admin@demo.example", Role: vault.RoleAdmin})
	for _, tt := range []struct {
		until string
		want  int
	}{
		{"2026-04-02", http.StatusOK}, // 92 days from 2026-01-01
		{"2026-04-03", http.StatusUnprocessableEntity},
	} {
		if r := a.call(t, "GET", "/v1/access?since=2026-01-01&until="+tt.until, admin, nil); r.status != tt.want {
			t.Errorf("since 2026-01-01 until %s: got %d, want %d", tt.until, r.status, tt.want)
		}
	}
}

// Re-reading a body without its wrong-type members costs a pass per
// member, so it is bounded: a 64 KiB body of 32,000 bad elements is
// refused at once (before the bound, in minutes), its type problems
// listed. And a rule over a list with removed elements is not judged:
// [1, 2] is not "a dossier given twice".
func TestManyWrongTypesAreBounded(t *testing.T) {
	a := newAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	a.createDossier(t)
	body := `{"grantee":{"subject":"nora@nb.example"},"until":"2030-01-01T00:00:00Z","dossiers":[` + strings.TrimSuffix(strings.Repeat("0,", 32000), ",") + `]}`
	done := make(chan response, 1)
	go func() { done <- a.call(t, "POST", "/v1/grants", tok, body) }()
	select {
	case r := <-done:
		if p := r.problem(t); r.status >= 500 || len(p.Errors) < 32000 {
			t.Errorf("got %d with %d problems, want each of 32,000 elements named", r.status, len(p.Errors))
		}
	case <-time.After(20 * time.Second): // a hang guard, not a speed target
		t.Fatal("a 64 KiB body of wrong types held the server for 20 s")
	}
	r := a.call(t, "POST", "/v1/grants", tok, map[string]any{
		"grantee": map[string]any{"subject": "nora@nb.example"}, "dossiers": []any{1, 2}, "until": time.Now().Add(time.Hour).UTC(),
	})
	for _, e := range r.problem(t).Errors {
		if e.Pointer != "/dossiers/0" && e.Pointer != "/dossiers/1" {
			t.Errorf("a problem the body does not have: %s (%s)", e.Pointer, e.Detail)
		}
	}
}
