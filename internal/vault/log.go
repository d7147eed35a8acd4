package vault

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"golang.org/x/sync/errgroup"
)

// Each tenant has one Merkle log of its receipts (docs/ledger.md): the
// vault signs each receipt and gives it to internal/ledger as an opaque
// entry, the envelope as the record and its statement as the leaf.

// ledgerStore adapts the vault's Records to the ledger's Store: every
// object the ledger creates is locked for as long as the longest-kept
// evidence, since one log covers every dossier of a tenant.
type ledgerStore struct {
	records Records
	lock    func() *Lock
}

var _ ledger.Store = ledgerStore{}

func (l ledgerStore) Create(ctx context.Context, key string, body []byte) (bool, error) {
	err := l.records.Create(ctx, key, body, l.lock())
	if errors.Is(err, ErrExists) {
		return false, nil
	}
	return err == nil, err
}

func (l ledgerStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	data, err := l.records.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	return data, err == nil, err
}

func (l ledgerStore) Put(ctx context.Context, key string, body []byte) error {
	return l.records.Put(ctx, key, body)
}

func (l ledgerStore) List(ctx context.Context, prefix string) ([]string, error) {
	objs, err := l.records.List(ctx, prefix)
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys, err
}

func (l ledgerStore) Versions(ctx context.Context, key string) ([][]byte, error) {
	objs, err := l.records.List(ctx, key)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, o := range objs {
		if o.Key != key {
			continue
		}
		for _, v := range o.Versions {
			if v.DeleteMarker {
				continue
			}
			data, err := l.records.GetVersion(ctx, key, v.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, data)
		}
	}
	return out, nil
}

func (l ledgerStore) VersionCount(ctx context.Context, key string) (int, error) {
	objs, err := l.records.List(ctx, key)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range objs {
		if o.Key != key {
			continue
		}
		for _, v := range o.Versions {
			if !v.DeleteMarker {
				n++
			}
		}
	}
	return n, nil
}

// entryKeeper stores the record of every entry the ledger integrates, a
// receipt bundle or a key event record, each its envelope and its place in
// the log: the ledger hands each commit's entries over before the commit
// counts as finished, whichever process finishes it.
type entryKeeper struct {
	records Records
	lock    func() *Lock
}

var _ ledger.Keeper = entryKeeper{}

// Keep writes a commit's records at once, a few at a time: a commit
// holds up to a batch of entries, and its round waits for all of them.
func (k entryKeeper) Keep(ctx context.Context, tenant string, entries []*ledger.Appended) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, a := range entries {
		g.Go(func() error {
			return storeEntry(gctx, k.records, k.lock(), tenant, a.ID, Bundle{Envelope: a.Record, Log: &a.Proof})
		})
	}
	return g.Wait()
}

var _ ledger.LatestKeeper = entryKeeper{}

// Latest reads the newest version of the entry's record, looking past a
// delete marker as every read of a record does.
func (k entryKeeper) Latest(ctx context.Context, tenant, id string) (*ledger.Appended, error) {
	data, err := k.records.Get(ctx, entryKey(tenant, id))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vault: read receipt %s: %w", id, err)
	}
	var b Bundle
	if json.Unmarshal(data, &b) != nil || b.Log == nil {
		// Someone else's: Kept reads every version.
		return &ledger.Appended{ID: id}, nil
	}
	return &ledger.Appended{ID: id, Proof: *b.Log, Record: b.Envelope}, nil
}

func (k entryKeeper) Kept(ctx context.Context, tenant, id string) ([]*ledger.Appended, error) {
	key := entryKey(tenant, id)
	objs, err := k.records.List(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("vault: read receipt %s: %w", id, err)
	}
	var kept []*ledger.Appended
	for _, o := range objs {
		if o.Key != key {
			continue
		}
		for _, v := range slices.Backward(o.Versions) {
			if v.DeleteMarker {
				continue
			}
			data, err := k.records.GetVersion(ctx, key, v.ID)
			if err != nil {
				return nil, fmt.Errorf("vault: read receipt %s: %w", id, err)
			}
			// What does not parse is someone else's: the ledger checks
			// the rest.
			var b Bundle
			if json.Unmarshal(data, &b) == nil && b.Log != nil {
				kept = append(kept, &ledger.Appended{ID: id, Proof: *b.Log, Record: b.Envelope})
			}
		}
	}
	return kept, nil
}

// logLock is the retention of what the log and its receipts keep.
func logLock(cfg Config) *Lock {
	return &Lock{Mode: cfg.LockMode, Until: cfg.Now().UTC().AddDate(regulation.RetentionYearsImplantable+1, 0, 0)}
}

// LogOrigin names a tenant's log in this vault: the checkpoints' origin
// line and their signature's key name.
func LogOrigin(bucket, tenant string) string {
	return logOriginPrefix + bucket + "/" + tenant
}

const logOriginPrefix = "evidencevault.dev/ledger/"

// ParseLogOrigin reads the bucket and tenant of a log's origin, in ASCII as
// the vault names them: ok is false for any other name (a look-alike).
func ParseLogOrigin(origin string) (bucket, tenant string, ok bool) {
	rest, found := strings.CutPrefix(origin, logOriginPrefix)
	bucket, tenant, cut := strings.Cut(rest, "/")
	if !found || !cut || !validTenant(tenant) || len(bucket) < 3 || len(bucket) > 63 || !allBytes(bucket, func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.'
	}) {
		return "", "", false
	}
	return bucket, tenant, true
}

// newLedger returns the tenants' logs on records, verifying checkpoints
// with the keys keys gives for each tenant; with a nil signer they only
// read and audit.
func newLedger(records Records, signer receipt.Signer, cfg Config, keys func(context.Context, string) (Trust, error), scratch Scratch, admit func(context.Context, string, []byte) error) *ledger.Log {
	var ls ledger.Signer
	if signer != nil {
		ls = signer
	}
	lock := func() *Lock { return logLock(cfg) }
	var sc ledger.Scratch
	if scratch != nil {
		sc = scratch
	}
	return ledger.New(ledgerStore{records: records, lock: lock}, ls, ledger.Config{
		Origin: func(tenant string) string { return LogOrigin(cfg.Bucket, tenant) },
		Prefix: ledgerPrefix,
		Leaf:   recordLeaf,
		ID:     recordID,
		Keeper: entryKeeper{records: records, lock: lock},
		Admit:  admit,
		Keys: func(ctx context.Context, tenant string) ([]*ecdsa.PublicKey, error) {
			t, err := keys(ctx, tenant)
			return receipt.PublicKeys(t.Public()), err
		},
		SignersAt: func(ctx context.Context, tenant string, size int64) ([]*ecdsa.PublicKey, error) {
			t, err := keys(ctx, tenant)
			return receipt.PublicKeys(t.signersAt(size)), err
		},
		Scratch:    sc,
		Sequencing: cfg.Sequencing,
		Now:        cfg.Now,
		Logger:     cfg.Logger,
	})
}

// admitRecord checks an entry another process left for the tenant's
// sequencer (ledger.Config.Admit): anyone who can write the scratch
// bucket can leave one, so it must be a statement signed by a current key
// of the tenant's log, of this tenant or of its log.
func (s *Service) admitRecord(ctx context.Context, tenant string, record []byte) error {
	env, st, err := receipt.Parse(record)
	if err != nil {
		return err
	}
	trust, err := s.trust(ctx, tenant)
	if err != nil {
		return err
	}
	// Signed by a key that may sign now: a retired key's holder could
	// sign anything (a rotation, signed by both keys, passes by the key
	// it retires, current until it is logged).
	var current []receipt.Key
	for _, k := range trust.Keys {
		if k.Until < 0 {
			current = append(current, k.Key)
		}
	}
	if _, _, err := receipt.Verify(ctx, env, current); err != nil {
		return err
	}
	var of struct {
		Tenant string `json:"tenant"`
		Log    string `json:"log"`
	}
	if err := json.Unmarshal(st.Predicate, &of); err != nil {
		return err
	}
	if of.Tenant != tenant && of.Log != LogOrigin(s.cfg.Bucket, tenant) {
		return fmt.Errorf("vault: a statement of tenant %q, log %q, left for tenant %s", of.Tenant, of.Log, tenant)
	}
	return nil
}

// appendStatement signs st with signers and appends it to the tenant's log
// as entry id, at or after from; the Keeper stores its record.
func (s *Service) appendStatement(ctx context.Context, tenant, id string, st receipt.Statement, from int64, signers ...receipt.Signer) (*ledger.Appended, error) {
	env, err := receipt.Sign(ctx, st, signers[0], signers[1:]...)
	if err != nil {
		return nil, err
	}
	record, err := receipt.Marshal(env)
	if err != nil {
		return nil, err
	}
	// Nothing goes into the log that no reader would read back.
	if len(record) > receipt.MaxEnvelopeSize {
		return nil, &recordTooLargeError{size: len(record)}
	}
	leaf, err := receipt.Payload(env)
	if err != nil {
		return nil, err
	}
	a, err := s.ledger.Append(ctx, tenant, ledger.Entry{ID: id, Leaf: leaf, Record: record}, from)
	if err != nil {
		return nil, ledgerError(err)
	}
	return a, nil
}

// recordTooLargeError: a statement signed would be larger than readers
// take (receipt.MaxEnvelopeSize). The statement's maker says which of the
// request's fields made it so.
type recordTooLargeError struct{ size int }

func (e *recordTooLargeError) Error() string {
	return fmt.Sprintf("vault: a signed record of %d bytes, above the %d bytes a record may be", e.size, receipt.MaxEnvelopeSize)
}

// LogCheckpoint is a signed checkpoint of the caller's tenant's log.
type LogCheckpoint struct {
	Origin string
	Size   int64
	Signed []byte // the C2SP signed note
	// Pending is set when witnesses cosign checkpoints and this one has
	// no cosignature yet.
	Pending bool
}

// Checkpoint returns the latest signed checkpoint of the caller's tenant's
// log, or the one at size when size > 0.
func (s *Service) Checkpoint(ctx context.Context, size int64) (*LogCheckpoint, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var cp ledger.Checkpoint
	var signed []byte
	if size > 0 {
		cp, signed, err = s.ledger.CheckpointAt(ctx, id.Tenant, size)
	} else {
		cp, signed, err = s.ledger.Latest(ctx, id.Tenant)
	}
	if err != nil {
		return nil, ledgerError(err)
	}
	pending := false
	if s.cfg.Witnesses != nil {
		// The cosigned note, where there is one: the latest is witnessed
		// now if it is not yet.
		if size > 0 {
			kept := s.keptCosigned(ctx, id.Tenant, cp.Size, signed)
			if pending = kept == nil; !pending {
				signed = kept
			}
		} else if wsize, cosigned, ok := s.witnessed(ctx, id.Tenant, cp.Size); ok {
			cp.Size, signed = wsize, cosigned
		}
	}
	return &LogCheckpoint{Origin: cp.Origin, Size: cp.Size, Signed: signed, Pending: pending}, nil
}

// LogProof is an inclusion or consistency proof in the caller's tenant's
// log, with the checkpoint it leads to.
type LogProof struct {
	Origin     string        `json:"origin"`
	Index      *int64        `json:"index,omitempty"`
	From       *int64        `json:"from,omitempty"`
	Size       int64         `json:"size"`
	Checkpoint string        `json:"checkpoint"`
	Hashes     ledger.Hashes `json:"proof"`
}

// InclusionProof proves entry index in the tree of the checkpoint at size.
func (s *Service) InclusionProof(ctx context.Context, index, size int64) (*LogProof, error) {
	return s.logProof(ctx, size, func(tenant string) (ledger.Hashes, error) {
		return s.ledger.InclusionProof(ctx, tenant, index, size)
	}, &LogProof{Index: &index})
}

// ConsistencyProof proves that the log's tree of size from is a prefix of
// its tree at size to: nothing before from was changed or removed.
func (s *Service) ConsistencyProof(ctx context.Context, from, to int64) (*LogProof, error) {
	return s.logProof(ctx, to, func(tenant string) (ledger.Hashes, error) {
		return s.ledger.ConsistencyProof(ctx, tenant, from, to)
	}, &LogProof{From: &from})
}

func (s *Service) logProof(ctx context.Context, size int64, prove func(tenant string) (ledger.Hashes, error), out *LogProof) (*LogProof, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	_, signed, err := s.ledger.CheckpointAt(ctx, id.Tenant, size)
	if err != nil {
		return nil, ledgerError(err)
	}
	hashes, err := prove(id.Tenant)
	if err != nil {
		return nil, ledgerError(err)
	}
	out.Origin, out.Size, out.Checkpoint, out.Hashes = s.ledger.Origin(id.Tenant), size, string(signed), hashes
	return out, nil
}

// LogEntry is one entry of a tenant's log as a reader sees it: key events,
// and receipts of the dossiers the reader may read, in full; any other
// entry by its leaf hash alone, so that the reader can still recompute the
// tree without learning what other dossiers hold.
type LogEntry struct {
	Index    int64           `json:"index"`
	ID       string          `json:"id,omitempty"`
	Envelope json.RawMessage `json:"envelope,omitempty"`
	// Hash is the entry's leaf hash (RFC 6962), base64.
	Hash []byte `json:"hash"`
}

// LogEntries is a range of a tenant's log.
type LogEntries struct {
	Origin  string     `json:"origin"`
	Entries []LogEntry `json:"entries"`
}

// LogEntries returns the caller's tenant's log entries from start up to,
// not including, end (at most ledger.MaxEntries, none past the latest
// checkpoint). With dossier, only that dossier's receipts (and key events)
// are given in full.
func (s *Service) LogEntries(ctx context.Context, start, end int64, dossier string) (*LogEntries, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	stored, err := s.ledger.Entries(ctx, id.Tenant, start, end)
	if err != nil {
		return nil, ledgerError(err)
	}
	out := &LogEntries{Origin: s.ledger.Origin(id.Tenant), Entries: make([]LogEntry, len(stored))}
	for i, e := range stored {
		out.Entries[i] = LogEntry{Index: e.Index, Hash: e.Hash[:]}
		if shown(id, dossier, e) {
			out.Entries[i].ID, out.Entries[i].Envelope = e.ID, e.Record
		}
	}
	return out, nil
}

// shown reports whether a reader sees an entry in full: key events
// everyone of the tenant, a receipt those who may read its dossier, a
// grant event the tenant's members (it names other auditors). What the
// entry is comes from its signed statement, never from its id.
func shown(id Identity, dossier string, e ledger.Stored) bool {
	_, st, err := receipt.Parse(e.Record)
	if err != nil {
		return false
	}
	switch st.PredicateType {
	case KeyEventType:
		return true
	case GrantType:
		return id.CanWrite() && dossier == ""
	case LifecycleType:
		var ev LifecycleEvent
		if st.DecodePredicate(&ev) != nil {
			return false
		}
		return id.CanRead(ev.Tenant, ev.Dossier) && (dossier == "" || dossier == ev.Dossier) && !ev.hiddenFrom(id)
	case PredicateType:
		var p ReceiptPredicate
		if st.DecodePredicate(&p) != nil {
			return false
		}
		return id.CanRead(p.Tenant, p.Dossier.ID) && (dossier == "" || dossier == p.Dossier.ID)
	}
	return false
}

// ledgerError turns what the log does not hold into CodeNotFound, with the
// ledger's own words for what is missing, and an object of the log's that
// someone else wrote into CodeTampered, naming it.
func ledgerError(err error) error {
	var nf *ledger.NotFoundError
	if errors.As(err, &nf) {
		return &Error{Code: CodeNotFound, Message: nf.Detail, Err: err}
	}
	var te *ledger.TamperedError
	if errors.As(err, &te) {
		return &Error{Code: CodeTampered, Err: err, Message: fmt.Sprintf(
			"%s is not an object the log wrote (%s): the log cannot grow until it is looked into; what it holds stays readable", te.Key, te.Detail)}
	}
	var ce *ledger.ConflictError
	if errors.As(err, &ce) {
		return &Error{Code: CodeTampered, Err: err, Message: fmt.Sprintf(
			"%s holds an object the log did not write, where the log writes its own: the audit names it", ce.Key)}
	}
	if errors.Is(err, ledger.ErrInvalid) || errors.Is(err, ledger.ErrMalformed) {
		return &Error{Code: CodeTampered, Err: err, Message: "the log's storage holds an object the log did not write: " + err.Error()}
	}
	if errors.Is(err, ledger.ErrContended) {
		return &Error{Code: CodeUnavailable, Err: err, Message: "the tenant's log did not take the entry in time; nothing was acknowledged: try again"}
	}
	return fmt.Errorf("vault: ledger: %w", err)
}

// Flush waits until the writes the vault makes behind its answers (the
// logs' head hints) are done: call it before a process exits.
func (s *Service) Flush(ctx context.Context) error { return s.ledger.Flush(ctx) }

// Close finishes what the vault does behind its answers (the logs' head
// hints, and leases kept between bursts, handed on to a waiting process)
// and leaves nothing running: call it last before a process exits.
func (s *Service) Close(ctx context.Context) error { return s.ledger.Close(ctx) }
