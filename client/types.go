package client

import (
	"github.com/evidencevault/vault/internal/bundle"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/vault"
)

// The API's types, under the names this package's functions use them by:
// the vault's own (internal) types, so that the client and the server
// share one definition of each body (openapi/openapi.yaml describes them).
type (
	// DossierInput is the body that creates a dossier.
	DossierInput = vault.DossierInput
	// Dossier is one device's technical documentation.
	Dossier = vault.Dossier
	// Document is a document's metadata, signed into its receipt.
	Document = vault.Document
	// File describes a document's bytes.
	File = vault.File
	// Kind is a document's kind, such as "test-report".
	Kind = regulation.Kind
	// Regulation is MDR or IVDR.
	Regulation = regulation.Regulation
	// Version is one sealed version of a document.
	Version = vault.Version
	// Ticket says how to send an upload's bytes.
	Ticket = vault.Ticket
	// Presigned is a presigned request to storage.
	Presigned = vault.Presigned
	// UploadStatus is where an upload stands.
	UploadStatus = vault.UploadStatus
	// PartURL asks for a part's presigned PUT; PresignedPart is one.
	PartURL       = vault.PartURL
	PresignedPart = vault.PresignedPart
	// Receipt is a parsed receipt; Verification the checks made of one.
	Receipt      = vault.Receipt
	Verification = vault.Verification
	Check        = vault.Check
	// FieldError names one bad field of a request.
	FieldError = vault.FieldError
	// Trust is what a verifier trusts of a log: keys, each for a span.
	Trust = vault.Trust
	// PublicKey is a signing key as the API lists it; Key a parsed one.
	PublicKey = vault.PublicKey
	Key       = receipt.Key
	// LogProof, LogEntries and KeyLog are the log's answers.
	LogProof   = vault.LogProof
	LogEntries = vault.LogEntries
	KeyLog     = vault.KeyLog
	// Checkpoint is a verified checkpoint of a log.
	Checkpoint = ledger.Checkpoint
	// BundleWriter writes an export bundle; Manifest is its manifest.
	BundleWriter = bundle.Writer
	Manifest     = bundle.Manifest
)

// ParsePublicKey parses a P-256 public key in PEM, as GET /v1/keys and
// evault keys give it.
func ParsePublicKey(pem []byte) (Key, error) { return receipt.ParsePublicKey(pem) }
