package client

import (
	"context"
	"io"
	"net/url"

	"github.com/evidencevault/vault/internal/vault"
)

// A dossier's regulatory life (docs/lifecycle.md), under the names the
// client uses.
type (
	// DossierState is a dossier's market status, holds, policy, statuses,
	// sign-offs, submissions and every lifecycle event.
	DossierState = vault.DossierState
	// MarketInput records when the device was first and last placed on
	// the market.
	MarketInput = vault.MarketInput
	// HoldInput puts a legal hold on a dossier or one document.
	HoldInput = vault.HoldInput
	// Hold is an active legal hold.
	Hold = vault.Hold
	// StatusInput marks a document obsolete, withdrawn or current.
	StatusInput = vault.StatusInput
	// SignoffInput signs a sealed version with a meaning.
	SignoffInput = vault.SignoffInput
	// PolicyInput sets a dossier's approval policy.
	PolicyInput = vault.PolicyInput
	// Completeness is each applicable section with its evidence.
	Completeness = vault.Completeness
	// SubmissionInput freezes the versions sent to a notified body.
	SubmissionInput = vault.SubmissionInput
	// Submission is a frozen set of versions with its signed record.
	Submission = vault.SubmissionRecord
	// Changes is what changed between two submissions.
	Changes = vault.Changes
)

func lifecyclePath(dossier, rest string) string {
	return "/v1/dossiers/" + url.PathEscape(dossier) + rest
}

// Lifecycle returns the dossier's regulatory state.
func (c *Client) Lifecycle(ctx context.Context, dossier string) (*DossierState, error) {
	var st DossierState
	_, err := c.do(ctx, "GET", lifecyclePath(dossier, "/lifecycle"), nil, nil, &st)
	return &st, err
}

// SetMarket records the device's market status (admins).
func (c *Client) SetMarket(ctx context.Context, dossier string, in MarketInput) (*DossierState, error) {
	var st DossierState
	_, err := c.do(ctx, "PUT", lifecyclePath(dossier, "/market"), nil, in, &st)
	return &st, err
}

// SetHold puts a legal hold on the dossier or one document (admins).
func (c *Client) SetHold(ctx context.Context, dossier string, in HoldInput) (*Hold, error) {
	var h Hold
	_, err := c.call(ctx, request{method: "POST", path: lifecyclePath(dossier, "/holds"), body: in, idempotencyKey: newIdempotencyKey()}, &h)
	return &h, err
}

// ReleaseHold lifts a legal hold (admins).
func (c *Client) ReleaseHold(ctx context.Context, dossier, hold, reason string) (*DossierState, error) {
	var st DossierState
	_, err := c.call(ctx, request{method: "POST", path: lifecyclePath(dossier, "/holds/"+url.PathEscape(hold)+"/release"),
		body: vault.ReleaseInput{Reason: reason}, idempotencyKey: newIdempotencyKey()}, &st)
	return &st, err
}

// SetStatus marks a document's latest version obsolete, withdrawn or
// current again.
func (c *Client) SetStatus(ctx context.Context, dossier string, in StatusInput) (*Version, error) {
	var v Version
	_, err := c.call(ctx, request{method: "POST", path: lifecyclePath(dossier, "/status"), body: in, idempotencyKey: newIdempotencyKey()}, &v)
	return &v, err
}

// SignOff signs a sealed version; the token must come from a sign-in of
// the last five minutes.
func (c *Client) SignOff(ctx context.Context, dossier string, in SignoffInput) (*Version, error) {
	var v Version
	_, err := c.call(ctx, request{method: "POST", path: lifecyclePath(dossier, "/signoffs"), body: in, idempotencyKey: newIdempotencyKey()}, &v)
	return &v, err
}

// SetPolicy sets the dossier's approval policy (admins).
func (c *Client) SetPolicy(ctx context.Context, dossier string, in PolicyInput) (*DossierState, error) {
	var st DossierState
	_, err := c.do(ctx, "PUT", lifecyclePath(dossier, "/approval-policy"), nil, in, &st)
	return &st, err
}

// Completeness returns the dossier's completeness report.
func (c *Client) Completeness(ctx context.Context, dossier string) (*Completeness, error) {
	var r Completeness
	_, err := c.do(ctx, "GET", lifecyclePath(dossier, "/completeness"), nil, nil, &r)
	return &r, err
}

// CompletenessHTML writes the printable completeness report to w.
func (c *Client) CompletenessHTML(ctx context.Context, dossier string, w io.Writer) error {
	var page []byte
	if _, err := c.do(ctx, "GET", lifecyclePath(dossier, "/completeness"), url.Values{"format": {"html"}}, nil, &page); err != nil {
		return err
	}
	_, err := w.Write(page)
	return err
}

// Submit freezes the versions sent to a notified body.
func (c *Client) Submit(ctx context.Context, dossier string, in SubmissionInput) (*Submission, error) {
	var s Submission
	_, err := c.call(ctx, request{method: "POST", path: lifecyclePath(dossier, "/submissions"), body: in, idempotencyKey: newIdempotencyKey()}, &s)
	return &s, err
}

// Submissions lists the dossier's submissions, oldest first.
func (c *Client) Submissions(ctx context.Context, dossier string) ([]Submission, error) {
	var out struct {
		Submissions []Submission `json:"submissions"`
	}
	_, err := c.do(ctx, "GET", lifecyclePath(dossier, "/submissions"), nil, nil, &out)
	return out.Submissions, err
}

// RecordExport logs a snapshot of the dossier's documents for a bundle
// about to be made (ExportOptions.Snapshot): made before the view of the
// log, so that the view's checkpoint holds it.
func (c *Client) RecordExport(ctx context.Context, dossier string) (*vault.LoggedEvent, error) {
	var ev vault.LoggedEvent
	_, err := c.call(ctx, request{method: "POST", path: lifecyclePath(dossier, "/exports"), idempotencyKey: newIdempotencyKey()}, &ev)
	return &ev, err
}

// Submission returns one submission with its signed record.
func (c *Client) Submission(ctx context.Context, dossier, id string) (*Submission, error) {
	var s Submission
	_, err := c.do(ctx, "GET", lifecyclePath(dossier, "/submissions/"+url.PathEscape(id)), nil, nil, &s)
	return &s, err
}

// SubmissionChanges compares a submission with a later one, or with the
// current documents when to is "" or "current".
func (c *Client) SubmissionChanges(ctx context.Context, dossier, from, to string) (*Changes, error) {
	q := url.Values{}
	if to != "" {
		q.Set("to", to)
	}
	var ch Changes
	_, err := c.do(ctx, "GET", lifecyclePath(dossier, "/submissions/"+url.PathEscape(from)+"/changes"), q, nil, &ch)
	return &ch, err
}
