package vault

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Role is what an identity may do inside its tenant.
type Role string

const (
	// RoleUploader creates dossiers, uploads evidence, grants auditors
	// access and reads its tenant.
	RoleUploader Role = "uploader"
	// RoleAuditor reads the dossiers that grants give it, in any tenant
	// that granted them, nothing else.
	RoleAuditor Role = "auditor"
	// RoleAdmin may do everything an uploader may, and read the tenant's
	// access trail.
	RoleAdmin Role = "admin"
)

// AllDossiers in a grant means every dossier of the tenant.
const AllDossiers = "*"

// Identity is the verified caller of a request: who, acting in which
// tenant, with which role. Its subject, role, e-mail and home tenant come
// from a token the vault verified; an auditor's Tenant is the one the
// request chose, and its Dossiers what that tenant's grants give it.
type Identity struct {
	Tenant  string `json:"tenant"`
	Subject string `json:"subject"`
	Role    Role   `json:"role"`
	// Email is the token's verified e-mail address, or empty.
	Email string `json:"email,omitempty"`
	// Home is the tenant the token names: a member's own. Auditors may
	// have none.
	Home string `json:"home,omitempty"`
	// Dossiers lists the dossier ids an auditor may read in Tenant, from
	// its grants; AllDossiers for all. Members ignore it.
	Dossiers []string `json:"dossiers,omitempty"`
	// Grants are the ids of the grants that gave Dossiers.
	Grants []string `json:"grants,omitempty"`
	// granted holds each of Grants by id: its dossiers and until.
	granted map[string]Grant
	// Name is the token's name claim: the printed name of sign-offs.
	Name string `json:"name,omitempty"`
	// AuthTime is when the caller last signed in (the token's auth_time),
	// zero when the token does not say.
	AuthTime time.Time `json:"authTime,omitzero"`
}

// PrintedName is the name a sign-off shows: the token's name, else its
// e-mail address, else its subject.
func (id Identity) PrintedName() string {
	switch {
	case id.Name != "":
		return id.Name
	case id.Email != "":
		return id.Email
	}
	return id.Subject
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
// they describe, acting in its home tenant. Uploaders and admins must name a
// tenant; auditors may not (grants give them theirs).
func NewIdentity(tenant, subject, role, email string) (Identity, error) {
	r := Role(role)
	switch r {
	case RoleUploader, RoleAuditor, RoleAdmin:
	default:
		return Identity{}, fmt.Errorf("vault: identity: unknown role %q", role)
	}
	switch {
	case tenant == "" && r != RoleAuditor:
		return Identity{}, fmt.Errorf("vault: identity: a %s must belong to a tenant: the token names none", r)
	case tenant != "" && !validTenant(tenant):
		return Identity{}, fmt.Errorf("vault: identity: tenant %q is not a tenant id", tenant)
	case !validSubject(subject):
		return Identity{}, fmt.Errorf("vault: identity: subject must be 1 to 256 printable ASCII characters")
	case email != "" && !validEmail(email):
		return Identity{}, fmt.Errorf("vault: identity: %q is not an e-mail address", email)
	}
	return Identity{Tenant: tenant, Home: tenant, Subject: subject, Role: r, Email: strings.ToLower(email)}, nil
}

// validEmail reports whether s is 3 to 254 printable ASCII characters with
// one @ inside: grants compare addresses, they do not deliver mail.
func validEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return len(s) >= 3 && len(s) <= 254 && at > 0 && at < len(s)-1 && strings.Count(s, "@") == 1 &&
		allBytes(s, func(c byte) bool { return c >= 0x21 && c <= 0x7e })
}

// CanWrite reports whether the identity may create dossiers, upload and
// grant. Only members act as uploaders or admins, and only in their own
// tenant (Authorize).
func (id Identity) CanWrite() bool { return id.Role == RoleUploader || id.Role == RoleAdmin }

// grantsFor names the grants that let an auditor read dossier: what an
// access event records as the grants that gave the access.
func (id Identity) grantsFor(dossier string) []string {
	var out []string
	for _, g := range id.Grants {
		if ds := id.granted[g].Dossiers; slices.Contains(ds, AllDossiers) || slices.Contains(ds, dossier) {
			out = append(out, g)
		}
	}
	return out
}

// accessEnds is the last moment an auditor may read dossier by its
// grants: the latest until of those that cover it. Members' access does
// not end (false), nor that of an identity no grant read gave.
func (id Identity) accessEnds(dossier string) (time.Time, bool) {
	if id.Role != RoleAuditor {
		return time.Time{}, false
	}
	var end time.Time
	for _, g := range id.grantsFor(dossier) {
		if u := id.granted[g].Until; u.After(end) {
			end = u
		}
	}
	return end, !end.IsZero() // no grant's until known: the read check decides
}

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

// caller is the request's identity; an auditor whose grants in the tenant
// have all ended is refused here (trailCaller is for what they still may).
func caller(ctx context.Context) (Identity, error) {
	id, err := trailCaller(ctx)
	if err != nil {
		return Identity{}, err
	}
	if err := id.grantsEnded(); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// trailCaller is the request's identity, an auditor's whose grants have
// ended included: they may still read the trail of their own access.
func trailCaller(ctx context.Context) (Identity, error) {
	id, ok := FromContext(ctx)
	if !ok {
		return Identity{}, errorf(CodeUnauthenticated, "no verified identity on this request")
	}
	return id, nil
}

// PrintableName reports whether s may stand as a signer's printed name:
// 1 to 200 characters of plain text.
func PrintableName(s string) bool { return s != "" && len(s) <= 200 && checkText(s) == nil }
