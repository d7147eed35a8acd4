package vault

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Role is what an identity may do inside its tenant.
type Role string

const (
	// RoleUploader creates dossiers, uploads evidence and reads its tenant.
	RoleUploader Role = "uploader"
	// RoleAuditor reads the dossiers its token grants, nothing else.
	RoleAuditor Role = "auditor"
	// RoleAdmin may do everything an uploader may.
	RoleAdmin Role = "admin"
)

// AllDossiers in an auditor's grant means every dossier of the tenant.
const AllDossiers = "*"

// Identity is the verified caller of a request: who, in which tenant, with
// which role. It comes from a JWT the vault (or API Gateway) has verified.
type Identity struct {
	Tenant  string `json:"tenant"`
	Subject string `json:"subject"`
	Role    Role   `json:"role"`
	// Dossiers lists the dossier ids an auditor may read; AllDossiers for all.
	// Uploaders and admins read their whole tenant and ignore it.
	Dossiers []string `json:"dossiers,omitempty"`
}

// Claims are checked by loops, not regexps (docs/design.md, cold starts).

// validTenant reports whether s matches ^[a-z0-9][a-z0-9-]{0,62}$.
func validTenant(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && s[0] != '-' && allBytes(s, func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
	})
}

// validSubject reports whether s is 1 to 256 printable ASCII characters.
func validSubject(s string) bool {
	return len(s) >= 1 && len(s) <= 256 && allBytes(s, func(c byte) bool { return c >= 0x21 && c <= 0x7e })
}

// validSHA256 reports whether s is a SHA-256 in lower-case hex.
func validSHA256(s string) bool {
	return len(s) == 64 && allBytes(s, func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' })
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// NewIdentity checks the claims of a verified token and returns the identity
// they describe.
func NewIdentity(tenant, subject, role string, dossiers []string) (Identity, error) {
	switch {
	case !validTenant(tenant):
		return Identity{}, fmt.Errorf("vault: identity: tenant %q is not a tenant id", tenant)
	case !validSubject(subject):
		return Identity{}, fmt.Errorf("vault: identity: subject must be 1 to 256 printable ASCII characters")
	}
	r := Role(role)
	switch r {
	case RoleUploader, RoleAuditor, RoleAdmin:
	default:
		return Identity{}, fmt.Errorf("vault: identity: unknown role %q", role)
	}
	return Identity{Tenant: tenant, Subject: subject, Role: r, Dossiers: dossiers}, nil
}

// CanWrite reports whether the identity may create dossiers and upload.
func (id Identity) CanWrite() bool { return id.Role == RoleUploader || id.Role == RoleAdmin }

// CanRead reports whether the identity may read the dossier of its own
// tenant. Other tenants are never readable.
func (id Identity) CanRead(tenant, dossier string) bool {
	if tenant != id.Tenant {
		return false
	}
	if id.CanWrite() {
		return true
	}
	return slices.Contains(id.Dossiers, AllDossiers) || slices.Contains(id.Dossiers, dossier)
}

type identityKey struct{}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity in ctx, if any.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

func caller(ctx context.Context) (Identity, error) {
	id, ok := FromContext(ctx)
	if !ok {
		return Identity{}, errorf(CodeUnauthenticated, "no verified identity on this request")
	}
	return id, nil
}

// Claim names the vault reads from a verified token, besides "sub".
const (
	ClaimTenant   = "tenant"
	ClaimRole     = "role"
	ClaimDossiers = "dossiers"
)

// IdentityFromClaims maps the claims of a verified JWT to an identity. The
// dossiers claim may be a JSON array, or the "[a b]" string API Gateway's
// JWT authorizer makes of an array.
func IdentityFromClaims(claims map[string]any) (Identity, error) {
	str := func(name string) string { s, _ := claims[name].(string); return s }
	var dossiers []string
	switch v := claims[ClaimDossiers].(type) {
	case []any:
		for _, d := range v {
			s, ok := d.(string)
			if !ok {
				return Identity{}, fmt.Errorf("vault: identity: %s claim holds a non-string", ClaimDossiers)
			}
			dossiers = append(dossiers, s)
		}
	case string:
		dossiers = strings.FieldsFunc(strings.Trim(v, "[]"), func(r rune) bool { return r == ' ' || r == ',' })
	case nil:
	default:
		return Identity{}, fmt.Errorf("vault: identity: %s claim must be a list of dossier ids", ClaimDossiers)
	}
	return NewIdentity(str(ClaimTenant), str("sub"), str(ClaimRole), dossiers)
}
