package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
)

// Check is one named verification step.
type Check struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	// Skipped is set when the check could not be made; Passed is then false.
	Skipped bool   `json:"skipped,omitempty"`
	Detail  string `json:"detail"`
}

// Verification is the answer to POST /v1/verify: every check, named, and
// what the verdict trusted.
type Verification struct {
	Valid     bool    `json:"valid"`
	ReceiptID string  `json:"receiptId,omitempty"`
	KeyID     string  `json:"keyId,omitempty"`
	Checks    []Check `json:"checks"`
	// Trusted says which keys the checks trusted, and why.
	Trusted *Trusted `json:"trusted,omitempty"`
}

// Trusted is the basis of a verification: the keys, and where they come
// from.
type Trusted struct {
	Keys  []string `json:"keys"`
	Basis string   `json:"basis"`
}

// Check names, in the order they run.
const (
	CheckFormat    = "format"
	CheckKeyKnown  = "key_known"
	CheckSignature = "signature"
	CheckFile      = "file_digest"
	CheckDigest    = "digest"
	CheckLocked    = "version_locked"
	// CheckLog is made for receipt bundles: the checkpoint is signed by a
	// vault key and the statement is the entry the proof places in it.
	CheckLog = "log_inclusion"
	// CheckInLog is made by the vault, which has the log at hand: the
	// receipt is the entry its log holds under the receipt's id.
	CheckInLog = "in_log"
	// CheckTimestamp is made when timestamp authorities are trusted: the
	// receipt's RFC 3161 timestamps are over its signature, by a trusted
	// authority, and no earlier than the vault says it sealed.
	CheckTimestamp = "timestamp"
	// CheckWitnessed is made when a witness policy is given: the receipt's
	// checkpoint is cosigned by enough of the policy's witnesses.
	CheckWitnessed = "witnessed"
)

// Verify checks a presented receipt: its format, that a trusted key signed
// it and the signature holds, that a given file digest is the one it
// names, and that the stored version is still there, with that digest, and
// locked at least as long as the receipt says. sha256 is optional (hex).
//
// pinned is the caller's own pin of the vault's key, when it has one: the
// keys trusted are then those the caller's tenant's log history leads to
// from it. Without, they are the vault's configured keys and what its logs
// lead to from them, which a caller who does not trust the vault's operator
// should not rely on.
func (s *Service) Verify(ctx context.Context, data []byte, sha256 string, pinned *receipt.Key) (*Verification, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if sha256 != "" && !validSHA256(strings.ToLower(sha256)) {
		return nil, invalid([]FieldError{{Pointer: "/sha256", Detail: "must be a SHA-256 as 64 hexadecimal characters"}})
	}
	var trust Trust
	if pinned == nil {
		trust, err = s.trust(ctx, id.Tenant)
		if err != nil {
			return nil, err
		}
		if trust.Basis == "" {
			trust.Basis = "the vault's configured keys"
		}
		trust.Stamps = s.stampTrust()
		trust.Basis += " (pin the vault's key yourself, with \"key\", to check against whoever runs it)"
	} else {
		h, err := s.history(ctx, id.Tenant)
		if err != nil {
			return nil, err
		}
		if trust, err = h.Trust(ctx, LogOrigin(s.cfg.Bucket, id.Tenant), *pinned, nil); err != nil {
			// The receipt may be of another tenant, whose history this
			// identity cannot read: the pinned key alone then.
			trust = TrustKeys("the key you pinned, "+pinned.ID+" (your tenant's log history does not lead from it: "+err.Error()+")", *pinned)
		}
		trust.Stamps = s.stampTrust()
	}
	out, r := VerifyOffline(ctx, data, trust, strings.ToLower(sha256), -1)
	if r == nil {
		out.Checks = append(out.Checks, Check{Name: CheckDigest, Skipped: true, Detail: "the receipt could not be read"},
			Check{Name: CheckLocked, Skipped: true, Detail: "the receipt could not be read"})
		return out, nil
	}
	add := func(name string, passed bool, detail string) {
		out.Checks = append(out.Checks, Check{Name: name, Passed: passed, Detail: detail})
	}
	skip := func(detail string, names ...string) {
		for _, n := range names {
			out.Checks = append(out.Checks, Check{Name: n, Skipped: true, Detail: detail})
		}
	}
	signed := out.KeyID != ""
	p := r.Predicate
	switch {
	case !signed:
		skip("storage is consulted only for receipts whose signature holds", CheckInLog, CheckDigest, CheckLocked)
	case !id.CanRead(p.Tenant, p.Dossier.ID):
		skip("the receipt's dossier is not readable with this identity", CheckInLog, CheckDigest, CheckLocked)
	case p.Storage.Bucket != s.cfg.Bucket:
		skip(fmt.Sprintf("the receipt names bucket %s; this vault keeps %s", p.Storage.Bucket, s.cfg.Bucket), CheckInLog, CheckDigest, CheckLocked)
	default:
		s.checkInLog(ctx, r, add)
		s.checkVersion(ctx, r, add)
	}
	out.settle()
	return out, nil
}

// Add appends a check made beyond these (a client's own); the verdict
// holds only if it passes too.
func (v *Verification) Add(c Check) {
	v.Checks = append(v.Checks, c)
	v.Valid = v.Valid && c.Passed
}

func (v *Verification) settle() {
	v.Valid = true
	for _, c := range v.Checks {
		v.Valid = v.Valid && c.Passed
	}
}

// VerifyOffline makes the checks that need no storage: format, key_known,
// signature, log_inclusion (for bundles) and, when sha256 (hex) is given,
// file_digest, which also compares size unless it is negative. trust holds
// the keys the verifier trusts, each for a span of the log: a receipt
// signed by a key outside its span (a retired key signing after its
// rotation) is refused. It returns the receipt when it could be read.
func VerifyOffline(ctx context.Context, data []byte, trust Trust, sha256 string, size int64) (*Verification, *Receipt) {
	out := &Verification{Trusted: &Trusted{Basis: trust.Basis, Keys: []string{}}}
	for _, k := range trust.Keys {
		out.Trusted.Keys = append(out.Trusted.Keys, k.Key.ID)
	}
	keys := trust.Public()
	add := func(name string, passed bool, detail string) {
		out.Checks = append(out.Checks, Check{Name: name, Passed: passed, Detail: detail})
	}
	skip := func(detail string, names ...string) {
		for _, n := range names {
			out.Checks = append(out.Checks, Check{Name: n, Skipped: true, Detail: detail})
		}
	}

	r, err := OpenReceipt(data)
	if err != nil {
		add(CheckFormat, false, err.Error())
		skip("the receipt could not be read", CheckKeyKnown, CheckSignature)
		out.settle()
		return out, nil
	}
	add(CheckFormat, true, "DSSE envelope holding an in-toto Statement v1 with a "+PredicateType+" predicate")
	out.ReceiptID = r.Predicate.ReceiptID

	index := int64(-1)
	if r.Log != nil {
		index = r.Log.Index
	}
	key, _, err := receipt.Verify(ctx, r.Envelope, keys)
	switch {
	case errors.Is(err, receipt.ErrUnknownKey):
		add(CheckKeyKnown, false, "no signature is by a key you trust: "+trust.Basis)
		skip("no known key to check the signature with", CheckSignature)
	case err == nil && !trust.Allows(key.ID, index):
		add(CheckKeyKnown, false, fmt.Sprintf("signed by key %s, which the log's key history does not allow at entry %d: it had been rotated away, or was not yet in use", key.ID, index))
		skip("the key is not trusted for this entry", CheckSignature)
	case err != nil:
		add(CheckKeyKnown, true, "signed by key "+key.ID)
		add(CheckSignature, false, "the signature does not match the receipt's content: it was altered or forged")
	default:
		out.KeyID = key.ID
		add(CheckKeyKnown, true, "signed by key "+key.ID)
		add(CheckSignature, true, "ECDSA P-256 SHA-256 signature over the DSSE envelope holds")
	}

	if trust.Stamps != nil {
		passed, detail := checkStamps(r, *trust.Stamps, trust.RequireStamp)
		add(CheckTimestamp, passed, detail)
	}
	if r.Log != nil {
		if cp, err := verifyLogProof(r, trust); err != nil {
			add(CheckLog, false, err.Error())
		} else {
			add(CheckLog, true, fmt.Sprintf("entry %d of log %s, in its signed checkpoint of size %d", r.Log.Index, cp.Origin, cp.Size))
		}
	}
	if trust.Witnesses != nil {
		switch names, err := trust.Witnesses.Check(logNote(r)); {
		case r.Log == nil:
			add(CheckWitnessed, false, "a bare envelope carries no checkpoint for witnesses to have cosigned: verify the receipt bundle")
		case err != nil:
			add(CheckWitnessed, false, err.Error())
		default:
			add(CheckWitnessed, true, "its checkpoint is cosigned by "+strings.Join(names, ", "))
		}
	}

	digest := r.Subject.Digest["sha256"]
	switch {
	case sha256 == "":
	case sha256 != digest:
		add(CheckFile, false, fmt.Sprintf("the file's SHA-256 %s differs from the receipt's %s", sha256, digest))
	case size >= 0 && size != r.Predicate.Storage.Size:
		add(CheckFile, false, fmt.Sprintf("the file is %d bytes; the receipt says %d", size, r.Predicate.Storage.Size))
	default:
		add(CheckFile, true, "the file's SHA-256 is the one the receipt names")
	}
	out.settle()
	return out, r
}

// checkInLog compares a receipt with the one the tenant's log holds under
// its id: a receipt signed by a key's holder but never logged (a retired
// key's, or any made with signing permission alone) is not there.
func (s *Service) checkInLog(ctx context.Context, r *Receipt, add func(string, bool, string)) {
	p := r.Predicate
	logged, err := s.storedReceipt(ctx, p.Tenant, p.ReceiptID)
	switch {
	case errors.Is(err, ErrNotFound):
		add(CheckInLog, false, "the vault's log holds no receipt "+p.ReceiptID)
		return
	case ErrorCode(err) == CodeTampered:
		add(CheckInLog, false, "the vault's copy of receipt "+p.ReceiptID+" is not one it wrote (the audit names the object)")
		return
	case err != nil:
		s.log.ErrorContext(ctx, "verify: read the logged receipt", "err", err)
		add(CheckInLog, false, "the vault's log could not be read for receipt "+p.ReceiptID+"; try again")
		return
	}
	got, gerr := r.leaf()
	want, werr := logged.leaf()
	switch {
	case gerr != nil || werr != nil || !bytes.Equal(got, want):
		add(CheckInLog, false, fmt.Sprintf("the vault's log holds another statement as receipt %s, at entry %d: this one was never logged", p.ReceiptID, logged.Log.Index))
	case r.Log != nil && r.Log.Index != logged.Log.Index:
		add(CheckInLog, false, fmt.Sprintf("the receipt claims entry %d; the log holds it at %d", r.Log.Index, logged.Log.Index))
	default:
		add(CheckInLog, true, fmt.Sprintf("entry %d of the vault's log is this receipt", logged.Log.Index))
	}
}

// checkVersion compares a receipt with the version it names in storage.
func (s *Service) checkVersion(ctx context.Context, r *Receipt, add func(string, bool, string)) {
	p := r.Predicate
	info, err := s.objects.Stat(ctx, p.Storage.Key, p.Storage.VersionID)
	if err != nil {
		detail := "version " + p.Storage.VersionID + " of the document is no longer stored"
		if !errors.Is(err, ErrNotFound) {
			s.log.ErrorContext(ctx, "verify: stat version", "err", err)
			detail = "storage could not be read; try again"
		}
		add(CheckDigest, false, detail)
		add(CheckLocked, false, detail)
		return
	}
	want := r.Subject.Digest["sha256"]
	switch {
	case info.SHA256 == want && info.Size == p.Storage.Size:
		add(CheckDigest, true, "the stored version's storage-verified SHA-256 is the receipt's")
	case info.SHA256 == "" && info.Size == p.Storage.Size:
		// Storage keeps no SHA-256 of an object joined from parts; a
		// version's bytes never change, and the seal hashed this one
		// (re-hashing GiBs here would outlast the request).
		add(CheckDigest, true, fmt.Sprintf("storage keeps no SHA-256 of an object sent in parts: this version, of the receipt's %d bytes, is the one the vault hashed when it sealed it (a version's bytes never change); download it to hash it yourself", info.Size))
	default:
		add(CheckDigest, false, fmt.Sprintf("the stored version has SHA-256 %q and %d bytes; the receipt says %s and %d", info.SHA256, info.Size, want, p.Storage.Size))
	}
	switch {
	case info.LockMode == "":
		add(CheckLocked, false, "the stored version carries no Object Lock retention")
	case info.RetainUntil.Before(p.Retention.RetainUntil):
		add(CheckLocked, false, fmt.Sprintf("the version is retained until %s, before the receipt's %s", info.RetainUntil.UTC().Format("2006-01-02"), p.Retention.RetainUntil.Format("2006-01-02")))
	case p.Retention.Mode == Compliance && info.LockMode != Compliance:
		add(CheckLocked, false, fmt.Sprintf("the version is locked in %s mode; the receipt says %s", info.LockMode, p.Retention.Mode))
	default:
		add(CheckLocked, true, fmt.Sprintf("present and locked in %s mode until %s", info.LockMode, info.RetainUntil.UTC().Format("2006-01-02")))
	}
}

// verifyLogProof checks a receipt's log proof offline: the receipt's
// statement is the entry the proof places in the checkpoint, and the
// checkpoint is signed by the key trust allows at its size (a retired key
// signs no checkpoint after its rotation).
func verifyLogProof(r *Receipt, trust Trust) (ledger.Checkpoint, error) {
	leaf, err := r.leaf()
	if err != nil {
		return ledger.Checkpoint{}, err
	}
	cp, err := ledger.VerifyProof(leaf, r.Log, receipt.PublicKeys(trust.Public()))
	if err != nil {
		return cp, err
	}
	if _, err := ledger.VerifyProof(leaf, r.Log, receipt.PublicKeys(trust.signersAt(cp.Size))); err != nil {
		return cp, fmt.Errorf("the checkpoint of size %d is not signed by the key the log's history gives its last entry: %w", cp.Size, err)
	}
	return cp, nil
}

// logNote is the checkpoint a receipt's log proof leads to, nil without.
func logNote(r *Receipt) []byte {
	if r.Log == nil {
		return nil
	}
	return []byte(r.Log.Checkpoint)
}
