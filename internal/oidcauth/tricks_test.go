package oidcauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/oidcauth"
	"github.com/golang-jwt/jwt/v5"
)

// Token tricks beyond verify_test.go: audience confusion (client_id beside
// another aud, several audiences issued to another client), role and
// e-mail claim tricks, a key of another type.
func TestTokenTricks(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	v := oidcauth.WithKeys(oidcauth.Config{Issuer: issuer, Audience: audience}, &key.PublicKey)
	tok := func(mod func(jwt.MapClaims)) string {
		c := jwt.MapClaims{"iss": issuer, "aud": audience, "sub": "x", "tenant": "demo", "role": "uploader", "exp": time.Now().Add(time.Hour).Unix()}
		mod(c)
		s, _ := jwt.NewWithClaims(jwt.SigningMethodES256, c).SignedString(key)
		return s
	}
	rs, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": issuer, "aud": audience, "sub": "x", "tenant": "demo", "role": "uploader", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(rk)
	for _, c := range []struct{ name, token string }{
		{"client_id ours, aud another app's", tok(func(c jwt.MapClaims) { c["aud"] = "another-app"; c["client_id"] = audience })},
		{"aud of another app and ours, azp another app", tok(func(c jwt.MapClaims) { c["aud"] = []string{"another-app", audience}; c["azp"] = "another-app" })},
		{"empty aud list, client_id another", tok(func(c jwt.MapClaims) { c["aud"] = []string{}; c["client_id"] = "another-app" })},
		{"role admin inside a longer string", tok(func(c jwt.MapClaims) { c["role"] = "admin " })},
		{"role as an object", tok(func(c jwt.MapClaims) { c["role"] = map[string]any{"admin": true} })},
		{"tenant as a list", tok(func(c jwt.MapClaims) { c["tenant"] = []string{"demo", "other"} })},
		{"not yet valid (nbf in an hour)", tok(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() })},
		{"RS256 by a key not configured", rs},
	} {
		if id, err := v.Verify(context.Background(), c.token); err == nil {
			t.Errorf("%s: accepted as %+v", c.name, id)
		}
	}
}
