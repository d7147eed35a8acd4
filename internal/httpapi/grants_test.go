package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/vault"
)

// nora audits for a notified body: she belongs to no tenant, and reads
// what tenants grant her, naming the tenant per request.
var nora = vault.Identity{Subject: "nora@nb0197.example", Role: vault.RoleAuditor}

func TestGrantsGiveAuditorsTheirDossiers(t *testing.T) {
	a := newAPI(t, vault.Config{})
	up, aud := a.token(t, uploader), a.token(t, nora)
	demo := []string{"Vault-Tenant", "demo"}
	first := a.createDossier(t)
	other := dossierBody()
	other["basicUdiDi"], other["name"] = "7907665Bm8v2AB", "SpiroScan AI"
	r := a.call(t, "POST", "/v1/dossiers", up, other)
	var second vault.Dossier
	r.json(t, &second)
	a.upload(t, first, "test-reports/a.txt", []byte("report a\n"))
	a.upload(t, second.ID, "test-reports/b.txt", []byte("report b\n"))

	// Before any grant: who she is answers; the tenant's data does not.
	var me vault.Me
	if r := a.call(t, "GET", "/v1/me", aud, nil); r.status != http.StatusOK {
		t.Fatalf("me: %d %s", r.status, r.body)
	} else if r.json(t, &me); me.Identity.Email != nora.Subject || len(me.Grants) != 0 {
		t.Errorf("me: got %+v, want nora with no grants", me)
	}
	if r := a.call(t, "GET", "/v1/dossiers", aud, nil); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.problem(t).Detail, "Vault-Tenant") {
		t.Errorf("no tenant named: got %d %s, want 422 asking for Vault-Tenant", r.status, r.body)
	}
	if r := a.call(t, "GET", "/v1/dossiers", aud, nil, demo...); r.status != http.StatusForbidden {
		t.Errorf("no grant yet: got %d %s, want 403", r.status, r.body)
	}
	if r := a.call(t, "GET", "/v1/me", aud, nil, demo...); r.status != http.StatusOK {
		t.Errorf("me, naming a tenant that granted nothing: got %d %s, want 200", r.status, r.body)
	}

	until := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
	r = a.call(t, "POST", "/v1/grants", up, map[string]any{"grantee": map[string]any{"email": "Nora@NB0197.example"}, "dossiers": []string{first},
		"until": until, "note": "technical documentation assessment"})
	var g vault.Grant
	r.json(t, &g)
	if r.status != http.StatusCreated || r.header.Get("Location") != "/v1/grants/"+g.ID || g.Status != "active" || g.Grantee.Email != nora.Subject || g.LogIndex < 1 {
		t.Fatalf("grant: got %d %s", r.status, r.body)
	}

	// With the grant: the granted dossier, its download, nothing else.
	var list struct{ Dossiers []vault.Dossier }
	a.call(t, "GET", "/v1/dossiers", aud, nil, demo...).json(t, &list)
	if len(list.Dossiers) != 1 || list.Dossiers[0].ID != first {
		t.Errorf("dossiers: got %+v, want only %s", list.Dossiers, first)
	}
	if r := a.call(t, "GET", "/v1/dossiers/"+second.ID, aud, nil, demo...); r.status != http.StatusNotFound {
		t.Errorf("a dossier not granted: got %d, want 404", r.status)
	}
	if r := a.call(t, "GET", "/v1/dossiers/"+first+"/download?path="+url.QueryEscape("test-reports/a.txt"), aud, nil, demo...); r.status != http.StatusOK {
		t.Errorf("download: got %d %s", r.status, r.body)
	}
	for _, c := range []struct {
		name, method, path string
		body               any
	}{
		{"grant", "POST", "/v1/grants", map[string]any{"grantee": map[string]any{"email": "x@y.example"}, "dossiers": []string{"*"}, "until": until}},
		{"upload", "POST", "/v1/dossiers/" + first + "/uploads", docBody("test-reports/c.txt", []byte("c"))},
	} {
		if r := a.call(t, c.method, c.path, aud, c.body, demo...); r.status != http.StatusForbidden {
			t.Errorf("auditor %s: got %d, want 403", c.name, r.status)
		}
	}
	if r := a.call(t, "GET", "/v1/dossiers", a.token(t, stranger), nil, demo...); r.status != http.StatusForbidden {
		t.Errorf("a member of another tenant naming demo: got %d, want 403", r.status)
	}

	// The other tenant grants her too: one identity, two tenants.
	r = a.call(t, "POST", "/v1/dossiers", a.token(t, stranger), dossierBody())
	if r.status != http.StatusCreated {
		t.Fatalf("other tenant's dossier: %d %s", r.status, r.body)
	}
	if r := a.call(t, "POST", "/v1/grants", a.token(t, stranger), map[string]any{"grantee": map[string]any{"subject": nora.Subject}, "dossiers": []string{"*"}, "until": until}); r.status != http.StatusCreated {
		t.Fatalf("other tenant's grant: %d %s", r.status, r.body)
	}
	a.call(t, "GET", "/v1/me", aud, nil).json(t, &me)
	var tenants []string
	for _, g := range me.Grants {
		tenants = append(tenants, g.Tenant)
	}
	if slices.Sort(tenants); !slices.Equal(tenants, []string{"demo", "other"}) {
		t.Errorf("me: got grants of %v, want demo and other", tenants)
	}
	if r := a.call(t, "GET", "/v1/dossiers", aud, nil, "Vault-Tenant", "other"); r.status != http.StatusOK {
		t.Errorf("dossiers of other: got %d %s", r.status, r.body)
	}

	// The access trail: the admin sees her download, she sees her own.
	admin := vault.Identity{Tenant: "demo", Subject: "dana@demo.example", Role: vault.RoleAdmin}
	var trail struct{ Events []vault.AccessEvent }
	a.call(t, "GET", "/v1/access", a.token(t, admin), nil).json(t, &trail)
	if len(trail.Events) != 1 || trail.Events[0].Who.Subject != nora.Subject || trail.Events[0].Path != "test-reports/a.txt" ||
		!slices.Equal(trail.Events[0].Grants, []string{g.ID}) || trail.Events[0].Version != 1 {
		t.Errorf("admin's trail: got %+v, want nora's one download under grant %s", trail.Events, g.ID)
	}
	a.call(t, "GET", "/v1/access", aud, nil, demo...).json(t, &trail)
	if len(trail.Events) != 1 {
		t.Errorf("nora's trail: got %d events, want her one", len(trail.Events))
	}
	a.call(t, "GET", "/v1/access", up, nil).json(t, &trail)
	if len(trail.Events) != 0 {
		t.Errorf("an uploader's trail: got %d events, want only their own (none)", len(trail.Events))
	}

	// Revoked: access ends at once.
	r = a.call(t, "DELETE", "/v1/grants/"+g.ID, up, nil)
	r.json(t, &g)
	if r.status != http.StatusOK || g.Status != "revoked" || g.RevokedBy == nil || g.RevokedBy.Subject != uploader.Subject {
		t.Errorf("revoke: got %d %s", r.status, r.body)
	}
	if r := a.call(t, "GET", "/v1/dossiers/"+first, aud, nil, demo...); r.status != http.StatusForbidden {
		t.Errorf("after revocation: got %d, want 403", r.status)
	}
	var grants struct{ Grants []vault.Grant }
	a.call(t, "GET", "/v1/grants", up, nil).json(t, &grants)
	// Newest first: nora's, revoked, then the test API's own auditor's.
	if len(grants.Grants) != 2 || grants.Grants[0].ID != g.ID || grants.Grants[0].Status != "revoked" || grants.Grants[1].Status != "active" {
		t.Errorf("grants: got %+v, want nora's revoked, then the API's auditor's", grants.Grants)
	}
}

func TestGrantProblems(t *testing.T) {
	a := newAPI(t, vault.Config{})
	up := a.token(t, uploader)
	a.createDossier(t)
	before := a.stored(t)
	past := time.Now().Add(-time.Hour)
	r := a.call(t, "POST", "/v1/grants", up, map[string]any{
		"grantee":  map[string]any{"email": "nora@nb.example", "subject": "nora"},
		"dossiers": []string{"dos_aaaaaaaaaaaaaaaa", "bogus"},
		"until":    past,
	})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	wantPointers(t, r.problem(t), "/dossiers/0", "/dossiers/1", "/grantee/email", "/until")
	r = a.call(t, "POST", "/v1/grants", up, map[string]any{"grantee": map[string]any{}, "dossiers": []string{}, "until": time.Now().AddDate(9, 0, 0)})
	wantPointers(t, r.problem(t), "/dossiers", "/grantee/email", "/grantee/subject", "/until")
	if r := a.call(t, "DELETE", "/v1/grants/gnt_nonesuch", up, nil); r.status != http.StatusNotFound {
		t.Errorf("revoke an unknown grant: got %d, want 404", r.status)
	}
	a.unchanged(t, before)
}
