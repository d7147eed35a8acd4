package client

import (
	"context"
	"net/url"
	"time"

	"github.com/evidencevault/vault/internal/vault"
)

// Sign-in, grants and the access trail, under the names the client uses.
type (
	// Me is who the caller is, with an auditor's grants in every tenant.
	Me = vault.Me
	// Grant gives an auditor access to dossiers of one tenant until a date.
	Grant = vault.Grant
	// GrantInput is the body that creates a grant.
	GrantInput = vault.GrantInput
	// Grantee names an auditor, by verified e-mail or by subject.
	Grantee = vault.Grantee
	// AccessEvent is one download the vault handed out.
	AccessEvent = vault.AccessEvent
	// SignIn is how the vault's users sign in.
	SignIn = vault.SignIn
)

// AllDossiers in a grant gives every dossier of the tenant.
const AllDossiers = vault.AllDossiers

// SignIn returns the vault's sign-in configuration (GET /v1/auth/config).
func (c *Client) SignIn(ctx context.Context) (*SignIn, error) {
	var si SignIn
	_, err := c.do(ctx, "GET", "/v1/auth/config", nil, nil, &si)
	return &si, err
}

// Me returns who the caller is, and for an auditor their active grants.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var me Me
	_, err := c.do(ctx, "GET", "/v1/me", nil, nil, &me)
	return &me, err
}

// CreateGrant gives an auditor access; it is safe to repeat.
func (c *Client) CreateGrant(ctx context.Context, in GrantInput) (*Grant, error) {
	var g Grant
	_, err := c.call(ctx, request{method: "POST", path: "/v1/grants", body: in, idempotencyKey: newIdempotencyKey()}, &g)
	return &g, err
}

// Grants lists the tenant's grants (an auditor's own, for auditors).
func (c *Client) Grants(ctx context.Context) ([]Grant, error) {
	var out struct {
		Grants []Grant `json:"grants"`
	}
	_, err := c.do(ctx, "GET", "/v1/grants", nil, nil, &out)
	return out.Grants, err
}

// RevokeGrant ends a grant.
func (c *Client) RevokeGrant(ctx context.Context, id string) (*Grant, error) {
	var g Grant
	_, err := c.do(ctx, "DELETE", "/v1/grants/"+url.PathEscape(id), nil, nil, &g)
	return &g, err
}

// AccessTrail returns the access events of the days from since to until
// (UTC), of one dossier when dossier is set, following every page.
func (c *Client) AccessTrail(ctx context.Context, since, until time.Time, dossier string) ([]AccessEvent, error) {
	q := url.Values{"since": {since.UTC().Format(time.DateOnly)}, "until": {until.UTC().Format(time.DateOnly)}}
	if dossier != "" {
		q.Set("dossier", dossier)
	}
	var all []AccessEvent
	for {
		var page struct {
			Events []AccessEvent `json:"events"`
			Next   string        `json:"next"`
		}
		if _, err := c.do(ctx, "GET", "/v1/access", q, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Events...)
		if page.Next == "" {
			return all, nil
		}
		q.Set("cursor", page.Next)
	}
}
