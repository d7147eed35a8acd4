package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

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
