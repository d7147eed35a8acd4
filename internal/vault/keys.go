package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/strictjson"
)

// The keys that may sign are configuration: the signer, and while a
// rotation is under way the signer it replaces (Config.Previous). They are
// the vault's trust root. Each tenant's log records them (keyhistory.go);
// the keys/ folder of the bucket is a convenience copy that nothing trusts.

// PublicKey is a receipt-signing key as GET /v1/keys serves it.
type PublicKey struct {
	KeyID     string `json:"keyId"`
	Algorithm string `json:"algorithm"`
	PEM       string `json:"publicKey"`
	Current   bool   `json:"current,omitempty"`
}

// configured returns the vault's keys: the current one first, then the one
// it replaces, if any.
func (s *Service) configured() ([]receipt.Key, error) {
	var keys []receipt.Key
	for _, signer := range []receipt.Signer{s.signer, s.cfg.Previous} {
		if signer == nil {
			continue
		}
		k, err := receipt.NewKey(signer.Public())
		if err != nil {
			return nil, fmt.Errorf("vault: keys: %w", err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// Keys returns the keys this vault signs with, as its configuration names
// them: the current one and, during a rotation, the one it replaces. What
// else has signed a tenant's log, the log's key history says (KeyHistory).
func (s *Service) Keys(ctx context.Context) ([]PublicKey, error) {
	if err := s.publishKey(ctx); err != nil {
		return nil, err
	}
	keys, err := s.configured()
	if err != nil {
		return nil, err
	}
	out := make([]PublicKey, len(keys))
	for i, k := range keys {
		out[i] = publicKeyOf(k)
		out[i].Current = i == 0
	}
	return out, nil
}

// publishKey stores the signer's public key under keys/, a copy for
// people browsing the bucket. Nothing reads it to decide what to trust.
func (s *Service) publishKey(ctx context.Context) error {
	s.publishMu.Lock()
	defer s.publishMu.Unlock()
	if s.published || s.signer == nil {
		return nil
	}
	key, err := receipt.NewKey(s.signer.Public())
	if err != nil {
		return fmt.Errorf("vault: publish key: %w", err)
	}
	lock := &Lock{Mode: s.cfg.LockMode, Until: s.now().AddDate(regulation.RetentionYearsImplantable+1, 0, 0)}
	name := publicKeyKey(key.ID)
	// Read before writing: a process starting while storage is full can
	// still re-seal what was sealed (nothing to write).
	if have, err := s.records.Get(ctx, name); err == nil && bytes.Equal(have, key.PEM()) {
		s.published = true
		return nil
	}
	err = s.records.Create(ctx, name, key.PEM(), lock)
	switch {
	case errors.Is(err, ErrExists):
		if have, err := s.records.Get(ctx, name); err != nil || !bytes.Equal(have, key.PEM()) {
			s.log.WarnContext(ctx, "publish key: the copy under keys/ differs from the signing key (nothing trusts it)", "object", name, "err", err)
		}
	case err != nil:
		return fmt.Errorf("vault: publish key: %w", err)
	}
	s.published = true
	return nil
}

// KeyLog is a tenant's key history as one checkpoint of its log holds it:
// the events up to the checkpoint, each with its inclusion proof in it.
type KeyLog struct {
	Origin     string     `json:"origin"`
	Checkpoint string     `json:"checkpoint"`
	Events     KeyHistory `json:"events"`
}

// KeyHistory returns the caller's tenant's key history at the log's
// checkpoint of size (the latest if 0), each event proven in it: what a
// client that pins one key needs to trust the others.
func (s *Service) KeyHistory(ctx context.Context, size int64) (*KeyLog, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	cp, err := s.Checkpoint(ctx, size)
	if err != nil {
		return nil, err
	}
	h, err := s.history(ctx, id.Tenant)
	if err != nil {
		return nil, err
	}
	out := &KeyLog{Origin: cp.Origin, Checkpoint: string(cp.Signed), Events: KeyHistory{}}
	for _, rec := range h {
		if rec.Log == nil || rec.Log.Index >= cp.Size {
			continue
		}
		hashes, err := s.ledger.InclusionProof(ctx, id.Tenant, rec.Log.Index, cp.Size)
		if err != nil {
			return nil, ledgerError(err)
		}
		out.Events = append(out.Events, KeyRecord{Envelope: rec.Envelope, Log: &ledger.Proof{
			Origin: cp.Origin, Index: rec.Log.Index, Checkpoint: string(cp.Signed), Inclusion: hashes}})
	}
	return out, nil
}

// keyCandidate is one version of an object under a tenant's keyevents/:
// the vault's record of a key event, or anyone else's object.
type keyCandidate struct {
	object string // key@version
	rec    KeyRecord
}

// readKeyHistory reads every version of every object under a tenant's
// keyevents/ that is shaped like a key record. The listing is where the
// vault looks, not what it trusts: selectHistory keeps the records that
// prove themselves. The others are returned, named, for the audit.
func readKeyHistory(ctx context.Context, records Records, tenant string) (candidates []keyCandidate, ignored []string, err error) {
	objs, err := records.List(ctx, keyEventsPrefix(tenant))
	if err != nil {
		return nil, nil, fmt.Errorf("vault: key history: %w", err)
	}
	return readCandidates(ctx, records, objs)
}

// readCandidates reads every version of objs shaped like a key record.
func readCandidates(ctx context.Context, records Records, objs []Object) (candidates []keyCandidate, ignored []string, err error) {
	for _, o := range objs {
		for _, v := range o.Versions {
			if v.DeleteMarker {
				continue
			}
			data, err := records.GetVersion(ctx, o.Key, v.ID)
			if err != nil {
				return nil, nil, fmt.Errorf("vault: key history: %w", err)
			}
			name := o.Key + "@" + v.ID
			var rec KeyRecord
			if err := strictjson.Unmarshal(data, &rec); err != nil || rec.Log == nil || len(rec.Envelope) == 0 {
				ignored = append(ignored, name+": not a key event record the vault writes")
				continue
			}
			candidates = append(candidates, keyCandidate{object: name, rec: rec})
		}
	}
	return candidates, ignored, nil
}

// maxRotations bounds a walk back through a key history.
const maxRotations = 1000

// namedHistory follows a tenant's key history back from key k by the
// names the vault gives key event records (key-rotation-{id}, then
// key-genesis-{id}): the rotation into k, the rotation into the key it
// retired, and so on down to a genesis. It reads a few objects per
// rotation, however many others are under keyevents/, and takes only
// records that prove themselves and are the log's. nil: no such chain.
func (s *Service) namedHistory(ctx context.Context, tenant string, k receipt.Key) (KeyHistory, error) {
	var chain KeyHistory
	id := k.ID
	for range maxRotations {
		rec, st, found, err := s.namedEvent(ctx, tenant, KeyRotation, id)
		if err == nil && !found {
			rec, st, found, err = s.namedEvent(ctx, tenant, KeyGenesis, id)
		}
		if err != nil || !found {
			return nil, err
		}
		chain = append(KeyHistory{rec}, chain...)
		if st.event.Event == KeyGenesis {
			return chain, nil
		}
		id = st.event.Previous.KeyID
	}
	return nil, nil
}

// namedEvent reads the record the vault keeps of a key event (every
// version at its name) and returns the one that proves itself and is the
// log's, if any.
func (s *Service) namedEvent(ctx context.Context, tenant, event, keyID string) (KeyRecord, keyStep, bool, error) {
	key := entryKey(tenant, keyEventID(event, keyID))
	objs, err := s.records.List(ctx, key)
	if err != nil {
		return KeyRecord{}, keyStep{}, false, fmt.Errorf("vault: key history: %w", err)
	}
	objs = slices.DeleteFunc(objs, func(o Object) bool { return o.Key != key })
	candidates, _, err := readCandidates(ctx, s.records, objs)
	if err != nil {
		return KeyRecord{}, keyStep{}, false, err
	}
	for _, c := range candidates {
		st, err := proveCandidate(ctx, LogOrigin(s.cfg.Bucket, tenant), c.rec)
		var refused *refusedRecord
		switch {
		case errors.As(err, &refused):
		case err != nil:
			return KeyRecord{}, keyStep{}, false, err
		case st.event.Event == event && st.key.ID == keyID:
			return c.rec, st, true, nil
		}
	}
	return KeyRecord{}, keyStep{}, false, nil
}

// tenantKeys is what the vault knows of one tenant's log's keys.
type tenantKeys struct {
	// ensure serializes ensureKeys; mu guards trust alone, so that the
	// ledger, asking for keys in the middle of an append that ensureKeys
	// made, does not wait for it.
	ensure  sync.Mutex
	mu      sync.Mutex
	trust   *Trust // nil until established
	history KeyHistory
}

// trust returns the vault's own trust in a tenant's log: the keys its
// history leads to from the configured keys. A log whose history has not
// been written yet (none of its entries signed) is trusted with the
// configured keys alone.
func (s *Service) trust(ctx context.Context, tenant string) (Trust, error) {
	tk := s.tenantKeys(tenant)
	tk.mu.Lock()
	cached := tk.trust
	tk.mu.Unlock()
	if cached != nil {
		return *cached, nil
	}
	t, h, err := s.deriveTrust(ctx, tenant)
	if err != nil {
		return Trust{}, err
	}
	if t.Basis != "" {
		tk.mu.Lock()
		tk.trust, tk.history = &t, h
		tk.mu.Unlock()
	}
	return t, nil
}

// history returns a tenant's key history as the vault derived it (cached
// with its trust), the events its configured keys lead to.
func (s *Service) history(ctx context.Context, tenant string) (KeyHistory, error) {
	if _, err := s.trust(ctx, tenant); err != nil {
		return nil, err
	}
	tk := s.tenantKeys(tenant)
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return tk.history, nil
}

func (s *Service) tenantKeys(tenant string) *tenantKeys {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	if s.keys == nil {
		s.keys = map[string]*tenantKeys{}
	}
	tk, ok := s.keys[tenant]
	if !ok {
		tk = &tenantKeys{}
		s.keys[tenant] = tk
	}
	return tk
}

// deriveTrust reads a tenant's key history and derives its keys from the
// configured ones; with no history yet, the configured keys alone (and no
// basis, so that it is not kept).
func (s *Service) deriveTrust(ctx context.Context, tenant string) (Trust, KeyHistory, error) {
	configured, err := s.configured()
	if err != nil {
		return Trust{}, nil, err
	}
	origin := LogOrigin(s.cfg.Bucket, tenant)
	var h KeyHistory
	for _, k := range configured {
		if h, err = s.namedHistory(ctx, tenant, k); err != nil {
			return Trust{}, nil, err
		}
		if h != nil {
			break
		}
	}
	if h == nil {
		// Nothing leads to a configured key by the names the vault
		// gives its records: a log with no key event yet, or one whose
		// keys are not this vault's. Only then is the folder read whole.
		if h, err = s.keyHistoryFrom(ctx, tenant, configured); err != nil {
			return Trust{}, nil, err
		}
	}
	if len(h) == 0 {
		// A log that records no key yet is trusted with the current key
		// alone: the key a rotation replaces must not start a log (its
		// holder could start one of their own for a tenant that has none).
		return TrustKeys("", configured[0]), nil, nil
	}
	var firstErr error
	for _, k := range configured {
		t, err := h.Trust(ctx, origin, k, nil)
		if err == nil {
			t.Basis = "the vault's configured key " + k.ID + " and its log's key history"
			return t, h, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	var untrusted *UntrustedKeyError
	if errors.As(firstErr, &untrusted) {
		return Trust{}, h, &Error{Code: CodeTampered, Err: firstErr, Message: fmt.Sprintf(
			"tenant %s's log is signed by key %s; this vault signs with key %s and the log holds no signed rotation to it: to rotate, configure the key it replaces (VAULT_PREVIOUS_SIGNING_KEY or VAULT_PREVIOUS_SIGNING_KMS_KEY)",
			tenant, untrusted.Current, configured[0].ID)}
	}
	return Trust{}, h, &Error{Code: CodeTampered, Err: firstErr, Message: fmt.Sprintf("the key history of tenant %s does not hold together: %v", tenant, firstErr)}
}

// keyHistoryFrom reads a tenant's key history as it leads from roots,
// passing over (with a warning) every record that does not prove itself.
func (s *Service) keyHistoryFrom(ctx context.Context, tenant string, roots []receipt.Key) (KeyHistory, error) {
	candidates, ignored, err := readKeyHistory(ctx, s.records, tenant)
	if err != nil {
		return nil, err
	}
	h, passed, err := selectHistory(ctx, LogOrigin(s.cfg.Bucket, tenant), candidates, roots, nil)
	if err != nil {
		return nil, err
	}
	if ignored = append(ignored, passed...); len(ignored) > 0 {
		s.log.WarnContext(ctx, "key history: objects that are not the log's key events are passed over (the audit reports them)", "tenant", tenant, "objects", ignored)
	}
	return h, nil
}

// ensureKeys makes a tenant's log record the vault's current key before the
// vault signs anything into it: a genesis for a log with no key event yet,
// a rotation signed by both keys when the log's key is the one the current
// replaces. It runs once per tenant and process.
func (s *Service) ensureKeys(ctx context.Context, tenant string) error {
	tk := s.tenantKeys(tenant)
	tk.ensure.Lock()
	defer tk.ensure.Unlock()
	current, err := receipt.NewKey(s.signer.Public())
	if err != nil {
		return fmt.Errorf("vault: keys: %w", err)
	}
	tk.mu.Lock()
	ready := tk.trust != nil && tk.trust.Keys[len(tk.trust.Keys)-1].Key.ID == current.ID
	tk.mu.Unlock()
	if ready {
		return nil
	}
	// Read the log's size before its history: an event appended by another
	// process after this point lands at or after it.
	from, err := s.ledger.Size(ctx, tenant)
	if err != nil {
		return fmt.Errorf("vault: keys: %w", ledgerError(err))
	}
	t, h, err := s.deriveTrust(ctx, tenant)
	if err != nil {
		return err
	}
	switch {
	case len(h) == 0:
		if _, err := s.appendKeyEvent(ctx, tenant, from, KeyEvent{Event: KeyGenesis, Key: publicKeyOf(current)}, s.signer); err != nil {
			return err
		}
	case t.Keys[len(t.Keys)-1].Key.ID == current.ID:
	default:
		logKey := t.Keys[len(t.Keys)-1].Key
		prev := s.cfg.Previous
		if prev == nil {
			return &Error{Code: CodeTampered, Message: fmt.Sprintf("tenant %s's log is signed by key %s; this vault signs with key %s and holds no signed rotation to it: configure the previous key (VAULT_PREVIOUS_SIGNING_KEY or VAULT_PREVIOUS_SIGNING_KMS_KEY) to rotate", tenant, logKey.ID, current.ID)}
		}
		pk, err := receipt.NewKey(prev.Public())
		if err != nil || pk.ID != logKey.ID {
			return &Error{Code: CodeTampered, Message: fmt.Sprintf("tenant %s's log is signed by key %s, which is neither this vault's key %s nor the one it replaces", tenant, logKey.ID, current.ID)}
		}
		ev := KeyEvent{Event: KeyRotation, Key: publicKeyOf(current), Previous: &PublicKey{KeyID: pk.ID, Algorithm: receipt.Algorithm, PEM: string(pk.PEM())}}
		if _, err := s.appendKeyEvent(ctx, tenant, from, ev, s.signer, prev); err != nil {
			return err
		}
	}
	t, h, err = s.deriveTrust(ctx, tenant)
	if err != nil {
		return err
	}
	tk.mu.Lock()
	tk.trust, tk.history = &t, h
	tk.mu.Unlock()
	return nil
}

// appendKeyEvent signs a key event with signers and appends it to the
// tenant's log; the Keeper stores its record.
func (s *Service) appendKeyEvent(ctx context.Context, tenant string, from int64, ev KeyEvent, signers ...receipt.Signer) (*ledger.Appended, error) {
	ev.Log = LogOrigin(s.cfg.Bucket, tenant)
	ev.At = s.now()
	st, err := keyEventStatement(ev)
	if err != nil {
		return nil, err
	}
	a, err := s.appendStatement(ctx, tenant, keyEventID(ev.Event, ev.Key.KeyID), st, from, signers...)
	if err != nil {
		return nil, fmt.Errorf("vault: log key event: %w", err)
	}
	s.log.InfoContext(ctx, "key event logged", "tenant", tenant, "event", ev.Event, "key", ev.Key.KeyID, "logIndex", a.Index)
	return a, nil
}
