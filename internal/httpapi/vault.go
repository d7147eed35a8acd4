package httpapi

import (
	"context"

	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
)

// Vault is what the API asks of the vault, by concern: the routes of each
// file use one of these.
type Vault interface {
	Dossiers
	Uploads
	Receipts
	Transparency
	Idempotency
	Access
	Lifecycle
}

// Lifecycle is what lifecycle.go serves: a dossier's regulatory life.
type Lifecycle interface {
	DossierState(ctx context.Context, dossier string) (*vault.DossierState, error)
	SetMarket(ctx context.Context, dossier string, in vault.MarketInput) (*vault.DossierState, error)
	SetHold(ctx context.Context, dossier string, in vault.HoldInput) (vault.Hold, error)
	ReleaseHold(ctx context.Context, dossier, holdID string, in vault.ReleaseInput) (*vault.DossierState, error)
	SetStatus(ctx context.Context, dossier string, in vault.StatusInput) (vault.Version, error)
	SignOff(ctx context.Context, dossier string, in vault.SignoffInput) (vault.Version, error)
	SetPolicy(ctx context.Context, dossier string, in vault.PolicyInput) (*vault.DossierState, error)
	Completeness(ctx context.Context, dossier string) (*vault.Completeness, error)
	Submit(ctx context.Context, dossier string, in vault.SubmissionInput) (*vault.SubmissionRecord, error)
	Submissions(ctx context.Context, dossier string) ([]vault.SubmissionRecord, error)
	SubmissionOf(ctx context.Context, dossier, submission string) (*vault.SubmissionRecord, error)
	SubmissionChanges(ctx context.Context, dossier, from, to string) (*vault.Changes, error)
	RecordExport(ctx context.Context, dossier string) (*vault.LoggedEvent, error)
}

// Access is what access.go serves: who the caller is, the grants that
// give auditors access, and the access trail.
type Access interface {
	Authorize(ctx context.Context, id vault.Identity, tenant string) (vault.Identity, error)
	WhoAmI(ctx context.Context) (*vault.Me, error)
	CreateGrant(ctx context.Context, in vault.GrantInput) (vault.Grant, error)
	Grants(ctx context.Context) ([]vault.Grant, error)
	Grant(ctx context.Context, grantID string) (vault.Grant, error)
	RevokeGrant(ctx context.Context, grantID string) (vault.Grant, error)
	AccessTrail(ctx context.Context, q vault.AccessQuery) ([]vault.AccessEvent, string, error)
}

// Dossiers is what dossiers.go serves: dossiers, their documents and
// downloads of exact versions.
type Dossiers interface {
	CreateDossier(ctx context.Context, in vault.DossierInput) (vault.Dossier, error)
	DossiersPage(ctx context.Context, page vault.Page) ([]vault.Dossier, string, error)
	Dossier(ctx context.Context, dossier string) (vault.Dossier, error)
	DocumentsPage(ctx context.Context, dossier string, page vault.Page) ([]vault.Version, string, error)
	VersionsPage(ctx context.Context, dossier, path string, page vault.Page) ([]vault.Version, string, error)
	Version(ctx context.Context, dossier, path string, version int) (vault.Version, error)
	Download(ctx context.Context, dossier, path string, version int) (*vault.Download, error)
}

// Uploads is what uploads.go serves: uploads in one PUT or in parts, and
// sealing them.
type Uploads interface {
	BeginUpload(ctx context.Context, dossier string, doc vault.Document, opts vault.UploadOptions) (vault.Ticket, error)
	PresignParts(ctx context.Context, uploadID string, parts []vault.PartURL) ([]vault.PresignedPart, error)
	Upload(ctx context.Context, uploadID string) (*vault.UploadStatus, error)
	AbortUpload(ctx context.Context, uploadID string) error
	Complete(ctx context.Context, uploadID string) (*vault.Receipt, error)
}

// Idempotency remembers the answers of requests made with an
// Idempotency-Key (idempotency.go).
type Idempotency interface {
	Remember(ctx context.Context, key string, fingerprint []byte, do func() ([]byte, error)) ([]byte, bool, error)
	RememberReading(ctx context.Context, dossier, key string, fingerprint []byte, do func() ([]byte, error)) ([]byte, bool, error)
}

// Receipts is what receipts.go serves: receipts, their verification and
// the keys that sign them.
type Receipts interface {
	Keys(ctx context.Context) ([]vault.PublicKey, error)
	Receipt(ctx context.Context, receiptID string) (*vault.Receipt, error)
	Verify(ctx context.Context, data []byte, sha256 string, pinned *receipt.Key) (*vault.Verification, error)
	VerifierPolicy() vault.VerifierPolicy
}

// Transparency is what transparency.go serves: the tenant's log.
type Transparency interface {
	Checkpoint(ctx context.Context, size int64) (*vault.LogCheckpoint, error)
	KeyHistory(ctx context.Context, size int64) (*vault.KeyLog, error)
	LogEntries(ctx context.Context, start, end int64, dossier string) (*vault.LogEntries, error)
	InclusionProof(ctx context.Context, index, size int64) (*vault.LogProof, error)
	ConsistencyProof(ctx context.Context, from, to int64) (*vault.LogProof, error)
}

var _ Vault = (*vault.Service)(nil)
