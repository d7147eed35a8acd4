package vault

import "time"

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
	// State is what the dossier's lifecycle events say of the version,
	// filled in where it is shown; never stored in the chain entry.
	State *VersionState `json:"state,omitempty"`
}

// VersionRef points at an earlier sealed version: the one a new version
// supersedes.
type VersionRef struct {
	Version   int    `json:"version"`
	ReceiptID string `json:"receiptId"`
	SHA256    string `json:"sha256"`
	VersionID string `json:"versionId"`
}

func (v Version) ref() *VersionRef {
	return &VersionRef{Version: v.Version, ReceiptID: v.ReceiptID, SHA256: v.SHA256, VersionID: v.VersionID}
}

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
