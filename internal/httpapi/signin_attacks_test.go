package httpapi_test

// Attacks on sign-in, auditor grants and the access trail.
// Each test asserts a guarantee of docs/grants.md and docs/identity.md:
// a failing test is a successful attack.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/oidcauth"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/golang-jwt/jwt/v5"
)

var outsider = vault.Identity{Subject: "nora@nb0197.example", Role: vault.RoleAuditor}

// grantFor has tok's tenant grant body; it fails the test unless 201.
func (a *api) grantFor(t *testing.T, tok string, grantee map[string]any, dossiers []string, until time.Time) vault.Grant {
	t.Helper()
	r := a.call(t, "POST", "/v1/grants", tok, map[string]any{"grantee": grantee, "dossiers": dossiers, "until": until})
	if r.status != http.StatusCreated {
		t.Fatalf("grant: %d %s", r.status, r.body)
	}
	var g vault.Grant
	r.json(t, &g)
	return g
}

// withOwnSigner is the same vault behind a verifier of a key the test holds,
// so that the test can mint any claims the provider might.
func (a *api) withOwnSigner(t *testing.T) (*api, func(jwt.MapClaims) string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	v := oidcauth.WithKeys(oidcauth.Config{Issuer: issuer, Audience: audience}, &key.PublicKey)
	srv := httptest.NewServer(httpapi.New(a.svc, v, testenv.Logger(t)).Handler())
	t.Cleanup(srv.Close)
	b := *a
	b.url = srv.URL
	return &b, func(c jwt.MapClaims) string {
		base := jwt.MapClaims{"iss": issuer, "aud": audience, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
		for k, v := range c {
			base[k] = v
		}
		s, err := jwt.NewWithClaims(jwt.SigningMethodES256, base).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func (a *api) putObject(t *testing.T, key string, body []byte) {
	t.Helper()
	if _, err := a.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(a.bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("operator: put %s: %v", key, err)
	}
}

func (a *api) getObject(t *testing.T, key string) []byte {
	t.Helper()
	o, err := a.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(a.bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("operator: get %s: %v", key, err)
	}
	defer o.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(o.Body)
	return buf.Bytes()
}

func (a *api) hideObject(t *testing.T, key string) {
	t.Helper()
	if _, err := a.s3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(a.bucket), Key: aws.String(key)}); err != nil {
		t.Fatalf("operator: delete %s: %v", key, err)
	}
}

func (a *api) objectKeys(t *testing.T, prefix string) []string {
	t.Helper()
	out, err := a.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(a.bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// An auditor granted one dossier reaches no other dossier, no other
// tenant, no grant of another auditor, no grant entry of the log, no one
// else's access events, and cannot revoke.
func TestAuditorReadsOnlyWhatIsGranted(t *testing.T) {
	a := newAPI(t, vault.Config{})
	up, nora := a.token(t, uploader), a.token(t, outsider)
	demo := []string{"Vault-Tenant", "demo"}
	first := a.createDossier(t)
	other := dossierBody()
	other["basicUdiDi"], other["name"] = "7907665Bm8v2AB", "SpiroScan AI"
	var second vault.Dossier
	a.call(t, "POST", "/v1/dossiers", up, other).json(t, &second)
	a.upload(t, first, "a.txt", []byte("a"))
	rb := a.upload(t, second.ID, "b.txt", []byte("b"))
	g := a.grantFor(t, up, map[string]any{"email": outsider.Subject}, []string{first}, time.Now().Add(24*time.Hour))
	// Another tenant, where nora has nothing.
	str := a.token(t, stranger)
	var od vault.Dossier
	a.call(t, "POST", "/v1/dossiers", str, dossierBody()).json(t, &od)

	for _, c := range []struct{ name, path string }{
		{"dossier", "/v1/dossiers/" + second.ID},
		{"documents", "/v1/dossiers/" + second.ID + "/documents"},
		{"versions", "/v1/dossiers/" + second.ID + "/versions?path=b.txt"},
		{"version", "/v1/dossiers/" + second.ID + "/versions/1?path=b.txt"},
		{"download", "/v1/dossiers/" + second.ID + "/download?path=b.txt"},
		{"receipt", "/v1/receipts/" + rb.ReceiptID},
	} {
		if r := a.call(t, "GET", c.path, nora, nil, demo...); r.status != http.StatusNotFound {
			t.Errorf("%s of a dossier not granted: got %d %s, want 404", c.name, r.status, r.body)
		}
	}
	// Verify does not confirm storage facts of a dossier not granted.
	var v vault.Verification
	a.call(t, "POST", "/v1/verify", nora, map[string]any{"receipt": json.RawMessage(rb.bundle(t))}, demo...).json(t, &v)
	for _, c := range v.Checks {
		if (c.Name == vault.CheckDigest || c.Name == vault.CheckInLog || c.Name == vault.CheckLocked) && !c.Skipped {
			t.Errorf("verify of a dossier not granted checked %s: %+v", c.Name, c)
		}
	}
	// Another tenant: forbidden, whatever dossier.
	for _, path := range []string{"/v1/dossiers", "/v1/dossiers/" + od.ID, "/v1/grants", "/v1/access"} {
		if r := a.call(t, "GET", path, nora, nil, "Vault-Tenant", "other"); r.status != http.StatusForbidden {
			t.Errorf("%s in a tenant that granted nothing: got %d %s, want 403", path, r.status, r.body)
		}
	}
	// Grants: only her own; the API's auditor's grant is hidden.
	var gl struct{ Grants []vault.Grant }
	a.call(t, "GET", "/v1/grants", nora, nil, demo...).json(t, &gl)
	if len(gl.Grants) != 1 || gl.Grants[0].ID != g.ID {
		t.Errorf("auditor's grants: got %+v, want only her own %s", gl.Grants, g.ID)
	}
	var all struct{ Grants []vault.Grant }
	a.call(t, "GET", "/v1/grants", up, nil).json(t, &all)
	for _, og := range all.Grants {
		if og.ID == g.ID {
			continue
		}
		if r := a.call(t, "GET", "/v1/grants/"+og.ID, nora, nil, demo...); r.status != http.StatusNotFound {
			t.Errorf("another auditor's grant %s: got %d %s, want 404", og.ID, r.status, r.body)
		}
	}
	if r := a.call(t, "DELETE", "/v1/grants/"+g.ID, nora, nil, demo...); r.status != http.StatusForbidden {
		t.Errorf("auditor revoking: got %d, want 403", r.status)
	}
	if r := a.call(t, "DELETE", "/v1/grants/"+g.ID, str, nil); r.status != http.StatusNotFound {
		t.Errorf("another tenant's member revoking demo's grant: got %d, want 404", r.status)
	}
	if r := a.call(t, "DELETE", "/v1/grants/"+g.ID, str, nil, demo...); r.status != http.StatusForbidden {
		t.Errorf("another tenant's member revoking with Vault-Tenant demo: got %d, want 403", r.status)
	}
	// The log: no grant entry, no receipt of the other dossier, in full.
	r := a.call(t, "GET", fmt.Sprintf("/v1/log/entries?start=0&end=%d", g.LogIndex+1), nora, nil, demo...)
	if r.status != http.StatusOK {
		t.Fatalf("log entries: %d %s", r.status, r.body)
	}
	var le vault.LogEntries
	r.json(t, &le)
	for _, e := range le.Entries {
		if strings.Contains(e.ID, "gnt_") || strings.Contains(string(e.Envelope), "grant/v1") || e.ID == rb.ReceiptID {
			t.Errorf("auditor sees log entry %d %q in full", e.Index, e.ID)
		}
	}
	// The trail: the API's auditor downloads; nora must not see it.
	a.call(t, "GET", "/v1/dossiers/"+second.ID+"/download?path=b.txt", a.token(t, auditor), nil)
	var trail struct{ Events []vault.AccessEvent }
	a.call(t, "GET", "/v1/access", nora, nil, demo...).json(t, &trail)
	if len(trail.Events) != 0 {
		t.Errorf("auditor sees others' access events: %+v", trail.Events)
	}
	a.call(t, "GET", "/v1/access", up, nil).json(t, &trail)
	if len(trail.Events) != 0 {
		t.Errorf("uploader sees others' access events: %+v", trail.Events)
	}
}

// A member cannot act in another tenant, and odd Vault-Tenant values are
// specific problems, not 500s.
func TestMemberCannotNameAnotherTenant(t *testing.T) {
	a := newAPI(t, vault.Config{})
	up := a.token(t, uploader)
	admin := a.token(t, vault.Identity{Tenant: "demo", Subject: "dana@demo.example", Role: vault.RoleAdmin})
	for _, tok := range []string{up, admin} {
		for _, path := range []string{"/v1/dossiers", "/v1/grants", "/v1/access"} {
			if r := a.call(t, "GET", path, tok, nil, "Vault-Tenant", "other"); r.status != http.StatusForbidden {
				t.Errorf("member %s in another tenant: got %d %s, want 403", path, r.status, r.body)
			}
		}
		// Who one is answers whatever is named: still a member of demo.
		var me vault.Me
		if r := a.call(t, "GET", "/v1/me", tok, nil, "Vault-Tenant", "other"); r.status != http.StatusOK {
			t.Errorf("member /v1/me naming another tenant: got %d %s, want 200", r.status, r.body)
		} else if r.json(t, &me); me.Identity.Tenant != "demo" || me.Identity.Home != "demo" {
			t.Errorf("member /v1/me naming another tenant: got %+v, want a member of demo", me.Identity)
		}
	}
	for _, h := range []string{"DEMO", "../other", strings.Repeat("a", 64), "-x", "demo other", "ghost-tenant"} {
		for _, tok := range []string{up, a.token(t, outsider)} {
			r := a.call(t, "GET", "/v1/dossiers", tok, nil, "Vault-Tenant", h)
			if r.status >= 500 || r.status == http.StatusOK {
				t.Errorf("Vault-Tenant %q: got %d %s, want a 4xx problem", h, r.status, r.body)
			}
		}
	}
}

// Grants by e-mail need the provider to have verified it; a subject that
// looks like the address is not the address; subjects match exactly.
func TestGranteeMatching(t *testing.T) {
	a := newAPI(t, vault.Config{})
	up := a.token(t, uploader)
	a.createDossier(t)
	b, sign := a.withOwnSigner(t)
	until := time.Now().Add(24 * time.Hour)
	a.grantFor(t, up, map[string]any{"email": "eve@nb.example"}, []string{"*"}, until)
	a.grantFor(t, up, map[string]any{"subject": "Sub-Nora"}, []string{"*"}, until)
	demo := []string{"Vault-Tenant", "demo"}
	for _, c := range []struct {
		name   string
		claims jwt.MapClaims
		want   int
	}{
		{"verified e-mail (control)", jwt.MapClaims{"sub": "eve-1", "role": "auditor", "email": "eve@nb.example", "email_verified": true}, 200},
		{"unverified e-mail", jwt.MapClaims{"sub": "eve-2", "role": "auditor", "email": "eve@nb.example", "email_verified": false}, 403},
		{"email_verified missing", jwt.MapClaims{"sub": "eve-3", "role": "auditor", "email": "eve@nb.example"}, 403},
		{"email_verified \"false\"", jwt.MapClaims{"sub": "eve-4", "role": "auditor", "email": "eve@nb.example", "email_verified": "false"}, 403},
		{"email_verified 1", jwt.MapClaims{"sub": "eve-5", "role": "auditor", "email": "eve@nb.example", "email_verified": 1}, 403},
		{"subject is the address", jwt.MapClaims{"sub": "eve@nb.example", "role": "auditor"}, 403},
		{"e-mail as a list", jwt.MapClaims{"sub": "eve-6", "role": "auditor", "email": []string{"eve@nb.example"}, "email_verified": true}, 403},
		{"e-mail with spaces", jwt.MapClaims{"sub": "eve-7", "role": "auditor", "email": " eve@nb.example", "email_verified": true}, 401},
		{"subject in other case", jwt.MapClaims{"sub": "sub-nora", "role": "auditor"}, 403},
		{"subject exactly (control)", jwt.MapClaims{"sub": "Sub-Nora", "role": "auditor"}, 200},
		{"uploader named by the grant's e-mail", jwt.MapClaims{"sub": "eve-8", "role": "uploader", "tenant": "other", "email": "eve@nb.example", "email_verified": true}, 403},
		{"auditor whose token claims tenant demo", jwt.MapClaims{"sub": "eve-9", "role": "auditor", "tenant": "demo"}, 403},
		{"roles auditor and uploader", jwt.MapClaims{"sub": "eve-10", "role": []string{"auditor", "uploader"}, "tenant": "demo"}, 401},
	} {
		r := b.call(t, "GET", "/v1/dossiers", sign(c.claims), nil, demo...)
		if r.status != c.want {
			t.Errorf("%s: got %d %s, want %d", c.name, r.status, r.body, c.want)
		}
	}
}

// A grant ends at its until, in every process; a grant cannot name
// another tenant's dossier.
func TestGrantExpiryAndForeignDossier(t *testing.T) {
	a := newAPI(t, vault.Config{})
	up, nora := a.token(t, uploader), a.token(t, outsider)
	d := a.createDossier(t)
	var od vault.Dossier
	a.call(t, "POST", "/v1/dossiers", a.token(t, stranger), dossierBody()).json(t, &od)
	if r := a.call(t, "POST", "/v1/grants", up, map[string]any{"grantee": map[string]any{"email": outsider.Subject}, "dossiers": []string{od.ID}, "until": time.Now().Add(time.Hour)}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("grant naming another tenant's dossier: got %d %s, want 422", r.status, r.body)
	}
	a.grantFor(t, up, map[string]any{"email": outsider.Subject}, []string{d}, time.Now().Add(2*time.Second))
	demo := []string{"Vault-Tenant", "demo"}
	if r := a.call(t, "GET", "/v1/dossiers/"+d, nora, nil, demo...); r.status != http.StatusOK {
		t.Fatalf("before expiry: %d %s", r.status, r.body)
	}
	time.Sleep(2500 * time.Millisecond)
	if r := a.call(t, "GET", "/v1/dossiers/"+d, nora, nil, demo...); r.status != http.StatusForbidden {
		t.Errorf("after expiry: got %d %s, want 403", r.status, r.body)
	}
	var me vault.Me
	a.call(t, "GET", "/v1/me", nora, nil).json(t, &me)
	if len(me.Grants) != 0 {
		t.Errorf("me after expiry: got %+v, want no grants", me.Grants)
	}
}

func granteeDir(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "grantees/" + hex.EncodeToString(sum[:]) + "/"
}

// The operator: grant records copied from another tenant, a revocation
// hidden or written over, pointers to tenants that are not there: none
// gives access, none turns into a 500.
func TestOperatorCannotGrant(t *testing.T) {
	a := newAPI(t, vault.Config{})
	up, nora, str := a.token(t, uploader), a.token(t, outsider), a.token(t, stranger)
	d := a.createDossier(t)
	a.call(t, "POST", "/v1/dossiers", str, dossierBody())
	until := time.Now().Add(24 * time.Hour)
	demo := []string{"Vault-Tenant", "demo"}

	// 1. other grants nora everything; the operator copies the record to demo.
	og := a.grantFor(t, str, map[string]any{"email": outsider.Subject}, []string{"*"}, until)
	src := "vault/other/grants/grant-" + og.ID + ".json"
	a.putObject(t, "vault/demo/grants/grant-"+og.ID+".json", a.getObject(t, src))
	a.putObject(t, granteeDir("email:"+outsider.Subject)+"demo/"+og.ID, []byte("demo\n"))
	// A grant in demo to someone else, so that demo's cache is dropped.
	a.grantFor(t, up, map[string]any{"email": "x@y.example"}, []string{d}, until)
	if r := a.call(t, "GET", "/v1/dossiers/"+d, nora, nil, demo...); r.status != http.StatusForbidden {
		t.Errorf("other's grant record copied into demo: got %d %s, want 403", r.status, r.body)
	}

	// 2. demo grants nora, then revokes; the operator hides the revocation
	// with a delete marker, then writes garbage over it.
	g := a.grantFor(t, up, map[string]any{"email": outsider.Subject}, []string{d}, until)
	if r := a.call(t, "DELETE", "/v1/grants/"+g.ID, up, nil); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	rev := "vault/demo/grants/revoke-" + g.ID + ".json"
	a.hideObject(t, rev)
	a.grantFor(t, up, map[string]any{"email": "x2@y.example"}, []string{d}, until)
	if r := a.call(t, "GET", "/v1/dossiers/"+d, nora, nil, demo...); r.status != http.StatusForbidden {
		t.Errorf("revocation hidden by a delete marker: got %d %s, want 403", r.status, r.body)
	}
	a.putObject(t, rev, []byte(`{"envelope":{},"log":{"index":0}}`))
	a.grantFor(t, up, map[string]any{"email": "x3@y.example"}, []string{d}, until)
	if r := a.call(t, "GET", "/v1/dossiers/"+d, nora, nil, demo...); r.status != http.StatusForbidden {
		t.Errorf("revocation written over: got %d %s, want 403", r.status, r.body)
	}
	// The revocation's record replaced by the grant's own record.
	a.putObject(t, rev, a.getObject(t, "vault/demo/grants/grant-"+g.ID+".json"))
	a.grantFor(t, up, map[string]any{"email": "x4@y.example"}, []string{d}, until)
	if r := a.call(t, "GET", "/v1/dossiers/"+d, nora, nil, demo...); r.status != http.StatusForbidden {
		t.Errorf("revocation replaced by the grant record: got %d %s, want 403", r.status, r.body)
	}
	var gl struct{ Grants []vault.Grant }
	a.call(t, "GET", "/v1/grants", up, nil).json(t, &gl)
	for _, x := range gl.Grants {
		if x.ID == og.ID {
			t.Errorf("demo lists other's copied grant %s", og.ID)
		}
		if x.ID == g.ID && x.Status != "revoked" {
			t.Errorf("revoked grant listed as %s", x.Status)
		}
	}

	// 3. A pointer to a tenant with no log, with a planted "grant" there.
	ghost := "gnt_" + strings.Repeat("a", 26)
	a.putObject(t, granteeDir("email:"+outsider.Subject)+"ghost/"+ghost, []byte("ghost\n"))
	a.putObject(t, "vault/ghost/grants/grant-"+ghost+".json", a.getObject(t, src))
	if r := a.call(t, "GET", "/v1/me", nora, nil); r.status != http.StatusOK {
		t.Errorf("/v1/me with a planted pointer to a tenant without a log: got %d %s, want 200", r.status, r.body)
	} else {
		var me vault.Me
		r.json(t, &me)
		for _, x := range me.Grants {
			if x.Tenant != "other" {
				t.Errorf("/v1/me shows a grant of %s: %+v", x.Tenant, x)
			}
		}
	}
	if r := a.call(t, "GET", "/v1/dossiers", nora, nil, "Vault-Tenant", "ghost"); r.status != http.StatusForbidden {
		t.Errorf("Vault-Tenant ghost with planted records: got %d %s, want 403", r.status, r.body)
	}
	// 4. Junk under demo's own grants prefix, named like a grant event.
	a.putObject(t, "vault/demo/grants/grant-gnt_"+strings.Repeat("b", 26)+".json", []byte("junk"))
	a.grantFor(t, up, map[string]any{"email": "x5@y.example"}, []string{d}, until)
	if r := a.call(t, "GET", "/v1/grants", up, nil); r.status != http.StatusOK {
		t.Errorf("grants with junk planted: got %d %s", r.status, r.body)
	}
}

// The operator and the access trail: a download's event cannot be hidden,
// nor an event planted, copied or moved.
func TestOperatorAndTheAccessTrail(t *testing.T) {
	a := newAPI(t, vault.Config{})
	up, str := a.token(t, uploader), a.token(t, stranger)
	admin := a.token(t, vault.Identity{Tenant: "demo", Subject: "dana@demo.example", Role: vault.RoleAdmin})
	d := a.createDossier(t)
	a.upload(t, d, "a.txt", []byte("a"))
	var od vault.Dossier
	a.call(t, "POST", "/v1/dossiers", str, dossierBody()).json(t, &od)
	if r := a.call(t, "GET", "/v1/dossiers/"+d+"/download?path="+url.QueryEscape("a.txt"), up, nil); r.status != http.StatusOK {
		t.Fatalf("download: %d %s", r.status, r.body)
	}
	day := time.Now().UTC().Format(time.DateOnly)
	keys := a.objectKeys(t, "vault/demo/access/"+day+"/")
	if len(keys) != 1 {
		t.Fatalf("access records: %v", keys)
	}
	rec := keys[0]
	body := a.getObject(t, rec)
	count := func(name string) int {
		t.Helper()
		r := a.call(t, "GET", "/v1/access", admin, nil)
		if r.status != http.StatusOK {
			t.Errorf("%s: trail: %d %s", name, r.status, r.body)
			return -1
		}
		var trail struct{ Events []vault.AccessEvent }
		r.json(t, &trail)
		return len(trail.Events)
	}
	// Hidden by a delete marker, then written over.
	a.hideObject(t, rec)
	if n := count("delete marker"); n != 1 {
		t.Errorf("access record behind a delete marker: admin sees %d events, want 1", n)
	}
	a.putObject(t, rec, []byte("{}"))
	if n := count("written over"); n != 1 {
		t.Errorf("access record written over: admin sees %d events, want 1", n)
	}
	// Copied to another key of the same day, and to another day.
	a.putObject(t, strings.Replace(rec, "/0", "/1", 1), body)
	a.putObject(t, "vault/demo/access/"+day+"/99999999999999999999-acc_0000000000000000.json", body)
	a.putObject(t, "vault/demo/access/"+day+"/junk.json", []byte("junk"))
	if n := count("copies"); n != 1 {
		t.Errorf("copied access records: admin sees %d events, want 1", n)
	}
	// Copied into another tenant's trail.
	a.putObject(t, strings.Replace(rec, "vault/demo/", "vault/other/", 1), body)
	otherAdmin := a.token(t, vault.Identity{Tenant: "other", Subject: "oscar@other.example", Role: vault.RoleAdmin})
	var trail struct{ Events []vault.AccessEvent }
	if r := a.call(t, "GET", "/v1/access", otherAdmin, nil); r.status != http.StatusOK {
		t.Errorf("other's trail: %d %s", r.status, r.body)
	} else if r.json(t, &trail); len(trail.Events) != 0 {
		t.Errorf("demo's event copied into other's trail shown: %+v", trail.Events)
	}
	// Bad queries are problems, not 500s.
	for _, q := range []string{"since=2026-13-01", "since=2026-01-10&until=2026-01-01", "since=2020-01-01&until=2026-01-01", "cursor=zzz", "limit=-1", "limit=100000"} {
		if r := a.call(t, "GET", "/v1/access?"+q, admin, nil); r.status >= 500 {
			t.Errorf("/v1/access?%s: got %d %s", q, r.status, r.body)
		}
	}
}
