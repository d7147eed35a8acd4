package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/evidencevault/vault/internal/receipt"
)

// A sign-off is an electronic signature of a sealed version (21 CFR Part
// 11): the signer's printed name, the date and time, and the meaning
// (11.50), in a statement signed by the vault, logged, and bound to the
// version's SHA-256 and to its receipt's statement, so that it cannot be
// moved to another record (11.70). The signer signs in again just before
// (11.200): the token's auth_time must be at most MaxSignoffAge old.

// MaxSignoffAge is how recent the sign-in behind a sign-off must be.
const MaxSignoffAge = 5 * time.Minute

// Meanings of a sign-off.
const (
	MeaningAuthored = "authored"
	MeaningReviewed = "reviewed"
	MeaningApproved = "approved"
)

// SignoffInput is the body of POST /v1/dossiers/{dossier}/signoffs.
type SignoffInput struct {
	Path    string `json:"path" validate:"required,doc_path"`
	Version int    `json:"version" validate:"required,min=1"`
	// SHA256 is the version's digest as the signer saw it: a sign-off of
	// other bytes than the vault holds is refused.
	SHA256  string `json:"sha256" validate:"required,sha256_hex"`
	Meaning string `json:"meaning" validate:"required,oneof=authored reviewed approved"`
	Comment string `json:"comment,omitempty" validate:"max=500,text"`
}

// Signoff is what a sign-off event binds.
type Signoff struct {
	Path      string `json:"path"`
	Version   int    `json:"version"`
	SHA256    string `json:"sha256"`
	ReceiptID string `json:"receiptId"`
	// ReceiptStatement is the SHA-256 of the receipt's signed statement.
	ReceiptStatement string    `json:"receiptStatement"`
	Meaning          string    `json:"meaning"`
	Name             string    `json:"name"`
	Email            string    `json:"email,omitempty"`
	AuthTime         time.Time `json:"authTime"`
	Comment          string    `json:"comment,omitempty"`
}

// SignoffRecord is a sign-off as the vault shows it.
type SignoffRecord struct {
	Signoff
	ID       string    `json:"id"`
	By       Principal `json:"by"`
	At       time.Time `json:"signedAt"`
	LogIndex int64     `json:"logIndex"`
}

// ApprovalPolicy decides when a version counts as approved: Approvals
// distinct people signed it with meaning approved, none of them, when
// ExcludeAuthors is set, its uploader or a signer of it as author.
type ApprovalPolicy struct {
	Approvals      int  `json:"approvals" validate:"required,min=1,max=10"`
	ExcludeAuthors bool `json:"excludeAuthors"`
}

// DefaultApprovalPolicy holds until a dossier sets its own: one approval
// by someone other than the author.
var DefaultApprovalPolicy = ApprovalPolicy{Approvals: 1, ExcludeAuthors: true}

// PolicyInput is the body of PUT /v1/dossiers/{dossier}/approval-policy.
type PolicyInput struct {
	Approvals      int    `json:"approvals" validate:"required,min=1,max=10"`
	ExcludeAuthors *bool  `json:"excludeAuthors" validate:"required"`
	Reason         string `json:"reason,omitempty" validate:"max=1000,text"`
}

func (p ApprovalPolicy) approves(v Version, signoffs []SignoffRecord) bool {
	authors := []string{v.Uploader.Subject}
	for _, so := range signoffs {
		if so.Meaning == MeaningAuthored {
			authors = append(authors, so.By.Subject)
		}
	}
	var approvers []string
	for _, so := range signoffs {
		if so.Meaning != MeaningApproved || slices.Contains(approvers, so.By.Subject) {
			continue
		}
		if p.ExcludeAuthors && slices.Contains(authors, so.By.Subject) {
			continue
		}
		approvers = append(approvers, so.By.Subject)
	}
	return len(approvers) >= p.Approvals
}

// SetPolicy sets the dossier's approval policy. Only an admin may.
func (s *Service) SetPolicy(ctx context.Context, dossier string, in PolicyInput) (*DossierState, error) {
	id, d, err := s.adminOf(ctx, dossier, "set the approval policy")
	if err != nil {
		return nil, err
	}
	if fields := check(in); fields != nil {
		return nil, invalid(fields)
	}
	if _, _, err := s.appendLifecycle(ctx, LifecycleEvent{Event: EventPolicy, Tenant: id.Tenant, Dossier: d.ID, By: principal(id),
		Reason: in.Reason, Policy: &ApprovalPolicy{Approvals: in.Approvals, ExcludeAuthors: *in.ExcludeAuthors}}); err != nil {
		return nil, err
	}
	return s.dossierState(ctx, id.Tenant, d.ID)
}

// SignOff signs a sealed version with a meaning, as the caller, who must
// have signed in within MaxSignoffAge.
func (s *Service) SignOff(ctx context.Context, dossier string, in SignoffInput) (Version, error) {
	id, d, err := s.memberOf(ctx, dossier, "sign off versions")
	if err != nil {
		return Version{}, err
	}
	in.SHA256 = strings.ToLower(in.SHA256)
	if fields := check(in); fields != nil {
		return Version{}, invalid(fields)
	}
	now := s.now()
	switch {
	case id.AuthTime.IsZero():
		return Version{}, &Error{Code: CodeReauthenticate, Message: "the token says not when you signed in (no auth_time): sign in again to sign off"}
	case now.Sub(id.AuthTime) > MaxSignoffAge || id.AuthTime.After(now.Add(time.Minute)):
		return Version{}, &Error{Code: CodeReauthenticate, Message: fmt.Sprintf(
			"you signed in at %s; a sign-off needs a sign-in of the last %s: sign in again", id.AuthTime.UTC().Format(time.RFC3339), MaxSignoffAge)}
	}
	v, err := s.version(ctx, id.Tenant, d.ID, in.Path, in.Version)
	if err != nil {
		return Version{}, err
	}
	v, r, err := s.receiptOfVersion(ctx, id.Tenant, v)
	if err != nil {
		return Version{}, err
	}
	if v.SHA256 != in.SHA256 {
		return Version{}, invalid([]FieldError{{Pointer: "/sha256", Detail: fmt.Sprintf("is not the SHA-256 of version %d of %s (%s)", v.Version, v.Document.Path, v.SHA256)}})
	}
	// Checked under the dossier's append lock: two requests at once sign
	// once.
	once := func(prior []LoggedEvent) error {
		for _, e := range prior {
			if so := e.Signoff; e.Event == EventSignoff && so != nil && so.ReceiptID == v.ReceiptID && e.By.Subject == id.Subject && so.Meaning == in.Meaning {
				return &Error{Code: CodeConflict, Message: fmt.Sprintf("you signed version %d of %s as %s already (%s)", v.Version, v.Document.Path, in.Meaning, e.ID),
					Fields: []FieldError{{Pointer: "/meaning", Detail: "already signed with this meaning"}}}
			}
		}
		return nil
	}
	payload, err := receipt.Payload(r.Envelope)
	if err != nil {
		return Version{}, fmt.Errorf("vault: sign off: %w", err)
	}
	sum := sha256.Sum256(payload)
	so := &Signoff{Path: v.Document.Path, Version: v.Version, SHA256: v.SHA256, ReceiptID: v.ReceiptID,
		ReceiptStatement: hex.EncodeToString(sum[:]), Meaning: in.Meaning, Name: id.PrintedName(), Email: id.Email,
		AuthTime: id.AuthTime.UTC().Truncate(time.Second), Comment: in.Comment}
	subject := receipt.Subject{Name: v.Document.Path, Digest: map[string]string{"sha256": v.SHA256}}
	if _, _, err := s.appendLifecycleIf(ctx, LifecycleEvent{Event: EventSignoff, Tenant: id.Tenant, Dossier: d.ID, By: principal(id), Signoff: so}, once, subject); err != nil {
		return Version{}, err
	}
	vs := []Version{v}
	latest, err := s.listChain(ctx, id.Tenant, d.ID, v.Document.Path)
	if err != nil {
		return Version{}, err
	}
	if err := s.withState(ctx, id.Tenant, d.ID, vs, func(Version) int { return len(latest.entries) }); err != nil {
		return Version{}, err
	}
	return vs[0], nil
}
