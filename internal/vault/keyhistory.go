package vault

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/evidencevault/vault/internal/tsa"
	"github.com/evidencevault/vault/internal/witnessing"
	"slices"
	"strings"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
)

// A tenant's log records the keys that sign it: its first key event names
// the key (genesis, signed by that key), and each rotation is an event
// signed by the outgoing and the incoming key. A verifier who pins any one
// of those keys derives the others from the log itself, each trusted for
// the span of the log it signed; a key that is not in that chain is
// refused, whatever the bucket's keys/ folder says.

// KeyEventType names the predicate of a key event (docs/ledger.md).
const KeyEventType = "https://evidencevault.dev/key/v1"

// Key events.
const (
	KeyGenesis  = "genesis"
	KeyRotation = "rotation"
)

// KeyEvent is the predicate of a key event.
type KeyEvent struct {
	Event string `json:"event"`
	// Log is the origin of the log the event belongs to.
	Log string    `json:"log"`
	Key PublicKey `json:"key"`
	// Previous is the key a rotation retires.
	Previous *PublicKey `json:"previous,omitempty"`
	At       time.Time  `json:"at"`
}

// KeyRecord is one key event as the vault keeps it: the signed envelope
// and its place in the log, as a receipt bundle has them.
type KeyRecord = Bundle

// keyEventID names a key event's log entry: one genesis per key, one
// rotation into each key.
func keyEventID(event, keyID string) string { return "key-" + event + "-" + keyID }

// isKeyEvent reports whether a log entry id is a key event's.
func isKeyEvent(id string) bool { return strings.HasPrefix(id, "key-") }

// keyEventStatement builds the statement of a key event: its subject is the
// key, by the SHA-256 of its DER encoding (its key id).
func keyEventStatement(ev KeyEvent) (receipt.Statement, error) {
	raw, err := json.Marshal(ev)
	if err != nil {
		return receipt.Statement{}, fmt.Errorf("vault: key event: %w", err)
	}
	return receipt.Statement{
		Subject:       []receipt.Subject{{Name: "key:" + ev.Key.KeyID, Digest: map[string]string{"sha256": ev.Key.KeyID}}},
		PredicateType: KeyEventType,
		Predicate:     raw,
	}, nil
}

func publicKeyOf(k receipt.Key) PublicKey {
	return PublicKey{KeyID: k.ID, Algorithm: receipt.Algorithm, PEM: string(k.PEM())}
}

// TrustedKey is a key a verifier trusts, for the entries of one log from
// index From on, up to (not including) Until; Until is -1 while the key is
// the log's current one. Keys given without a log (a verifier's --key) are
// trusted for every index.
type TrustedKey struct {
	Key   receipt.Key
	From  int64
	Until int64
}

// Trust is what a verifier trusts, and why.
type Trust struct {
	Keys []TrustedKey
	// Basis says where the trust comes from, for people.
	Basis string
	// Policy is what the verifier requires beyond the keys.
	Policy
}

// Policy is what a verifier requires of receipts beyond the vault's keys:
// time from a timestamp authority, and checkpoints cosigned by witnesses.
type Policy struct {
	// Stamps, when set, are the timestamp authorities trusted: a receipt's
	// timestamps must verify under them, and, with RequireStamp, it must
	// have one.
	Stamps       *tsa.Trust
	RequireStamp bool
	// Witnesses, when set, is the witness policy a receipt's checkpoint
	// must meet.
	Witnesses *witnessing.Policy
	// RequireComplete makes a bundle prove it holds the whole dossier:
	// its lifecycle events must hold the export snapshot it names.
	RequireComplete bool
}

// TrustKeys trusts keys given by hand, for every entry of any log.
func TrustKeys(basis string, keys ...receipt.Key) Trust {
	t := Trust{Basis: basis}
	for _, k := range keys {
		t.Keys = append(t.Keys, TrustedKey{Key: k, From: 0, Until: -1})
	}
	return t
}

// Public returns the trusted keys, whatever their spans.
func (t Trust) Public() []receipt.Key {
	out := make([]receipt.Key, len(t.Keys))
	for i, k := range t.Keys {
		out[i] = k.Key
	}
	return out
}

// Allows reports whether key id may have signed the entry at index of the
// log. A receipt that shows no place in the log (index < 0) may be signed
// only by a current key: a retired key's holder could sign anything, and
// only a log place inside the key's span tells its receipts from theirs.
func (t Trust) Allows(keyID string, index int64) bool {
	for _, k := range t.Keys {
		if k.Key.ID != keyID {
			continue
		}
		if index < 0 && k.Until < 0 || index >= 0 && index >= k.From && (k.Until < 0 || index < k.Until) {
			return true
		}
	}
	return false
}

// signersAt returns the keys that may have signed the checkpoint of size
// n: the key of its last entry.
func (t Trust) signersAt(size int64) []receipt.Key {
	var keys []receipt.Key
	for _, k := range t.Keys {
		if size >= 1 && t.Allows(k.Key.ID, size-1) {
			keys = append(keys, k.Key)
		}
	}
	return keys
}

// KeyHistory is a log's key events, in log order.
type KeyHistory []KeyRecord

// keyStep is one verified event of a history.
type keyStep struct {
	index int64
	event KeyEvent
	key   receipt.Key
}

// verify checks every event of the history on its own: a key event of
// log origin, at its place in the log under checkpoint cp (when cp is not
// nil), signed as its kind must be. It returns the events in log order.
func (h KeyHistory) verify(ctx context.Context, origin string, cp *ledger.Checkpoint) ([]keyStep, error) {
	var steps []keyStep
	for _, rec := range h {
		env, st, err := receipt.Parse(rec.Envelope)
		if err != nil {
			return nil, fmt.Errorf("vault: key history: %w", err)
		}
		if st.PredicateType != KeyEventType {
			return nil, fmt.Errorf("vault: key history: an entry of type %q is not a key event", st.PredicateType)
		}
		var ev KeyEvent
		if err := st.DecodePredicate(&ev); err != nil {
			return nil, fmt.Errorf("vault: key history: %w", err)
		}
		key, err := receipt.ParsePublicKey([]byte(ev.Key.PEM))
		// The event's PEM as the vault writes it and nothing else: what
		// was signed is what names the key (pem.Decode would take text
		// around the block, headers and loose base64).
		if err != nil || string(key.PEM()) != ev.Key.PEM || key.ID != ev.Key.KeyID || len(st.Subject) != 1 || st.Subject[0].Digest["sha256"] != key.ID {
			return nil, fmt.Errorf("vault: key history: the %s event of key %s names its key inconsistently", ev.Event, ev.Key.KeyID)
		}
		if ev.Log != origin {
			return nil, fmt.Errorf("vault: key history: an event of log %s, not %s", ev.Log, origin)
		}
		signers := []receipt.Key{key}
		switch ev.Event {
		case KeyGenesis:
		case KeyRotation:
			if ev.Previous == nil {
				return nil, fmt.Errorf("vault: key history: the rotation to key %s names no previous key", key.ID)
			}
			prev, err := receipt.ParsePublicKey([]byte(ev.Previous.PEM))
			if err != nil || string(prev.PEM()) != ev.Previous.PEM || prev.ID != ev.Previous.KeyID {
				return nil, fmt.Errorf("vault: key history: the rotation to key %s names its previous key inconsistently", key.ID)
			}
			signers = append(signers, prev)
		default:
			return nil, fmt.Errorf("vault: key history: unknown key event %q", ev.Event)
		}
		if _, err := receipt.VerifyAll(ctx, env, signers...); err != nil {
			return nil, fmt.Errorf("vault: key history: the %s event of key %s is not signed as it must be: %w", ev.Event, key.ID, err)
		}
		if rec.Log == nil || rec.Log.Origin != origin {
			return nil, fmt.Errorf("vault: key history: the %s event of key %s has no place in log %s", ev.Event, key.ID, origin)
		}
		if cp != nil {
			leaf, err := receipt.Payload(env)
			if err == nil {
				err = ledger.VerifyInclusion(*cp, rec.Log.Index, leaf, rec.Log.Inclusion)
			}
			if err != nil {
				return nil, fmt.Errorf("vault: key history: the %s event of key %s is not in the log at %d: %w", ev.Event, key.ID, rec.Log.Index, err)
			}
		}
		steps = append(steps, keyStep{index: rec.Log.Index, event: ev, key: key})
	}
	slices.SortFunc(steps, func(a, b keyStep) int { return int(a.index - b.index) })
	return steps, nil
}

// linkKeys links verified events into the keys of the log, each with its span:
// a genesis first, then rotations, each from the key before. The first
// key's span starts at entry 0, so that a log written before it recorded
// its key (whose first event is not its first entry) keeps its receipts.
func linkKeys(steps []keyStep) ([]TrustedKey, error) {
	var keys []TrustedKey
	for i, st := range steps {
		switch {
		case i == 0 && st.event.Event != KeyGenesis:
			return nil, fmt.Errorf("vault: key history: the first key event is a %s, not a genesis", st.event.Event)
		case i == 0:
			keys = append(keys, TrustedKey{Key: st.key, From: 0, Until: -1})
		case st.event.Event == KeyGenesis && st.key.ID == keys[len(keys)-1].Key.ID:
			// The same genesis again (two processes raced at the log's
			// start): nothing changes.
		case st.event.Event != KeyRotation:
			return nil, fmt.Errorf("vault: key history: a second genesis, of key %s, at %d: keys change only by signed rotations", st.key.ID, st.index)
		case st.event.Previous.KeyID != keys[len(keys)-1].Key.ID:
			return nil, fmt.Errorf("vault: key history: the rotation at %d retires key %s, but the log's key is %s", st.index, st.event.Previous.KeyID, keys[len(keys)-1].Key.ID)
		default:
			keys[len(keys)-1].Until = st.index
			keys = append(keys, TrustedKey{Key: st.key, From: st.index, Until: -1})
		}
	}
	return keys, nil
}

// Trust derives the keys of log origin from its history, starting from a
// key the verifier pins: the pinned key must be one of the chain, and the
// chain, linked by the double signatures of its rotations, vouches for the
// rest. With cp, every event must be in the log under that checkpoint.
func (h KeyHistory) Trust(ctx context.Context, origin string, pinned receipt.Key, cp *ledger.Checkpoint) (Trust, error) {
	steps, err := h.verify(ctx, origin, cp)
	if err != nil {
		return Trust{}, err
	}
	keys, err := linkKeys(steps)
	if err != nil {
		return Trust{}, err
	}
	for _, k := range keys {
		if k.Key.ID != pinned.ID {
			continue
		}
		basis := "the key you pinned, " + pinned.ID
		if len(keys) > 1 {
			basis += fmt.Sprintf(", and the %d keys its log's signed rotations lead to", len(keys)-1)
		}
		return Trust{Keys: keys, Basis: basis}, nil
	}
	if len(keys) == 0 {
		return Trust{}, fmt.Errorf("vault: log %s records no key: its history cannot vouch for key %s", origin, pinned.ID)
	}
	return Trust{}, &UntrustedKeyError{Pinned: pinned.ID, Current: keys[len(keys)-1].Key.ID, Log: origin}
}

// UntrustedKeyError is a log whose keys do not include the one a verifier
// pinned: its current key is no signed rotation from the pinned one.
type UntrustedKeyError struct {
	Pinned, Current, Log string
}

func (e *UntrustedKeyError) Error() string {
	return fmt.Sprintf("log %s is signed by key %s, which is no signed rotation from key %s that you pinned", e.Log, e.Current, e.Pinned)
}

// TrustLog is what a verifier who pins a key does with a log's key history
// and one of its signed checkpoints: it derives the log's keys from the
// first of pinned that the history leads from, opens the checkpoint with
// the key that may sign at its size, and checks that every event is in it.
// A history that records no key (a log written before keys were logged)
// trusts pinned as given. With no pinned key at all, the history's genesis
// key is pinned: that proves only that the log is consistent with itself,
// and the basis says so.
func TrustLog(ctx context.Context, origin string, signed []byte, h KeyHistory, pinned ...receipt.Key) (Trust, ledger.Checkpoint, error) {
	var trust Trust
	var err error
	switch {
	case len(h) == 0 && len(pinned) == 0:
		return Trust{}, ledger.Checkpoint{}, fmt.Errorf("vault: log %s records no key and none is pinned: nothing to trust", origin)
	case len(h) == 0:
		trust = TrustKeys("the keys you pinned (the log records no key history)", pinned...)
	case len(pinned) == 0:
		steps, err := h.verify(ctx, origin, nil)
		if err != nil {
			return Trust{}, ledger.Checkpoint{}, err
		}
		if len(steps) == 0 {
			return Trust{}, ledger.Checkpoint{}, fmt.Errorf("vault: log %s: an empty key history", origin)
		}
		if trust, err = h.Trust(ctx, origin, steps[0].key, nil); err != nil {
			return Trust{}, ledger.Checkpoint{}, err
		}
		trust.Basis = "the log's own key history, from its genesis key " + steps[0].key.ID + " (no key was pinned: this shows only that it is consistent with itself)"
	default:
		for _, p := range pinned {
			if trust, err = h.Trust(ctx, origin, p, nil); err == nil {
				break
			}
		}
		if err != nil {
			return Trust{}, ledger.Checkpoint{}, err
		}
	}
	cp, err := OpenTrusted(origin, signed, trust)
	if err != nil {
		return Trust{}, ledger.Checkpoint{}, err
	}
	if len(h) > 0 {
		if _, err := h.verify(ctx, origin, &cp); err != nil {
			return Trust{}, ledger.Checkpoint{}, err
		}
	}
	return trust, cp, nil
}

// OpenTrusted opens a signed checkpoint of log origin with what trust
// allows at its size: the checkpoint of size n is signed by the key of
// entry n-1.
func OpenTrusted(origin string, signed []byte, trust Trust) (ledger.Checkpoint, error) {
	cp, err := ledger.OpenCheckpoint(signed, origin, receipt.PublicKeys(trust.Public()))
	if err != nil {
		return ledger.Checkpoint{}, fmt.Errorf("vault: checkpoint of %s: %w", origin, err)
	}
	if _, err := ledger.OpenCheckpoint(signed, origin, receipt.PublicKeys(trust.signersAt(cp.Size))); err != nil {
		return ledger.Checkpoint{}, fmt.Errorf("vault: the checkpoint of %s at size %d is not signed by the key of its last entry: %w", origin, cp.Size, err)
	}
	return cp, nil
}

// selectHistory picks a log's key history out of candidate records, where
// anyone with the bucket's credentials can add records and a retired key's
// holder can sign them. A record counts only if it proves itself
// (proveCandidate). The history is the chain through a key of roots:
// back from it, the one rotation into each key, down to a genesis; then on
// from it, the one rotation out of each key, later in the log. Only a
// current key's holder can add a rotation into a key, so the way back is
// the log's; a second rotation out of a retired key is a fork its holder
// made: both are named, and the way on takes the one whose checkpoint the
// log first wrote at its size, the earliest (committed; none if nil, and
// the way on stops). Every record not in the chain is passed over and
// named.
func selectHistory(ctx context.Context, origin string, candidates []keyCandidate, roots []receipt.Key, inLog func(ctx context.Context, h KeyHistory, index int64, leaf []byte) (bool, error)) (KeyHistory, []string, error) {
	type proven struct {
		keyStep
		rec    KeyRecord
		object string
	}
	var steps []proven
	var passed []string
	for _, c := range candidates {
		st, err := proveCandidate(ctx, origin, c.rec)
		var refused *refusedRecord
		switch {
		case errors.As(err, &refused):
			passed = append(passed, fmt.Sprintf("%s: %v", c.object, refused.err))
			continue
		case err != nil:
			return nil, nil, err
		}
		steps = append(steps, proven{st, c.rec, c.object})
	}
	slices.SortStableFunc(steps, func(a, b proven) int { return cmp.Compare(a.index, b.index) })
	// into returns the events that introduce key id, one per place.
	into := func(id string, event string) []proven {
		var out []proven
		for _, st := range steps {
			if st.key.ID == id && st.event.Event == event && !slices.ContainsFunc(out, func(p proven) bool { return p.index == st.index }) {
				out = append(out, st)
			}
		}
		return out
	}
	var chain []proven
	for _, root := range roots {
		var back []proven
		for id := root.ID; len(back) <= len(steps); {
			if r := into(id, KeyRotation); len(r) > 0 {
				back = append([]proven{r[0]}, back...)
				id = r[0].event.Previous.KeyID
				continue
			}
			if g := into(id, KeyGenesis); len(g) > 0 {
				back = append([]proven{g[0]}, back...)
			} else {
				back = nil
			}
			break
		}
		if back != nil {
			chain = back
			break
		}
	}
	if chain == nil {
		// No chain through a root: the log's own, from its earliest
		// genesis, so that the caller can say whose keys the log has.
		for _, st := range steps {
			if st.event.Event == KeyGenesis {
				chain = []proven{st}
				break
			}
		}
	}
	for len(chain) > 0 {
		last := chain[len(chain)-1]
		var next []proven
		for _, st := range steps {
			if st.event.Event == KeyRotation && st.event.Previous.KeyID == last.key.ID && st.index > last.index &&
				!slices.ContainsFunc(next, func(p proven) bool { return p.key.ID == st.key.ID }) {
				next = append(next, st)
			}
		}
		if len(next) > 1 {
			var objs []string
			for _, n := range next {
				objs = append(objs, fmt.Sprintf("%s (to key %s at %d)", n.object, n.key.ID, n.index))
			}
			passed = append(passed, fmt.Sprintf("key %s is rotated away twice, a fork only its holder can make: %s", last.key.ID, strings.Join(objs, ", ")))
			// Which one the log holds, only the log says: read it as each
			// branch would have it, and take the branch under which the
			// rotation is the log's entry at its place.
			var logged []proven
			if inLog != nil {
				for _, n := range next {
					h := KeyHistory{}
					for _, p := range chain {
						h = append(h, p.rec)
					}
					h = append(h, n.rec)
					leaf, err := receipt.Payload(mustEnvelope(n.rec.Envelope))
					if err != nil {
						continue
					}
					ok, err := inLog(ctx, h, n.index, leaf)
					if err != nil {
						return nil, nil, fmt.Errorf("vault: key history: %w", err)
					}
					if ok {
						logged = append(logged, n)
						break
					}
				}
			}
			next = logged
		}
		if len(next) != 1 {
			break
		}
		chain = append(chain, next[0])
	}
	in := map[string]bool{}
	h := KeyHistory{}
	for _, p := range chain {
		in[p.object] = true
		h = append(h, p.rec)
	}
	for _, p := range steps {
		if !in[p.object] {
			passed = append(passed, fmt.Sprintf("%s: a %s event of key %s at %d that is not in the log's chain of keys", p.object, p.event.Event, p.key.ID, p.index))
		}
	}
	return h, passed, nil
}

// refusedRecord is a key event record that does not prove itself.
type refusedRecord struct{ err error }

func (e *refusedRecord) Error() string { return e.err.Error() }

// proveCandidate checks one kept key event record: a key event of origin,
// signed as its kind must be, whose own log proof places it in a
// checkpoint signed by the key it introduces; a *refusedRecord if not.
func proveCandidate(ctx context.Context, origin string, rec KeyRecord) (keyStep, error) {
	st, err := KeyHistory{rec}.verify(ctx, origin, nil)
	if err != nil {
		return keyStep{}, &refusedRecord{err}
	}
	if _, err := ownProof(rec, st[0].key); err != nil {
		return keyStep{}, &refusedRecord{err}
	}
	return st[0], nil
}

// ownProof checks a kept key event record's log proof: the entry is in
// the checkpoint it carries, which key (the key the event introduces, the
// log's signer from that entry on) signed.
func ownProof(rec KeyRecord, key receipt.Key) (ledger.Checkpoint, error) {
	env, _, err := receipt.Parse(rec.Envelope)
	if err != nil {
		return ledger.Checkpoint{}, err
	}
	leaf, err := receipt.Payload(env)
	if err != nil {
		return ledger.Checkpoint{}, err
	}
	cp, err := ledger.VerifyProof(leaf, rec.Log, receipt.PublicKeys([]receipt.Key{key}))
	if err != nil {
		return ledger.Checkpoint{}, fmt.Errorf("its log proof does not hold: %w", err)
	}
	return cp, nil
}
