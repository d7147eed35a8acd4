package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
)

// PredicateType names the schema of the vault's receipt predicate, version 1
// (docs/receipt.md).
const PredicateType = "https://evidencevault.dev/receipt/v1"

// Principal is who did something, as the receipt records it.
type Principal struct {
	Tenant  string `json:"tenant"`
	Subject string `json:"subject"`
	Role    Role   `json:"role"`
}

// Retention is the Object Lock applied to a sealed version.
type Retention struct {
	Mode        LockMode  `json:"mode"`
	RetainUntil time.Time `json:"retainUntil"`
}

// VersionRef points at an earlier sealed version: the one a new version
// supersedes.
type VersionRef struct {
	Version   int    `json:"version"`
	ReceiptID string `json:"receiptId"`
	SHA256    string `json:"sha256"`
	VersionID string `json:"versionId"`
}

// Version is one sealed version of a document: an entry of the document's
// version chain. Entries are created once, in order, with a conditional
// write, and locked like the evidence itself.
type Version struct {
	Version     int         `json:"version"`
	Dossier     string      `json:"dossier"`
	Document    Document    `json:"document"`
	UploadID    string      `json:"uploadId"`
	ReceiptID   string      `json:"receiptId"`
	Key         string      `json:"key"`
	VersionID   string      `json:"versionId"`
	Size        int64       `json:"size"`
	SHA256      string      `json:"sha256"`
	ContentType string      `json:"contentType"`
	ReceivedAt  time.Time   `json:"receivedAt"`
	SealedAt    time.Time   `json:"sealedAt"`
	Uploader    Principal   `json:"uploader"`
	Retention   Retention   `json:"retention"`
	Supersedes  *VersionRef `json:"supersedes"`
}

func (v Version) ref() *VersionRef {
	return &VersionRef{Version: v.Version, ReceiptID: v.ReceiptID, SHA256: v.SHA256, VersionID: v.VersionID}
}

// DossierRef is the device identity a receipt repeats, so that the receipt
// alone says which device's dossier the document belongs to.
type DossierRef struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	BasicUDIDI   string     `json:"basicUdiDi"`
	Regulation   Regulation `json:"regulation"`
	RiskClass    string     `json:"riskClass"`
	NotifiedBody string     `json:"notifiedBody,omitempty"`
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

// Receipt is a signed receipt with its decoded predicate and, once its
// statement is in the tenant's log, the proof of that.
type Receipt struct {
	Envelope  *receipt.Envelope
	Subject   receipt.Subject
	Predicate ReceiptPredicate
	Log       *ledger.Proof
}

func statementFor(bucket string, d Dossier, v Version) (receipt.Statement, error) {
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
		return receipt.Statement{}, fmt.Errorf("vault: receipt predicate: %w", err)
	}
	return receipt.Statement{
		Subject:       []receipt.Subject{{Name: v.Document.Path, Digest: map[string]string{"sha256": v.SHA256}}},
		PredicateType: PredicateType,
		Predicate:     raw,
	}, nil
}

// OpenReceipt parses a stored or presented receipt without verifying its
// signature: envelope, statement and predicate, strictly. It takes a
// receipt bundle ({"envelope", "log"}, as the vault stores and serves
// receipts) or a bare DSSE envelope.
func OpenReceipt(data []byte) (*Receipt, error) {
	var probe struct {
		Envelope json.RawMessage `json:"envelope"`
	}
	if json.Unmarshal(data, &probe) == nil && probe.Envelope != nil {
		var b ledger.Bundle
		if err := strictJSON(data, &b); err != nil {
			return nil, fmt.Errorf("%w: receipt bundle: %v", receipt.ErrMalformed, err)
		}
		r, err := OpenReceipt(b.Envelope)
		if err != nil {
			return nil, err
		}
		r.Log = b.Log
		return r, nil
	}
	env, st, err := receipt.Parse(data)
	if err != nil {
		return nil, err
	}
	return receiptOf(env, st)
}

// Bundle is the receipt as the vault stores and serves it.
func (r *Receipt) Bundle() ledger.Bundle {
	env, _ := json.Marshal(r.Envelope)
	return ledger.Bundle{Envelope: env, Log: r.Log}
}

func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

func receiptOf(env *receipt.Envelope, st *receipt.Statement) (*Receipt, error) {
	if st.PredicateType != PredicateType {
		return nil, fmt.Errorf("%w: predicate type %q, want %q", receipt.ErrMalformed, st.PredicateType, PredicateType)
	}
	if len(st.Subject) != 1 || st.Subject[0].Digest["sha256"] == "" {
		return nil, fmt.Errorf("%w: want exactly one subject with a sha256 digest", receipt.ErrMalformed)
	}
	r := &Receipt{Envelope: env, Subject: st.Subject[0]}
	if err := st.DecodePredicate(&r.Predicate); err != nil {
		return nil, err
	}
	return r, nil
}
