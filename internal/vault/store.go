package vault

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// Store is the object storage that holds everything the vault knows: the
// evidence, the upload sessions, the version chains and the receipts. There
// is no other database. Implementations translate their own errors into
// ErrNotFound and ErrExists.
type Store interface {
	// Create writes body at key only if no version of key exists
	// (If-None-Match: *), retained under lock when lock is non-nil. It
	// returns ErrExists when the key is taken.
	Create(ctx context.Context, key string, body []byte, lock *Lock) error
	// Put overwrites key: only for hints that readers verify, never for
	// records.
	Put(ctx context.Context, key string, body []byte) error
	// Get returns the body of key's latest version, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// List returns every key under prefix, in lexical order.
	List(ctx context.Context, prefix string) ([]string, error)
	// Versions returns the version ids of exactly key, newest first.
	Versions(ctx context.Context, key string) ([]string, error)
	// Stat describes one version of key (the latest if versionID is ""),
	// with its storage-verified SHA-256, or returns ErrNotFound.
	Stat(ctx context.Context, key, versionID string) (ObjectInfo, error)
	// Retain locks one version of key until lock.Until.
	Retain(ctx context.Context, key, versionID string, lock Lock) error
	// Open streams one version of key from offset on.
	Open(ctx context.Context, key, versionID string, offset int64) (io.ReadCloser, error)

	// CreateMultipart starts a multipart upload whose parts carry SHA-256
	// checksums; the object gets req's content type, metadata and lock.
	CreateMultipart(ctx context.Context, req PutRequest) (uploadID string, err error)
	// ListParts returns the parts stored so far, in part order, or
	// ErrNotFound once the upload is completed or aborted.
	ListParts(ctx context.Context, key, uploadID string) ([]Part, error)
	// CompleteMultipart joins parts into the object and returns its
	// version id; ErrNotFound if the upload is no longer open.
	CompleteMultipart(ctx context.Context, key, uploadID string, parts []Part) (versionID string, err error)
	// AbortMultipart discards the upload and its parts.
	AbortMultipart(ctx context.Context, key, uploadID string) error
}

// Part is one stored part of a multipart upload.
type Part struct {
	Number int    `json:"partNumber"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex
	ETag   string `json:"etag,omitempty"`
}

// PartRequest is what a presigned part PUT binds: the upload, the part
// number, its exact length and SHA-256.
type PartRequest struct {
	Key      string
	UploadID string
	Number   int
	Size     int64
	SHA256   string // hex
	TTL      time.Duration
}

// Presigner issues URLs that let clients move bytes to and from storage
// directly, bound to exactly what the vault allowed.
type Presigner interface {
	PresignPut(ctx context.Context, req PutRequest) (Presigned, error)
	PresignGet(ctx context.Context, req GetRequest) (Presigned, error)
	PresignPart(ctx context.Context, req PartRequest) (Presigned, error)
}

// LockMode is an S3 Object Lock retention mode.
type LockMode string

const (
	// Compliance: nobody, not even the account root, can shorten or remove
	// the retention or delete the version before it ends.
	Compliance LockMode = "COMPLIANCE"
	// Governance: users with s3:BypassGovernanceRetention can; for
	// development only.
	Governance LockMode = "GOVERNANCE"
)

// Lock is a retention to apply to an object version.
type Lock struct {
	Mode  LockMode
	Until time.Time
}

// ObjectInfo describes one stored version.
type ObjectInfo struct {
	Key          string
	VersionID    string
	Size         int64
	SHA256       string // hex; empty when storage holds no SHA-256 checksum
	ContentType  string
	LastModified time.Time
	Metadata     map[string]string // user metadata, keys in lower case
	LockMode     LockMode
	RetainUntil  time.Time
}

// PutRequest is what a presigned PUT binds: the key, the exact length, the
// SHA-256 (storage refuses other bytes), the content type and metadata.
type PutRequest struct {
	Key         string
	Size        int64
	SHA256      string // hex
	ContentType string
	Metadata    map[string]string
	// Lock, when set, makes storage retain the object from the moment it
	// arrives (signed x-amz-object-lock-* headers).
	Lock *Lock
	TTL  time.Duration
}

// GetRequest is what a presigned GET binds: one exact version.
type GetRequest struct {
	Key         string
	VersionID   string
	FileName    string // offered to the browser as the attachment's name
	ContentType string
	TTL         time.Duration
}

// Presigned is a request a client can make without credentials.
type Presigned struct {
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

// Object key layout. Evidence lives under its own prefix so that the seal
// trigger can filter on it; everything the vault writes about evidence
// lives under vault/.
const (
	// EvidencePrefix is where uploads land; the seal trigger listens there only.
	EvidencePrefix = "evidence/"
	keysPrefix     = "keys/"
	uploadIDMeta   = "upload-id"
)

func evidenceKey(tenant, dossier, path string) string {
	return EvidencePrefix + tenant + "/" + dossier + "/" + path
}

// parseEvidenceKey splits an evidence key into tenant, dossier and path.
func parseEvidenceKey(key string) (tenant, dossier, path string, ok bool) {
	rest, ok := strings.CutPrefix(key, EvidencePrefix)
	if !ok {
		return "", "", "", false
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

func dossierKey(tenant, dossier string) string {
	return "vault/" + tenant + "/dossiers/" + dossier + ".json"
}

func dossiersPrefix(tenant string) string { return "vault/" + tenant + "/dossiers/" }

func uploadKey(tenant, upload string) string {
	return "vault/" + tenant + "/uploads/" + upload + ".json"
}

// receiptKey is where a receipt bundle lives; the ledger writes it.
func receiptKey(tenant, receipt string) string {
	return receiptsPrefix(tenant) + receipt + ".json"
}

// versionsPrefix holds a dossier's version chains, one folder per document.
// The path is escaped into one segment so that a listing of the whole
// dossier splits back into path and version number without ambiguity.
func versionsPrefix(tenant, dossier string) string {
	return "vault/" + tenant + "/versions/" + dossier + "/"
}

func chainPrefix(tenant, dossier, path string) string {
	return versionsPrefix(tenant, dossier) + url.PathEscape(path) + "/"
}

// versionKey names version n in a chain; zero-padded so that keys sort in
// version order.
func versionKey(chainPrefix string, n int) string {
	return fmt.Sprintf("%s%010d.json", chainPrefix, n)
}

func publicKeyKey(id string) string { return keysPrefix + id + ".pem" }

func receiptsPrefix(tenant string) string { return "vault/" + tenant + "/receipts/" }

// ledgerPrefix is where a tenant's Merkle log lives (docs/ledger.md).
func ledgerPrefix(tenant string) string { return "ledger/" + tenant + "/" }
