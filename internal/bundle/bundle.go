// Package bundle is the export bundle a startup hands its notified body: a
// folder or ZIP file holding a dossier's documents at their exact sealed
// versions, their receipts with inclusion proofs against one signed log
// checkpoint, the vault's public keys, a manifest, SHA256SUMS and VERIFY.md.
// Verify checks all of it offline and names the first item that fails.
//
// Layout:
//
//	MANIFEST.json              the dossier, the log checkpoint and every document
//	SHA256SUMS                 sha256sum -c format, every other file
//	VERIFY.md                  how to verify, with evault and with standard tools
//	checkpoint.txt             the tenant log's signed checkpoint (C2SP signed note)
//	key-history.json           the log's key events, each proven against checkpoint.txt
//	keys/{keyId}.pem           the vault's public keys, for reading (trust comes from a pin and the history)
//	files/{path}               each document, at the version the manifest names
//	receipts/{path}.receipt.json  its receipt bundle, proven against checkpoint.txt
//	lifecycle.json             the dossier's lifecycle events (market status, holds,
//	                           statuses, sign-offs, submissions), each proven against checkpoint.txt
package bundle

import (
	"encoding/json"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/vault"
)

// Format names this layout in MANIFEST.json.
const Format = "https://evidencevault.dev/bundle/v1"

// Fixed names in a bundle.
const (
	ManifestFile   = "MANIFEST.json"
	SumsFile       = "SHA256SUMS"
	VerifyFile     = "VERIFY.md"
	CheckpointFile = "checkpoint.txt"
	KeyHistoryFile = "key-history.json"
	LifecycleFile  = "lifecycle.json"
)

// Event is one lifecycle event in LifecycleFile: its envelope, its place
// in the log and the proof that the checkpoint's tree holds it there.
type Event struct {
	Index     int64           `json:"index"`
	Envelope  json.RawMessage `json:"envelope"`
	Inclusion ledger.Hashes   `json:"inclusion"`
}

// Manifest describes a bundle.
type Manifest struct {
	Format    string        `json:"format"`
	CreatedAt time.Time     `json:"createdAt"`
	CreatedBy string        `json:"createdBy,omitempty"`
	Dossier   vault.Dossier `json:"dossier"`
	Log       Log           `json:"log"`
	Keys      []string      `json:"keys"`
	// KeyHistory names the file of the log's key events (vault.KeyLog);
	// bundles made before keys were logged have none.
	KeyHistory string     `json:"keyHistory,omitempty"`
	Documents  []Document `json:"documents"`
	// Lifecycle names the file of the dossier's lifecycle events; the
	// documents' statuses and sign-offs are what those events say.
	Lifecycle string `json:"lifecycle,omitempty"`
	// Submission, when the bundle exports one, is it: the documents are
	// exactly its versions.
	Submission string `json:"submission,omitempty"`
	// LeftOut names the documents left out as obsolete or withdrawn.
	LeftOut []string `json:"leftOut,omitempty"`
	// Snapshot names the export event among the lifecycle events that
	// lists every document of the dossier when the bundle was made.
	Snapshot string `json:"snapshot,omitempty"`
}

// Log is the checkpoint every receipt in the bundle is proven against.
type Log struct {
	Origin     string `json:"origin"`
	Size       int64  `json:"size"`
	Checkpoint string `json:"checkpoint"`
}

// Document is one document at one sealed version.
type Document struct {
	Path      string `json:"path"`
	Version   int    `json:"version"`
	ReceiptID string `json:"receiptId"`
	LogIndex  int64  `json:"logIndex"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	File      string `json:"file"`
	Receipt   string `json:"receipt"`
	// Status is current, superseded, obsolete or withdrawn, at the
	// bundle's checkpoint.
	Status    string                `json:"status,omitempty"`
	Approved  bool                  `json:"approved,omitempty"`
	Signoffs  []vault.SignoffRecord `json:"signoffs,omitempty"`
	LegalHold bool                  `json:"legalHold,omitempty"`
}

// FileName and ReceiptName are where a document and its receipt go.
func FileName(path string) string    { return "files/" + path }
func ReceiptName(path string) string { return "receipts/" + path + ".receipt.json" }

// KeyName is where a public key goes.
func KeyName(keyID string) string { return "keys/" + keyID + ".pem" }
