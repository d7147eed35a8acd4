package httpapi

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/evidencevault/vault/internal/vault"
	"github.com/golang-jwt/jwt/v5"
)

// Authenticator establishes who is calling. Locally the server verifies
// JWTs itself (JWT); behind API Gateway the JWT authorizer has verified the
// token and the apigw package reads its claims.
type Authenticator interface {
	Authenticate(r *http.Request) (vault.Identity, error)
}

// JWT verifies ES256 bearer tokens signed with one key, for one issuer and
// audience: the local stack's authenticator.
type JWT struct {
	Key      *ecdsa.PublicKey
	Issuer   string
	Audience string
}

// leeway tolerates clock skew between the token issuer and the vault.
const leeway = 30 * time.Second

// Authenticate verifies the request's bearer token and maps its claims.
func (a JWT) Authenticate(r *http.Request) (vault.Identity, error) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return vault.Identity{}, unauthenticated("send a bearer token: Authorization: Bearer <JWT>", nil)
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return a.Key, nil },
		jwt.WithValidMethods([]string{"ES256"}),
		jwt.WithIssuer(a.Issuer),
		jwt.WithAudience(a.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
	)
	if err != nil {
		return vault.Identity{}, tokenError(err, claims, a)
	}
	id, err := vault.IdentityFromClaims(claims)
	if err != nil {
		return vault.Identity{}, unauthenticated("the token's claims do not name a tenant, subject and role", err)
	}
	return id, nil
}

// tokenError says precisely what is wrong with a token.
func tokenError(err error, claims jwt.MapClaims, a JWT) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return unauthenticated("the bearer token is not a JWT", err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return unauthenticated("the token's signature does not verify with this vault's key", err)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return unauthenticated("the token has no expiry (exp)", err)
	case errors.Is(err, jwt.ErrTokenExpired):
		exp, _ := claims.GetExpirationTime()
		msg := "the token has expired"
		if exp != nil {
			msg += " at " + exp.UTC().Format(time.RFC3339)
		}
		return unauthenticated(msg, err)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return unauthenticated("the token is not valid yet", err)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		aud, _ := claims.GetAudience()
		return unauthenticated(fmt.Sprintf("the token's audience %v is not this vault (%s)", []string(aud), a.Audience), err)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		iss, _ := claims.GetIssuer()
		return unauthenticated(fmt.Sprintf("the token's issuer %q is not trusted here (want %q)", iss, a.Issuer), err)
	}
	return unauthenticated("the token is not valid", err)
}

func unauthenticated(msg string, err error) error {
	return &vault.Error{Code: vault.CodeUnauthenticated, Message: msg, Err: err}
}

// IssueToken signs an ES256 token for id, as the local stack's dev issuer
// does for its demo users.
func IssueToken(key *ecdsa.PrivateKey, issuer, audience string, id vault.Identity, ttl time.Duration, now time.Time) (string, error) {
	claims := jwt.MapClaims{
		"iss":             issuer,
		"aud":             audience,
		"sub":             id.Subject,
		"iat":             now.Unix(),
		"exp":             now.Add(ttl).Unix(),
		vault.ClaimTenant: id.Tenant,
		vault.ClaimRole:   string(id.Role),
	}
	if len(id.Dossiers) > 0 {
		claims[vault.ClaimDossiers] = id.Dossiers
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("httpapi: issue token: %w", err)
	}
	return s, nil
}

var _ Authenticator = JWT{}
