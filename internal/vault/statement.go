package vault

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
)

// PredicateType names the schema of the vault's receipt predicate, version 1
// (docs/receipt.md).
const PredicateType = "https://evidencevault.dev/receipt/v1"

// DossierRef is the device identity a receipt repeats, so that the receipt
// alone says which device's dossier the document belongs to.
type DossierRef struct {
	ID           string                `json:"id"`
	Name         string                `json:"name"`
	BasicUDIDI   string                `json:"basicUdiDi"`
	Regulation   regulation.Regulation `json:"regulation"`
	RiskClass    string                `json:"riskClass"`
	NotifiedBody string                `json:"notifiedBody,omitempty"`
}

// StorageRef locates the exact stored bytes.
type StorageRef struct {
	Bucket      string `json:"bucket"`
	Key         string `json:"key"`
	VersionID   string `json:"versionId"`
	Size        int64  `json:"size"`
	ContentType string `json:"contentType"`
	// Parts, for a multipart upload, are the SHA-256 of each part.
	Parts *Parts `json:"parts,omitempty"`
}

// Parts are the SHA-256 digests (hex) of an object's consecutive parts
// of Size bytes, the last one shorter or equal. The vault computes them
// in the same read of the stored bytes as the whole file's SHA-256, when
// it seals a multipart upload of at most MaxReceiptParts parts, so that
// the receipt signs both: a verifier that cannot hash a large file as
// one stream fast (a browser) checks it part by part, in parallel.
type Parts struct {
	Size   int64    `json:"size"`
	SHA256 []string `json:"sha256"`
}

// MaxReceiptParts bounds the parts a receipt lists (64 KiB of digests).
const MaxReceiptParts = 1000

// check reports whether parts can be the parts of an object of size
// bytes: one digest per part, each 64 hex digits.
func (p *Parts) check(size int64) error {
	if p.Size < 1 || int64(len(p.SHA256)) != (size+p.Size-1)/p.Size || len(p.SHA256) > MaxReceiptParts {
		return fmt.Errorf("%w: storage.parts: %d digests of %d-byte parts for %d bytes", receipt.ErrMalformed, len(p.SHA256), p.Size, size)
	}
	for _, d := range p.SHA256 {
		if !validSHA256(d) {
			return fmt.Errorf("%w: storage.parts: %q is not a hex SHA-256", receipt.ErrMalformed, d)
		}
	}
	return nil
}

// ReceiptPredicate is the predicate of a vault receipt (PredicateType).
type ReceiptPredicate struct {
	ReceiptID  string      `json:"receiptId"`
	Tenant     string      `json:"tenant"`
	Dossier    DossierRef  `json:"dossier"`
	Document   Document    `json:"document"`
	Version    int         `json:"version"`
	Storage    StorageRef  `json:"storage"`
	Uploader   Principal   `json:"uploader"`
	UploadID   string      `json:"uploadId"`
	ReceivedAt time.Time   `json:"receivedAt"`
	SealedAt   time.Time   `json:"sealedAt"`
	Retention  Retention   `json:"retention"`
	Supersedes *VersionRef `json:"supersedes"`
}

// statementFor builds the receipt's statement for version v of a document
// of dossier d: one subject, the document's path with its SHA-256, and the
// predicate. It returns the predicate too.
func statementFor(bucket string, d Dossier, v Version) (receipt.Statement, ReceiptPredicate, error) {
	p := ReceiptPredicate{
		ReceiptID: v.ReceiptID,
		Tenant:    d.Tenant,
		Dossier: DossierRef{ID: d.ID, Name: d.Name, BasicUDIDI: d.BasicUDIDI, Regulation: d.Regulation,
			RiskClass: d.RiskClass, NotifiedBody: d.NotifiedBody},
		Document:   v.Document,
		Version:    v.Version,
		Storage:    StorageRef{Bucket: bucket, Key: v.Key, VersionID: v.VersionID, Size: v.Size, ContentType: v.ContentType, Parts: v.Parts},
		Uploader:   v.Uploader,
		UploadID:   v.UploadID,
		ReceivedAt: v.ReceivedAt,
		SealedAt:   v.SealedAt,
		Retention:  v.Retention,
		Supersedes: v.Supersedes,
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return receipt.Statement{}, ReceiptPredicate{}, fmt.Errorf("vault: receipt predicate: %w", err)
	}
	return receipt.Statement{
		Subject:       []receipt.Subject{{Name: v.Document.Path, Digest: map[string]string{"sha256": v.SHA256}}},
		PredicateType: PredicateType,
		Predicate:     raw,
	}, p, nil
}
