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
		Storage:    StorageRef{Bucket: bucket, Key: v.Key, VersionID: v.VersionID, Size: v.Size, ContentType: v.ContentType},
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
