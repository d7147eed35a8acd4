// Package vault is the domain of Evidence Vault: dossiers, evidence
// metadata and its validation, upload sessions, sealing into versioned,
// retention-locked objects, and the signed receipts that prove it.
//
// Files follow the flow. An upload starts (upload.go, multipart.go) and is
// completed or caught by the storage event (complete.go); sealing
// (seal.go) checks the stored bytes, claims the document's next version
// (claim.go), builds the receipt's statement (statement.go), signs it
// (internal/receipt), appends it to the tenant's log (internal/ledger,
// through log.go) and stores the receipt (receipts.go). Reads, downloads
// and verification are read.go and verify.go; the signing keys keys.go.
// The regulatory catalogue the metadata is checked against is
// internal/regulation.
//
// The Service depends on small interfaces it declares (storage.go) and
// on receipt.Signer; adapters such as s3store implement them. It owns no
// database: every record is an object in the evidence bucket.
package vault
