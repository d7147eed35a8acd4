package vault

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"regexp"
	"strings"
)

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Identifier prefixes say what an id names, so that a receipt id pasted
// where an upload id belongs fails clearly.
const (
	dossierIDPrefix = "dos_"
	uploadIDPrefix  = "upl_"
	receiptIDPrefix = "rcp_"
)

var (
	dossierIDPattern = regexp.MustCompile(`^dos_[a-z2-7]{16}$`)
	uploadIDPattern  = regexp.MustCompile(`^upl_[a-z2-7]{26}$`)
	receiptIDPattern = regexp.MustCompile(`^rcp_[a-z2-7]{26}$`)
)

// dossierID derives a dossier's id from its tenant and Basic UDI-DI: one
// device model has one technical documentation, and the conditional create
// of the dossier record then enforces that without a second index.
func dossierID(tenant, basicUDIDI string) string {
	sum := sha256.Sum256([]byte(tenant + "\x00" + basicUDIDI))
	return dossierIDPrefix + b32.EncodeToString(sum[:10])
}

func newUploadID() string { return randomID(uploadIDPrefix) }

// randomID is prefix and 128 random bits, in the ids' base32.
func randomID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + b32.EncodeToString(b[:])
}

// principal is who id is, as records name the one who acted.
func principal(id Identity) Principal {
	return Principal{Tenant: id.Tenant, Subject: id.Subject, Role: id.Role}
}

// receiptIDFor names the receipt of an upload. It is derived, not drawn, so
// that every path that seals the upload (complete, the S3 event, a retry)
// lands on the same receipt object and the conditional create lets only one
// of them write it.
func receiptIDFor(uploadID string) string {
	return receiptIDPrefix + strings.TrimPrefix(uploadID, uploadIDPrefix)
}
