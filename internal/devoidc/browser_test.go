package devoidc_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/evidencevault/vault/internal/oidcauth"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
	"golang.org/x/oauth2"
)

// TestSignInInABrowser: the sign-in a person sees, in headless Chromium.
// A client (as evault or the portal would) sends the browser to the
// provider with PKCE; the person picks a demo user by its labelled
// button, with the keyboard; the browser comes back to the client's
// loopback callback with a code, which the client redeems for an ID token
// the vault's verifier takes.
func TestSignInInABrowser(t *testing.T) {
	p, _ := provider(t)
	codes := make(chan string, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" && r.URL.Query().Get("state") == "st4te" {
			select {
			case codes <- r.URL.Query().Get("code"):
			default:
			}
			w.Write([]byte("<!doctype html><title>signed in</title><p id=done>signed in</p>"))
			return
		}
		http.NotFound(w, r)
	}))
	defer app.Close()
	conf := &oauth2.Config{ClientID: "evidence-vault", RedirectURL: app.URL + "/callback", Scopes: []string{"openid", "email"},
		Endpoint: oauth2.Endpoint{AuthURL: p.Issuer() + "/authorize", TokenURL: p.Issuer() + "/token", AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()

	ctx := testenv.Browser(t)
	for _, step := range []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier))),
		testenv.Press(`form button`), // the first demo user, by keyboard
		// Enter navigates to the client's callback: wait through it.
		chromedp.WaitVisible(chromedp.CSS(`#done`)),
	} {
		if err := testenv.Settled(ctx, step); err != nil {
			t.Fatalf("browser: %v", err)
		}
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if title != "signed in" {
		t.Errorf("got page %q after sign-in, want the client's callback", title)
	}
	tok, err := conf.Exchange(context.Background(), <-codes, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := oidcauth.New(oidcauth.Config{Issuer: p.Issuer(), Audience: "evidence-vault"}).Verify(context.Background(), raw)
	if err != nil || id.Subject != alice.Subject || id.Role != vault.RoleUploader {
		t.Errorf("the browser's sign-in gives %+v, %v; want alice", id, err)
	}
}
