package oidcauth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/oidcauth"
	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// The provider's discovery document may narrow the algorithms the vault
// accepts (ES256, RS256, PS256, ES384; docs/identity.md), never widen
// them: RS512 listed there is still refused, and so are HMAC keyed with
// the public key and none.
func TestDiscoveryCannotWidenAlgorithms(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	provider := func(t *testing.T, algs []string) (*oidcauth.Verifier, string) {
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			switch r.URL.Path {
			case "/.well-known/openid-configuration":
				json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks",
					"authorization_endpoint": srv.URL + "/a", "token_endpoint": srv.URL + "/t",
					"id_token_signing_alg_values_supported": algs})
			case "/jwks":
				json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k", Use: "sig"}}})
			}
		}))
		t.Cleanup(srv.Close)
		return oidcauth.New(oidcauth.Config{Issuer: srv.URL, Audience: audience}), srv.URL
	}
	sign := func(iss string, m jwt.SigningMethod, k any) string {
		claims := jwt.MapClaims{"iss": iss, "aud": audience, "sub": "x", "tenant": "demo", "role": "uploader", "exp": time.Now().Add(time.Hour).Unix()}
		tok := jwt.NewWithClaims(m, claims)
		tok.Header["kid"] = "k"
		raw, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	tests := []struct {
		name   string
		listed []string
		method jwt.SigningMethod
		key    any
		want   bool
	}{
		{"RS256, listed", []string{"RS256"}, jwt.SigningMethodRS256, key, true},
		{"RS256, listed with others", []string{"RS512", "RS256"}, jwt.SigningMethodRS256, key, true},
		{"RS512, listed", []string{"RS512", "HS256", "none", "RS256"}, jwt.SigningMethodRS512, key, false},
		{"HS256 with the public key, listed", []string{"RS512", "HS256", "none", "RS256"}, jwt.SigningMethodHS256, key.PublicKey.N.Bytes(), false},
		{"none, listed", []string{"RS512", "HS256", "none", "RS256"}, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, false},
		{"PS256, not listed though the vault takes it", []string{"RS256"}, jwt.SigningMethodPS256, key, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, iss := provider(t, tt.listed)
			_, err := v.Verify(context.Background(), sign(iss, tt.method, tt.key))
			if got := err == nil; got != tt.want {
				t.Errorf("accepted: got %v, want %v (%v)", got, tt.want, err)
			}
		})
	}
	// A provider listing none of the vault's algorithms is refused outright.
	v, iss := provider(t, []string{"RS512", "HS256"})
	if _, err := v.Verify(context.Background(), sign(iss, jwt.SigningMethodRS512, key)); err == nil {
		t.Error("a provider of RS512 only: a token was accepted")
	}
}
