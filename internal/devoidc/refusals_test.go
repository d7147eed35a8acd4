package devoidc_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The dev provider: redirects only to loopback, PKCE S256 required and
// checked, codes and refresh tokens single use.
func TestDevProviderRefuses(t *testing.T) {
	p, base := provider(t)
	iss := p.Issuer()
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	auth := func(redirect, method, ch string) string {
		q := url.Values{"client_id": {"evidence-vault"}, "redirect_uri": {redirect}, "response_type": {"code"},
			"code_challenge": {ch}, "code_challenge_method": {method}, "state": {"s"}}
		return iss + "/authorize?" + q.Encode()
	}
	_ = base
	for _, r := range []string{"http://localhost.evil.example/cb", "https://127.0.0.1/cb", "http://127.0.0.1@evil.example/cb",
		"http://evil.example/cb?x=http://127.0.0.1/", "http://0.0.0.0:1/cb", "http://127.0.0.1:1/cb#f", "//evil.example/cb", "javascript:alert(1)"} {
		if to, status := signIn(t, auth(r, "S256", challenge), alice.Subject); status != http.StatusBadRequest {
			t.Errorf("redirect %q: got %d (to %v), want 400", r, status, to)
		}
	}
	if _, status := signIn(t, auth("http://127.0.0.1:1/cb", "plain", verifier), alice.Subject); status != http.StatusBadRequest {
		t.Errorf("PKCE plain: got %d, want 400", status)
	}
	redeem := func(form url.Values) (int, map[string]any) {
		form.Set("client_id", "evidence-vault")
		resp, err := http.PostForm(iss+"/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code := func() string {
		to, status := signIn(t, auth("http://127.0.0.1:1/cb", "S256", challenge), alice.Subject)
		if status != http.StatusFound {
			t.Fatalf("sign in: %d", status)
		}
		return to.Query().Get("code")
	}
	c := code()
	if s, _ := redeem(url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {"http://127.0.0.1:1/cb"}, "code_verifier": {strings.Repeat("w", 50)}}); s == http.StatusOK {
		t.Errorf("wrong verifier accepted")
	}
	if s, _ := redeem(url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {"http://127.0.0.1:1/cb"}, "code_verifier": {verifier}}); s == http.StatusOK {
		t.Errorf("a code redeemed after a failed attempt")
	}
	c = code()
	if s, _ := redeem(url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {"http://127.0.0.1:2/cb"}, "code_verifier": {verifier}}); s == http.StatusOK {
		t.Errorf("code redeemed with another redirect_uri")
	}
	c = code()
	s, tok := redeem(url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {"http://127.0.0.1:1/cb"}, "code_verifier": {verifier}})
	if s != http.StatusOK {
		t.Fatalf("redeem: %d %v", s, tok)
	}
	if s, _ := redeem(url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {"http://127.0.0.1:1/cb"}, "code_verifier": {verifier}}); s == http.StatusOK {
		t.Errorf("code reused")
	}
	rt, _ := tok["refresh_token"].(string)
	if s, _ := redeem(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}); s != http.StatusOK {
		t.Fatalf("refresh: %d", s)
	}
	if s, _ := redeem(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}); s == http.StatusOK {
		t.Errorf("refresh token reused")
	}
	if s, _ := redeem(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {""}}); s == http.StatusOK {
		t.Errorf("empty refresh token accepted")
	}
}
