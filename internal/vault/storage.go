package vault

import (
	"context"
	"io"
	"time"
)

// Records keeps the vault's own objects: JSON records (dossiers, upload
// sessions, version chain entries, receipts, the tenant logs) and the
// published keys. Implementations translate their errors into ErrNotFound
// and ErrExists, and no error type of theirs reaches the vault.
//
// The vault writes each record once; anyone with the bucket's credentials
// can add versions over it or hide it under a delete marker. So reads look
// past delete markers, and listings show every version, for the vault to
// read the one it wrote (docs/ledger.md, threat model).
type Records interface {
	// Create writes body at key only if key has no current version
	// (If-None-Match: *), retained under lock when lock is non-nil. It
	// returns ErrExists when the key is taken. (A delete marker is no
	// current version: writers that must not write twice list first.)
	Create(ctx context.Context, key string, body []byte, lock *Lock) error
	// Put overwrites key: only for hints that readers verify and for
	// progress the vault re-checks, never for records.
	Put(ctx context.Context, key string, body []byte) error
	// Get returns the body of key's newest version that is not a delete
	// marker, or ErrNotFound if it has none.
	Get(ctx context.Context, key string) ([]byte, error)
	// GetVersion returns the body of one version of key.
	GetVersion(ctx context.Context, key, versionID string) ([]byte, error)
	// List returns every key under prefix, in lexical order, each with all
	// the versions storage holds of it (delete markers included), oldest
	// first.
	List(ctx context.Context, prefix string) ([]Object, error)
}

// Scratch keeps what the vault may lose and readers never trust: the
// logs' sequencer leases, the entries waiting for them and their head
// hints (internal/ledger). It is a store anyone with its credentials can
// overwrite and whose objects expire (a bucket without Object Lock), so
// that nothing evidence depends on lives there. Get and Swap give each
// write's tag (an ETag); Swap writes only over the tag given (If-Match),
// or, with "", only where nothing is (If-None-Match: *), reporting
// swapped false when another write came first.
type Scratch interface {
	Get(ctx context.Context, key string) (body []byte, tag string, found bool, err error)
	Swap(ctx context.Context, key string, body []byte, tag string) (newTag string, swapped bool, err error)
	Put(ctx context.Context, key string, body []byte) error
	List(ctx context.Context, prefix string) ([]string, error)
	Delete(ctx context.Context, keys []string) error
}

// Object is one key with the versions storage holds of it, oldest first.
type Object struct {
	Key      string
	Versions []ObjectVersion
}

// ObjectVersion is one version of a key, or a delete marker.
type ObjectVersion struct {
	ID           string
	LastModified time.Time
	DeleteMarker bool
}

// Original returns the first version written that is not a delete marker:
// of a record the vault writes once, the vault's.
func (o Object) Original() (ObjectVersion, bool) {
	for _, v := range o.Versions {
		if !v.DeleteMarker {
			return v, true
		}
	}
	return ObjectVersion{}, false
}

// Overwritten reports whether anything was written after the original: a
// delete marker, or another version.
func (o Object) Overwritten() bool { return len(o.Versions) > 1 }

// Objects reads and retains the versions of stored evidence.
type Objects interface {
	// Versions returns the version ids of exactly key, newest first.
	Versions(ctx context.Context, key string) ([]string, error)
	// Stat describes one version of key (the latest if versionID is ""),
	// with its storage-verified SHA-256, or returns ErrNotFound.
	Stat(ctx context.Context, key, versionID string) (ObjectInfo, error)
	// Retain locks one version of key until lock.Until.
	Retain(ctx context.Context, key, versionID string, lock Lock) error
	// Hold sets (on) or lifts the legal hold on one version of key: while
	// it is set nobody can delete the version, whatever its retention.
	Hold(ctx context.Context, key, versionID string, on bool) error
	// Open streams one version of key from offset on.
	Open(ctx context.Context, key, versionID string, offset int64) (io.ReadCloser, error)
}

// Uploads runs multipart uploads, whose parts carry SHA-256 checksums.
type Uploads interface {
	// CreateMultipart starts a multipart upload; the object gets req's
	// content type, metadata and lock.
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
	LegalHold    bool
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
