package devoidc_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/devoidc"
	"github.com/evidencevault/vault/internal/oidcauth"
	"github.com/evidencevault/vault/internal/vault"
	"golang.org/x/oauth2"
)

var alice = devoidc.User{Subject: "alice@demo.example", Name: "Alice", Email: "alice@demo.example", Tenant: "demo", Role: vault.RoleUploader}

// provider serves a dev provider at /dev-issuer of a test server.
func provider(t *testing.T) (*devoidc.Provider, string) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p, err := devoidc.New(srv.URL+"/dev-issuer", "evidence-vault", []devoidc.User{alice})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/dev-issuer/", p.Handler())
	return p, srv.URL
}

// noRedirects is a browser that stops at the provider's redirect.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// signIn plays the browser: opens the authorization URL, picks the user
// on the sign-in page, and returns where the provider redirects.
func signIn(t *testing.T, authURL, subject string) (*url.URL, int) {
	t.Helper()
	resp, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode
	}
	if !strings.Contains(string(page), "Alice") {
		t.Errorf("sign-in page names no demo user: %s", page)
	}
	u, _ := url.Parse(authURL)
	form := u.Query()
	form.Set("user", subject)
	resp, err = noRedirects.PostForm(u.Scheme+"://"+u.Host+u.Path, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, resp.StatusCode
	}
	to, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return to, resp.StatusCode
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	ctx := context.Background()
	p, _ := provider(t)
	conf := &oauth2.Config{ClientID: "evidence-vault", RedirectURL: "http://127.0.0.1:41234/callback", Scopes: []string{"openid", "email"},
		Endpoint: oauth2.Endpoint{AuthURL: p.Issuer() + "/authorize", TokenURL: p.Issuer() + "/token", AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	to, status := signIn(t, conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier)), alice.Subject)
	if status != http.StatusFound || to.Host != "127.0.0.1:41234" || to.Query().Get("state") != "st4te" || to.Query().Get("code") == "" {
		t.Fatalf("redirect: got %d %v", status, to)
	}
	code := to.Query().Get("code")

	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); !isOAuthError(err, "invalid_grant") {
		t.Errorf("another verifier: got %v, want invalid_grant", err)
	}
	// The code was spent by the failed exchange: a code is used once.
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Errorf("a spent code: got %v, want invalid_grant", err)
	}

	to, _ = signIn(t, conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier)), alice.Subject)
	tok, err := conf.Exchange(ctx, to.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	// The vault's own verifier, through discovery and JWKS.
	v := oidcauth.New(oidcauth.Config{Issuer: p.Issuer(), Audience: "evidence-vault"})
	id, err := v.Verify(ctx, raw)
	if err != nil || id.Subject != alice.Subject || id.Tenant != "demo" || id.Role != vault.RoleUploader || id.Email != alice.Email {
		t.Errorf("the ID token verifies as %+v, %v; want alice, uploader of demo", id, err)
	}

	signedIn := id.AuthTime
	if signedIn.IsZero() || time.Since(signedIn) > time.Minute {
		t.Errorf("auth_time: got %v, want the sign-in just now", signedIn)
	}

	// Refresh, ten minutes on: a new ID token; the old refresh token is
	// spent; auth_time is still the sign-in's, so a refresh is no
	// re-authentication for a sign-off.
	later := time.Now().Add(10 * time.Minute)
	p.SetClock(func() time.Time { return later })
	old := tok.RefreshToken
	tok.Expiry = time.Now().Add(-time.Minute)
	next, err := conf.TokenSource(ctx, tok).Token()
	if err != nil || next.RefreshToken == old || next.Extra("id_token") == nil {
		t.Fatalf("refresh: got %+v, %v", next, err)
	}
	if rid, err := v.Verify(ctx, next.Extra("id_token").(string)); err != nil || !rid.AuthTime.Equal(signedIn) {
		t.Errorf("refreshed token: auth_time %v (%v), want the sign-in's %v", rid.AuthTime, err, signedIn)
	}
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: old, Expiry: time.Unix(1, 0)}).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("a spent refresh token: got %v, want invalid_grant", err)
	}
}

func TestAuthorizationRequestsRefused(t *testing.T) {
	p, _ := provider(t)
	base := url.Values{"client_id": {"evidence-vault"}, "redirect_uri": {"http://127.0.0.1:5555/callback"}, "response_type": {"code"},
		"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
	tests := []struct {
		name        string
		key, value  string
		wantMessage string
	}{
		{"another client", "client_id", "someone-else", "unknown client_id"},
		{"a redirect off this machine", "redirect_uri", "https://evil.example/callback", "not allowed"},
		{"no PKCE", "code_challenge_method", "plain", "PKCE is required"},
		{"implicit flow", "response_type", "token", "response_type must be code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range base {
				q[k] = v
			}
			q.Set(tt.key, tt.value)
			resp, err := http.Get(p.Issuer() + "/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), tt.wantMessage) {
				t.Errorf("got %d %q, want 400 saying %q", resp.StatusCode, body, tt.wantMessage)
			}
		})
	}
}

func isOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == code
}
