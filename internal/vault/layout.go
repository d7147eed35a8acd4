package vault

import (
	"fmt"
	"net/url"
	"strings"
)

// Object key layout (docs/design.md). Evidence lives under its own prefix
// so that the seal trigger can filter on it; everything the vault writes
// about evidence lives under vault/, the tenants' logs under ledger/.
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

// evidencePrefix holds every document of one dossier.
func evidencePrefix(tenant, dossier string) string {
	return EvidencePrefix + tenant + "/" + dossier + "/"
}

func dossierKey(tenant, dossier string) string {
	return dossiersPrefix(tenant) + dossier + ".json"
}

func dossiersPrefix(tenant string) string { return "vault/" + tenant + "/dossiers/" }

func uploadKey(tenant, upload string) string {
	return "vault/" + tenant + "/uploads/" + upload + ".json"
}

// idempotencyPrefix holds the attempts at one idempotency key, one
// object each.
func idempotencyPrefix(tenant, hash string) string {
	return "vault/" + tenant + "/idempotency/" + hash + "/"
}

func digestStateKey(tenant, upload string) string {
	return "vault/" + tenant + "/uploads/" + upload + ".sha256-state.json"
}

// receiptKey is where a receipt bundle lives.
func receiptKey(tenant, receipt string) string {
	return receiptsPrefix(tenant) + receipt + ".json"
}

func receiptsPrefix(tenant string) string { return "vault/" + tenant + "/receipts/" }

// receiptIDOfKey recovers a receipt's id from its bundle's key.
func receiptIDOfKey(tenant, key string) (string, bool) {
	id, ok := strings.CutPrefix(key, receiptsPrefix(tenant))
	if !ok {
		return "", false
	}
	id, ok = strings.CutSuffix(id, ".json")
	return id, ok && receiptIDPattern.MatchString(id)
}

// timestampKey is where the RFC 3161 timestamp of a receipt's signature
// lives (timestamps.go).
func timestampKey(tenant, receipt string) string {
	return timestampsPrefix(tenant) + receipt + ".tsr"
}

func timestampsPrefix(tenant string) string { return "vault/" + tenant + "/timestamps/" }

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

// chainPath recovers the document path from a version chain entry's key.
func chainPath(prefix, key string) (path string, ok bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return "", false
	}
	escaped, _, ok := strings.Cut(rest, "/")
	if !ok {
		return "", false
	}
	p, err := url.PathUnescape(escaped)
	return p, err == nil
}

func publicKeyKey(id string) string { return keysPrefix + id + ".pem" }

// keyEventsPrefix holds the records of a tenant log's key events, each the
// event's envelope with its place in the log.
func keyEventsPrefix(tenant string) string { return "vault/" + tenant + "/keyevents/" }

// entryKey is where the record of a log entry is kept: a receipt bundle,
// or a key event record.
func entryKey(tenant, id string) string {
	if isKeyEvent(id) {
		return keyEventsPrefix(tenant) + id + ".json"
	}
	if isGrantEvent(id) {
		return grantsPrefix(tenant) + id + ".json"
	}
	if dossier, event, ok := lifecycleEntryParts(id); ok {
		return lifecyclePrefix(tenant, dossier) + event + ".json"
	}
	return receiptKey(tenant, id)
}

// ledgerPrefix is where a tenant's Merkle log lives (docs/ledger.md).
func ledgerPrefix(tenant string) string { return "ledger/" + tenant + "/" }
