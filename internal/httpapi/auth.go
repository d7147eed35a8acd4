package httpapi

import (
	"net/http"

	"github.com/evidencevault/vault/internal/vault"
)

// Authenticator establishes who is calling from the request's token
// (internal/oidcauth, with the provider's discovery document and keys).
type Authenticator interface {
	Authenticate(r *http.Request) (vault.Identity, error)
}
