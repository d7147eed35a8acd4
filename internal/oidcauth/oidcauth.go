// Package oidcauth verifies the bearer tokens of an OpenID Connect
// provider with coreos/go-oidc (discovery, JWKS, signature, issuer,
// audience, expiry) and maps their claims to the vault's identity, the
// same way behind API Gateway, on `make run` and in tests.
package oidcauth

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/evidencevault/vault/internal/vault"
)

// Claims names the claims an identity is read from; the provider's own
// names where they differ (Cognito: custom:tenant and cognito:groups).
type Claims struct {
	// Tenant names the member's tenant (default "tenant"). An auditor's
	// token may carry none: grants give auditors their tenants.
	Tenant string
	// Role holds the role: a string, or a list (groups) of which exactly
	// one is a role name (default "role").
	Role string
	// Email is the e-mail address (default "email"), taken only with
	// email_verified true: grants name auditors by it.
	Email string
}

func (c Claims) withDefaults() Claims {
	if c.Tenant == "" {
		c.Tenant = "tenant"
	}
	if c.Role == "" {
		c.Role = "role"
	}
	if c.Email == "" {
		c.Email = "email"
	}
	return c
}

// Config is a provider the vault trusts.
type Config struct {
	// Issuer is the provider's issuer URL, as its tokens' iss says.
	Issuer string
	// Audience is the client id the tokens are issued to: their aud, or
	// (access tokens of Cognito) their client_id.
	Audience string
	Claims   Claims
}

// Verifier authenticates requests by their bearer token.
type Verifier struct {
	cfg Config

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	keys     oidc.KeySet // fixed keys instead of discovery, when set
}

// New returns a Verifier that finds the provider's keys through its
// discovery document on first use (and again after a failure), so that a
// function starts while its provider is briefly unreachable.
func New(cfg Config) *Verifier {
	cfg.Claims = cfg.Claims.withDefaults()
	return &Verifier{cfg: cfg}
}

// WithKeys returns a Verifier of an issuer whose signing keys are known,
// without discovery: for tests and providers that publish none.
func WithKeys(cfg Config, keys ...crypto.PublicKey) *Verifier {
	v := New(cfg)
	v.keys = &oidc.StaticKeySet{PublicKeys: keys}
	return v
}

// fetchTimeout bounds each request to the provider.
const fetchTimeout = 10 * time.Second

func (v *Verifier) get(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.verifier != nil {
		return v.verifier, nil
	}
	conf := &oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{oidc.ES256, oidc.RS256, oidc.PS256, oidc.ES384}}
	if v.keys != nil {
		v.verifier = oidc.NewVerifier(v.cfg.Issuer, v.keys, conf)
		return v.verifier, nil
	}
	// The key set outlives the request that found it: its HTTP client
	// must not carry the request's context.
	client := oidc.ClientContext(context.Background(), &http.Client{Timeout: fetchTimeout})
	dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, &http.Client{Timeout: fetchTimeout}), fetchTimeout)
	defer cancel()
	p, err := oidc.NewProvider(dctx, v.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidcauth: discover %s: %w", v.cfg.Issuer, err)
	}
	var meta struct {
		JWKS string   `json:"jwks_uri"`
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oidcauth: discovery document of %s: %w", v.cfg.Issuer, err)
	}
	// The provider may narrow the vault's algorithms, never widen them.
	if len(meta.Algs) > 0 {
		conf.SupportedSigningAlgs = slices.DeleteFunc(conf.SupportedSigningAlgs, func(a string) bool { return !slices.Contains(meta.Algs, a) })
		if len(conf.SupportedSigningAlgs) == 0 {
			return nil, fmt.Errorf("oidcauth: %s signs ID tokens with %s only, none of ES256, RS256, PS256, ES384", v.cfg.Issuer, strings.Join(meta.Algs, ", "))
		}
	}
	v.verifier = oidc.NewVerifier(v.cfg.Issuer, oidc.NewRemoteKeySet(client, meta.JWKS), conf)
	return v.verifier, nil
}

// Authenticate verifies the request's bearer token and maps its claims.
func (v *Verifier) Authenticate(r *http.Request) (vault.Identity, error) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return vault.Identity{}, unauthenticated("send a bearer token: Authorization: Bearer <ID token of the vault's sign-in>", nil)
	}
	return v.Verify(r.Context(), raw)
}

// Verify verifies a raw token and maps its claims.
func (v *Verifier) Verify(ctx context.Context, raw string) (vault.Identity, error) {
	verifier, err := v.get(ctx)
	if err != nil {
		return vault.Identity{}, &vault.Error{Code: vault.CodeUnavailable, Message: "the sign-in provider cannot be reached to check the token; try again", Err: err}
	}
	tok, err := verifier.Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return vault.Identity{}, unauthenticated("the token has expired at "+expired.Expiry.UTC().Format(time.RFC3339)+"; sign in again (evault login)", err)
		}
		return vault.Identity{}, unauthenticated("the token is not valid here: "+strings.TrimPrefix(err.Error(), "oidc: "), err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return vault.Identity{}, unauthenticated("the token's claims are not a JSON object", err)
	}
	if !v.audienceOK(tok.Audience, claims) {
		return vault.Identity{}, unauthenticated(fmt.Sprintf("the token is issued to %v, not to this vault (%s)", tok.Audience, v.cfg.Audience), nil)
	}
	id, err := Identity(v.cfg.Claims.withDefaults(), tok.Subject, claims)
	if err != nil {
		return vault.Identity{}, unauthenticated(err.Error(), err)
	}
	return id, nil
}

// audienceOK: the token is the vault's when its audience names the vault
// and, if it names others too or says who it was issued to (azp), it was
// issued to the vault (OpenID Connect Core 3.1.3.7); a Cognito access
// token names its client in client_id instead.
func (v *Verifier) audienceOK(aud []string, claims map[string]any) bool {
	azp, hasAzp := claims["azp"].(string)
	if hasAzp && azp != v.cfg.Audience || len(aud) > 1 && !hasAzp {
		return false
	}
	for _, a := range aud {
		if a == v.cfg.Audience {
			return true
		}
	}
	cid, _ := claims["client_id"].(string)
	return len(aud) == 0 && cid == v.cfg.Audience
}

// Identity maps a verified token's claims to an identity.
func Identity(c Claims, subject string, claims map[string]any) (vault.Identity, error) {
	tenant, _ := claims[c.Tenant].(string)
	role, err := roleOf(c.Role, claims[c.Role])
	if err != nil {
		return vault.Identity{}, err
	}
	var email string
	if e, ok := claims[c.Email].(string); ok && verified(claims["email_verified"]) {
		email = e
	}
	id, err := vault.NewIdentity(tenant, subject, role, email)
	if err != nil {
		return vault.Identity{}, err
	}
	// The printed name of sign-offs; a name the vault cannot print is
	// left out rather than refused, as signing in does not need it.
	if n, ok := claims["name"].(string); ok && vault.PrintableName(n) {
		id.Name = n
	}
	// When the user signed in (OIDC Core 2): sign-offs need a recent one.
	if at, ok := claims["auth_time"].(float64); ok && at > 0 && at < 1<<40 {
		id.AuthTime = time.Unix(int64(at), 0).UTC()
	}
	return id, nil
}

// roleOf reads the role from a string claim or from a list of groups, of
// which exactly one may name a role.
func roleOf(name string, v any) (string, error) {
	var values []string
	switch v := v.(type) {
	case string:
		values = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				values = append(values, s)
			}
		}
	case nil:
		return "", fmt.Errorf("the token has no %s claim: the vault cannot tell its role", name)
	default:
		return "", fmt.Errorf("the token's %s claim is neither a string nor a list", name)
	}
	var roles []string
	for _, s := range values {
		switch vault.Role(s) {
		case vault.RoleUploader, vault.RoleAuditor, vault.RoleAdmin:
			roles = append(roles, s)
		}
	}
	switch len(roles) {
	case 1:
		return roles[0], nil
	case 0:
		return "", fmt.Errorf("the token's %s claim (%v) names no role of the vault (uploader, auditor, admin)", name, values)
	}
	return "", fmt.Errorf("the token's %s claim names several roles (%v): an identity has one", name, roles)
}

func verified(v any) bool {
	b, ok := v.(bool)
	return ok && b || v == "true"
}

func unauthenticated(msg string, err error) error {
	return &vault.Error{Code: vault.CodeUnauthenticated, Message: msg, Err: err}
}
