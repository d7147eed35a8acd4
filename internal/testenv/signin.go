package testenv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/devoidc"
	"github.com/evidencevault/vault/internal/oidcauth"
	"github.com/evidencevault/vault/internal/vault"
)

// Issuer signs tokens as the sign-in provider does, for tests: the API
// verifies them with internal/oidcauth, given the issuer's key instead of
// its discovery document (devoidc's own tests take that path).
type Issuer struct{ p *devoidc.Provider }

// IssuerURL and ClientID are what tests' tokens say.
const (
	IssuerURL = "https://issuer.test"
	ClientID  = "evidence-vault"
)

// NewIssuer returns an issuer with a fresh key.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	p, err := devoidc.New(IssuerURL, ClientID, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Issuer{p}
}

// ServeIssuer returns an issuer served on 127.0.0.1 (discovery, JWKS,
// sign-in), for processes that find its keys themselves.
func ServeIssuer(t testing.TB) *Issuer {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p, err := devoidc.New(srv.URL+"/issuer", ClientID, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/issuer/", p.Handler())
	return &Issuer{p}
}

// URL is the issuer's URL, as its tokens' iss says.
func (i *Issuer) URL() string { return i.p.Issuer() }

// Verifier verifies the issuer's tokens.
func (i *Issuer) Verifier() *oidcauth.Verifier {
	return oidcauth.WithKeys(oidcauth.Config{Issuer: IssuerURL, Audience: ClientID}, i.p.PublicKey())
}

// Token is an ID token for id: its home tenant (Tenant for members),
// subject, role, and its subject as verified e-mail when it looks like
// one.
func (i *Issuer) Token(t testing.TB, id vault.Identity) string {
	t.Helper()
	home := id.Home
	if home == "" && id.Role != vault.RoleAuditor {
		home = id.Tenant
	}
	u := devoidc.User{Subject: id.Subject, Email: id.Email, Tenant: home, Role: id.Role, Name: id.Name}
	if u.Email == "" && strings.Contains(id.Subject, "@") {
		u.Email = id.Subject
	}
	// A sign-in of id.AuthTime when the identity names one, else now.
	signedIn := id.AuthTime
	if signedIn.IsZero() {
		signedIn = time.Now()
	}
	tok, err := i.p.TokenSignedInAt(u, signedIn, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// GrantAll has member give the auditor named by email every dossier of
// member's tenant, for a year.
func GrantAll(t testing.TB, svc *vault.Service, member vault.Identity, email string) vault.Grant {
	t.Helper()
	until := time.Now().AddDate(1, 0, 0)
	g, err := svc.CreateGrant(vault.NewContext(context.Background(), member), vault.GrantInput{
		Grantee: &vault.Grantee{Email: email}, Dossiers: []string{vault.AllDossiers}, Until: &until})
	if err != nil {
		t.Fatal(err)
	}
	return g
}
