package oidcauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/oidcauth"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/golang-jwt/jwt/v5"
)

const (
	issuer   = "https://issuer.test"
	audience = "evidence-vault"
)

func TestTokensAreChecked(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	v := oidcauth.WithKeys(oidcauth.Config{Issuer: issuer, Audience: audience}, &key.PublicKey)
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": issuer, "aud": audience, "sub": "alice@demo.example", "tenant": "demo", "role": "uploader",
			"exp": time.Now().Add(time.Hour).Unix()}
		mod(c)
		return c
	}
	es256 := func(key *ecdsa.PrivateKey, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodES256, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hs256, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(func(jwt.MapClaims) {})).SignedString([]byte("secret"))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(func(jwt.MapClaims) {})).SignedString(jwt.UnsafeAllowNoneSignatureType)
	tests := []struct {
		name, token, detail string
	}{
		{"valid", es256(key, claims(func(jwt.MapClaims) {})), ""},
		{"a Cognito access token: client_id, no aud", es256(key, claims(func(c jwt.MapClaims) { delete(c, "aud"); c["client_id"] = audience })), ""},
		{"not a JWT", "abc.def", "malformed jwt"},
		{"expired", es256(key, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() })), "expired at"},
		{"badly signed", es256(other, claims(func(jwt.MapClaims) {})), "failed to verify signature"},
		{"wrong audience", es256(key, claims(func(c jwt.MapClaims) { c["aud"] = "another-app" })), "issued to [another-app]"},
		{"client_id of another app", es256(key, claims(func(c jwt.MapClaims) { delete(c, "aud"); c["client_id"] = "another-app" })), "not to this vault"},
		{"wrong issuer", es256(key, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.test" })), "issued by a different provider"},
		{"no expiry", es256(key, claims(func(c jwt.MapClaims) { delete(c, "exp") })), "expired"},
		{"HS256", hs256, "unexpected signature algorithm"},
		{"alg none", none, "unexpected signature algorithm"},
		{"no tenant for an uploader", es256(key, claims(func(c jwt.MapClaims) { delete(c, "tenant") })), "must belong to a tenant"},
		{"no role", es256(key, claims(func(c jwt.MapClaims) { delete(c, "role") })), "no role claim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := v.Verify(context.Background(), tt.token)
			if tt.detail == "" {
				if err != nil || id.Subject != "alice@demo.example" || id.Tenant != "demo" || id.Role != vault.RoleUploader {
					t.Errorf("got %+v, %v; want alice, uploader of demo", id, err)
				}
				return
			}
			if vault.ErrorCode(err) != vault.CodeUnauthenticated || !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("got %v, want unauthenticated saying %q", err, tt.detail)
			}
		})
	}
}
