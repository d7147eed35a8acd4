package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/strictjson"
)

// Receipt is a signed receipt with its decoded predicate and, once its
// statement is in the tenant's log, the proof of that, and the RFC 3161
// timestamps of its signature.
type Receipt struct {
	Envelope   *receipt.Envelope
	Subject    receipt.Subject
	Predicate  ReceiptPredicate
	Log        *ledger.Proof
	Timestamps [][]byte
	// Pending is set when the vault timestamps receipts but this one has
	// no timestamp yet: what is served of it will still change.
	Pending bool
}

// Bundle is a receipt as the vault stores and serves it: the signed DSSE
// envelope and where its statement sits in the tenant's log. The bundle
// served also carries the timestamps of its signature (DER
// TimeStampResp, base64), which are stored beside it (timestamps.go).
type Bundle struct {
	Envelope   json.RawMessage `json:"envelope"`
	Log        *ledger.Proof   `json:"log"`
	Timestamps [][]byte        `json:"timestamps,omitempty"`
}

// Bundle is the receipt as the vault serves it.
func (r *Receipt) Bundle() Bundle {
	env, _ := json.Marshal(r.Envelope)
	return Bundle{Envelope: env, Log: r.Log, Timestamps: r.Timestamps}
}

// storeEntry writes the record of a log entry (a receipt bundle or a key
// event record), locked like the log. One already there with the same
// bytes (another process finished the commit first) counts as written. One
// with other bytes was written by someone else, before the vault could
// (its key is predictable): the log, not the object, is the truth, so the
// vault writes its own version over it, which readers pick out by its
// signature and log proof, and the audit reports the other.
func storeEntry(ctx context.Context, records Records, lock *Lock, tenant, id string, b Bundle) error {
	data, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("vault: store receipt %s: %w", id, err)
	}
	key := entryKey(tenant, id)
	err = records.Create(ctx, key, data, lock)
	if errors.Is(err, ErrExists) {
		if have, gerr := records.Get(ctx, key); gerr == nil && bytes.Equal(have, data) {
			return nil
		}
		err = records.Put(ctx, key, data)
	}
	if err != nil {
		return fmt.Errorf("vault: store receipt %s: %w", id, err)
	}
	return nil
}

// storedReceipt reads a stored receipt bundle and checks it as a verifier
// would: receipt id, tenant, a signature by a key the log's history allows
// at its index, its log proof. A bundle that fails was written over by
// someone else; the vault's own is then read from the versions beneath,
// and if there is none the answer is a specific problem naming the object.
func (s *Service) storedReceipt(ctx context.Context, tenant, id string) (*Receipt, error) {
	key := receiptKey(tenant, id)
	data, err := s.records.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	trust, err := s.trust(ctx, tenant)
	if err != nil {
		return nil, err
	}
	r, verr := openStored(ctx, data, tenant, id, trust)
	if verr == nil {
		return r, nil
	}
	var own *Receipt
	found, err := versionWhere(ctx, s.records, key, func(data []byte) bool {
		r, err := openStored(ctx, data, tenant, id, trust)
		own = r
		return err == nil
	})
	if err != nil {
		return nil, fmt.Errorf("vault: stored receipt %s: %w", id, err)
	}
	if found != nil {
		s.log.WarnContext(ctx, "receipt written over; reading the vault's own", "object", key, "err", verr)
		return own, nil
	}
	return nil, &Error{Code: CodeTampered, Message: fmt.Sprintf("receipt object %s holds no receipt the vault signed: %v", key, verr), Err: verr}
}

// openStored reads a stored receipt bundle and checks it is the receipt id
// of tenant, signed and logged.
func openStored(ctx context.Context, data []byte, tenant, id string, trust Trust) (*Receipt, error) {
	r, err := OpenReceipt(data)
	if err != nil {
		return nil, err
	}
	if r.Predicate.ReceiptID != id || r.Predicate.Tenant != tenant {
		return nil, fmt.Errorf("it holds receipt %s of tenant %s", r.Predicate.ReceiptID, r.Predicate.Tenant)
	}
	if r.Log == nil {
		return nil, errors.New("it carries no log proof")
	}
	key, _, err := receipt.VerifySingle(ctx, r.Envelope, trust.Public())
	if err != nil {
		return nil, err
	}
	if !trust.Allows(key.ID, r.Log.Index) {
		return nil, fmt.Errorf("key %s may not have signed entry %d", key.ID, r.Log.Index)
	}
	if _, err := verifyLogProof(r, trust); err != nil {
		return nil, err
	}
	return r, nil
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
		var b Bundle
		if err := strictjson.Unmarshal(data, &b); err != nil {
			return nil, fmt.Errorf("%w: receipt bundle: %v", receipt.ErrMalformed, err)
		}
		r, err := OpenReceipt(b.Envelope)
		if err != nil {
			return nil, err
		}
		if b.Log != nil && (b.Log.Index > ledger.MaxSize || b.Log.Index < -ledger.MaxSize) {
			return nil, fmt.Errorf("%w: receipt bundle: log index %d is not exact as a JSON number", receipt.ErrMalformed, b.Log.Index)
		}
		r.Log, r.Timestamps = b.Log, b.Timestamps
		return r, nil
	}
	env, st, err := receipt.Parse(data)
	if err != nil {
		return nil, err
	}
	return receiptOf(env, st)
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

// leaf is the leaf data a receipt stands for in the log: its payload, the
// in-toto statement exactly as signed.
func (r *Receipt) leaf() ([]byte, error) { return receipt.Payload(r.Envelope) }

// recordLeaf reads the leaf of a record the log keeps: a DSSE envelope.
// recordID returns the log entry id a record's signed statement names: a
// receipt's id, a key event's, a grant event's.
func recordID(record []byte) (string, error) {
	_, st, err := receipt.Parse(record)
	if err != nil {
		return "", err
	}
	switch st.PredicateType {
	case PredicateType:
		var p ReceiptPredicate
		if err := st.DecodePredicate(&p); err != nil {
			return "", err
		}
		return p.ReceiptID, nil
	case KeyEventType:
		var ev KeyEvent
		if err := st.DecodePredicate(&ev); err != nil {
			return "", err
		}
		return keyEventID(ev.Event, ev.Key.KeyID), nil
	case GrantType:
		var ev GrantEvent
		if err := st.DecodePredicate(&ev); err != nil {
			return "", err
		}
		return grantEntryID(ev.Event, ev.GrantID), nil
	case LifecycleType:
		var ev LifecycleEvent
		if err := st.DecodePredicate(&ev); err != nil {
			return "", err
		}
		return lifecycleEntryID(ev.Dossier, ev.ID), nil
	}
	return "", fmt.Errorf("%w: a statement of type %q is no log entry of the vault", receipt.ErrMalformed, st.PredicateType)
}

func recordLeaf(record []byte) ([]byte, error) {
	var env receipt.Envelope
	if err := json.Unmarshal(record, &env); err != nil {
		return nil, fmt.Errorf("%w: envelope: %v", receipt.ErrMalformed, err)
	}
	return receipt.Payload(&env)
}

// versionWhere returns the first version written of key (delete markers
// passed over) that accept takes, nil if none does. Of an object anyone
// with bucket access can write, readers take what proves itself, never
// simply the newest.
func versionWhere(ctx context.Context, records Records, key string, accept func([]byte) bool) ([]byte, error) {
	objs, err := records.List(ctx, key)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if o.Key != key {
			continue
		}
		for _, v := range o.Versions {
			if v.DeleteMarker {
				continue
			}
			if data, err := records.GetVersion(ctx, key, v.ID); err == nil && accept(data) {
				return data, nil
			}
		}
	}
	return nil, nil
}

// firstVersion is versionWhere for readers that take a failed listing as
// nothing kept.
func firstVersion(ctx context.Context, records Records, key string, accept func([]byte) bool) []byte {
	data, _ := versionWhere(ctx, records, key, accept)
	return data
}
