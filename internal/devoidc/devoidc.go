// Package devoidc is the local stack's sign-in: a small OpenID Connect
// provider with fixed demo users (discovery, JWKS, authorization code with
// PKCE, token and refresh), so that `make run` and the tests take the same
// path through discovery and JWKS as a deployed vault does with Cognito or
// an organisation's own provider.
//
// It is written here rather than taken from a library: mock providers for
// tests (oauth2-proxy/mockoidc) sign in whichever user a test queued and
// show no sign-in page, and full providers (zitadel/oidc's op) bring a
// storage layer for clients and sessions a demo does not need. It signs
// with go-jose, which go-oidc already brings.
package devoidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evidencevault/vault/internal/vault"
	"github.com/go-jose/go-jose/v4"
)

// User is a demo user the provider signs in.
type User struct {
	Subject string
	Name    string
	Email   string
	// Tenant is the member's tenant; empty for an auditor from outside.
	Tenant string
	Role   vault.Role
}

// Provider is the dev OpenID Connect provider.
type Provider struct {
	issuer   string
	clientID string
	users    []User
	key      *ecdsa.PrivateKey
	kid      string
	signer   jose.Signer
	// redirects are allowed redirect URIs besides loopback ones.
	redirects []string
	// TTL is the lifetime of ID and access tokens.
	TTL   time.Duration
	clock atomic.Pointer[func() time.Time]

	mu      sync.Mutex
	codes   map[string]grant // authorization codes, single use
	refresh map[string]grant // refresh tokens, rotated on use
}

// grant is what a code or a refresh token stands for.
type grant struct {
	user      User
	redirect  string
	challenge string
	nonce     string
	expires   time.Time
	// authTime is when the user signed in: a refresh keeps it, so that
	// only a new sign-in counts as re-authentication.
	authTime time.Time
}

// Lifetimes of what the provider hands out.
const (
	DefaultTTL = time.Hour
	codeTTL    = time.Minute
	refreshTTL = 30 * 24 * time.Hour
)

// New returns a provider for issuer (its URL, as tokens' iss say) that
// issues tokens to clientID for users, with a new signing key.
func New(issuer, clientID string, users []User, redirects ...string) (*Provider, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devoidc: key: %w", err)
	}
	kid := randomString(8)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("devoidc: signer: %w", err)
	}
	return &Provider{issuer: strings.TrimSuffix(issuer, "/"), clientID: clientID, users: users, key: key, kid: kid, signer: signer,
		redirects: redirects, TTL: DefaultTTL, codes: map[string]grant{}, refresh: map[string]grant{}}, nil
}

// SetClock sets the provider's clock (time.Now by default), for tests of
// what happens later: a refresh, an old sign-in.
func (p *Provider) SetClock(now func() time.Time) { p.clock.Store(&now) }

func (p *Provider) now() time.Time {
	if c := p.clock.Load(); c != nil {
		return (*c)()
	}
	return time.Now()
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.issuer }

// PublicKey is the key tokens are signed with.
func (p *Provider) PublicKey() crypto.PublicKey { return &p.key.PublicKey }

// Users are the demo users.
func (p *Provider) Users() []User { return slices.Clone(p.users) }

// Token returns an ID token for u, valid for ttl: what the provider issues
// at sign-in, for the demo's printed tokens and for tests.
func (p *Provider) Token(u User, ttl time.Duration) (string, error) {
	return p.idToken(u, "", p.now(), ttl)
}

// TokenSignedInAt is Token for a user who signed in at authTime.
func (p *Provider) TokenSignedInAt(u User, authTime time.Time, ttl time.Duration) (string, error) {
	return p.idToken(u, "", authTime, ttl)
}

func (p *Provider) idToken(u User, nonce string, authTime time.Time, ttl time.Duration) (string, error) {
	now := p.now()
	claims := map[string]any{
		"iss": p.issuer, "sub": u.Subject, "aud": p.clientID, "iat": now.Unix(), "exp": now.Add(ttl).Unix(), "auth_time": authTime.Unix(),
		"name": u.Name, "email": u.Email, "email_verified": u.Email != "", "role": string(u.Role),
	}
	if u.Tenant != "" {
		claims["tenant"] = u.Tenant
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("devoidc: token: %w", err)
	}
	jws, err := p.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("devoidc: token: %w", err)
	}
	return jws.CompactSerialize()
}

// Handler serves the provider under the issuer's path: mount it there.
func (p *Provider) Handler() http.Handler {
	base := ""
	if u, err := url.Parse(p.issuer); err == nil {
		base = u.Path
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+base+"/.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET "+base+"/jwks", p.jwks)
	mux.HandleFunc("GET "+base+"/authorize", p.authorizePage)
	mux.HandleFunc("POST "+base+"/authorize", p.authorize)
	mux.HandleFunc("POST "+base+"/token", p.token)
	return mux
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.issuer,
		"authorization_endpoint":                p.issuer + "/authorize",
		"token_endpoint":                        p.issuer + "/token",
		"jwks_uri":                              p.issuer + "/jwks",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"none"},
		"scopes_supported":                      []string{"openid", "email", "profile", "offline_access"},
		"claims_supported":                      []string{"sub", "email", "email_verified", "name", "tenant", "role", "auth_time"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: p.kid, Algorithm: string(jose.ES256), Use: "sig"}}})
}

// authRequest is an authorization request's parameters, checked.
type authRequest struct {
	ClientID, Redirect, State, Challenge, Nonce, Scope string
}

// parseAuth checks an authorization request (RFC 6749 4.1.1, RFC 7636):
// a code for this client, to an allowed redirect, with an S256 challenge.
// An error before the redirect is known is shown, not redirected
// (RFC 6749 4.1.2.1).
func (p *Provider) parseAuth(q url.Values) (authRequest, error) {
	a := authRequest{ClientID: q.Get("client_id"), Redirect: q.Get("redirect_uri"), State: q.Get("state"),
		Challenge: q.Get("code_challenge"), Nonce: q.Get("nonce"), Scope: q.Get("scope")}
	switch {
	case a.ClientID != p.clientID:
		return a, fmt.Errorf("unknown client_id %q; this provider serves %q", a.ClientID, p.clientID)
	case !p.redirectAllowed(a.Redirect):
		return a, fmt.Errorf("redirect_uri %q is not allowed: use a loopback address (http://127.0.0.1:PORT/...) or a registered one", a.Redirect)
	case q.Get("response_type") != "code":
		return a, fmt.Errorf("response_type must be code")
	case q.Get("code_challenge_method") != "S256" || len(a.Challenge) < 43:
		return a, fmt.Errorf("PKCE is required: code_challenge with code_challenge_method=S256")
	}
	return a, nil
}

// redirectAllowed takes any port of a loopback address (RFC 8252 7.3) and
// the registered redirects.
func (p *Provider) redirectAllowed(raw string) bool {
	if slices.Contains(p.redirects, raw) {
		return true
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" {
		return false
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

var page = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in: Evidence Vault (development)</title>
<style>body{font:16px system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}button{font:inherit;padding:.5em 1em;margin:.25em 0}</style></head>
<body><main><h1>Sign in to Evidence Vault</h1>
<p>Development sign-in: choose a demo user. A deployed vault signs you in with your organisation's provider.</p>
{{range .Users}}<form method="post">
{{range $k, $v := $.Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<input type="hidden" name="user" value="{{.Subject}}">
<button type="submit">{{.Name}}: {{.Role}}{{if .Tenant}} of tenant {{.Tenant}}{{else}} (notified body){{end}}</button>
</form>{{end}}
</main></body></html>`))

func (p *Provider) authorizePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a, err := p.parseAuth(q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	hidden := map[string]string{}
	for _, k := range []string{"client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "response_type", "nonce", "scope"} {
		hidden[k] = q.Get(k)
	}
	// The form posts here, and the answer redirects to the client: both
	// are form targets to a browser (CSP form-action covers redirects).
	to, _ := url.Parse(a.Redirect)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' "+to.Scheme+"://"+to.Host)
	page.Execute(w, map[string]any{"Users": p.users, "Hidden": hidden})
}

// authorize signs in the chosen demo user and redirects with a code.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a, err := p.parseAuth(r.PostForm)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	i := slices.IndexFunc(p.users, func(u User) bool { return u.Subject == r.PostForm.Get("user") })
	if i < 0 {
		http.Error(w, "no such demo user", http.StatusBadRequest)
		return
	}
	code := randomString(24)
	p.mu.Lock()
	p.codes[code] = grant{user: p.users[i], redirect: a.Redirect, challenge: a.Challenge, nonce: a.Nonce, expires: p.now().Add(codeTTL), authTime: p.now()}
	p.mu.Unlock()
	to, _ := url.Parse(a.Redirect)
	v := to.Query()
	v.Set("code", code)
	if a.State != "" {
		v.Set("state", a.State)
	}
	v.Set("iss", p.issuer) // RFC 9207
	to.RawQuery = v.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
}

// token redeems a code (with its PKCE verifier) or a refresh token.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", err.Error())
		return
	}
	f := r.PostForm
	if f.Get("client_id") != p.clientID {
		oauthError(w, "invalid_client", "unknown client_id")
		return
	}
	now := p.now()
	var g grant
	switch f.Get("grant_type") {
	case "authorization_code":
		p.mu.Lock()
		g0, ok := p.codes[f.Get("code")]
		delete(p.codes, f.Get("code")) // single use, even when it fails
		p.mu.Unlock()
		switch {
		case !ok || now.After(g0.expires):
			oauthError(w, "invalid_grant", "the code is unknown, used or expired")
			return
		case f.Get("redirect_uri") != g0.redirect:
			oauthError(w, "invalid_grant", "redirect_uri differs from the authorization request's")
			return
		case !pkceOK(f.Get("code_verifier"), g0.challenge):
			oauthError(w, "invalid_grant", "code_verifier does not match the code_challenge")
			return
		}
		g = g0
	case "refresh_token":
		p.mu.Lock()
		g0, ok := p.refresh[f.Get("refresh_token")]
		delete(p.refresh, f.Get("refresh_token"))
		p.mu.Unlock()
		if !ok || now.After(g0.expires) {
			oauthError(w, "invalid_grant", "the refresh token is unknown, used or expired")
			return
		}
		g = g0
	default:
		oauthError(w, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
		return
	}
	id, err := p.idToken(g.user, g.nonce, g.authTime, p.TTL)
	if err != nil {
		oauthError(w, "server_error", err.Error())
		return
	}
	rt := randomString(32)
	p.mu.Lock()
	p.refresh[rt] = grant{user: g.user, expires: now.Add(refreshTTL), authTime: g.authTime}
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": id, "id_token": id, "refresh_token": rt, "token_type": "Bearer", "expires_in": int(p.TTL.Seconds()),
	})
}

// pkceOK checks a verifier against its S256 challenge (RFC 7636 4.6).
func pkceOK(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

func oauthError(w http.ResponseWriter, code, desc string) {
	status := http.StatusBadRequest
	if code == "invalid_client" {
		status = http.StatusUnauthorized
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
