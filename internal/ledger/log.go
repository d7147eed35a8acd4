package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/evidencevault/vault/internal/receipt"
	"golang.org/x/mod/sumdb/tlog"
	"golang.org/x/sync/errgroup"
)

// Config says where each tenant's log lives and how it is named.
type Config struct {
	// Origin names a tenant's log: the checkpoint's origin line and the
	// note key name its signatures carry.
	Origin func(tenant string) string
	// Prefix is where a tenant's log objects live, ending in "/".
	Prefix func(tenant string) string
	// BundlePrefix is where a tenant's receipt bundles live, ending in
	// "/": the bundle of entry id is BundlePrefix(tenant)+id+".json".
	BundlePrefix func(tenant string) string
	// Keys returns every public key that may have signed a checkpoint (all
	// keys ever published, for rotation); the signer's own key is always
	// trusted.
	Keys func(ctx context.Context) ([]receipt.Key, error)
	// MaxBatch bounds the entries of one commit; 256 if 0.
	MaxBatch int
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Logger receives the log's diagnostics; slog.Default if nil.
	Logger *slog.Logger
}

// Entry is one leaf to append: a sealed receipt's signed envelope. The leaf
// data is the envelope's payload, the statement as signed.
type Entry struct {
	ID       string          `json:"id"`
	Envelope json.RawMessage `json:"envelope"`
}

// commit is one batch of entries appended at position Start: the object
// log/{Start} whose conditional creation decides the order of the log.
// It carries the signed checkpoint of the tree it produces.
type commit struct {
	Start      int64     `json:"start"`
	Size       int64     `json:"size"`
	Time       time.Time `json:"time"`
	Entries    []Entry   `json:"entries"`
	Checkpoint string    `json:"checkpoint"`
}

// headHint is where readers start looking for the newest commit. It is
// only a hint: readers probe for later commits and verify what they find.
type headHint struct {
	Start      int64  `json:"start"`
	Size       int64  `json:"size"`
	Checkpoint string `json:"checkpoint"`
}

// state is a finished point of a tenant's log: every object of the commit
// that produced it is written.
type state struct {
	cp     Checkpoint
	signed string
	start  int64 // the commit's start; 0 with size 0 for the empty log
}

// Log appends receipts to per-tenant logs and serves checkpoints and
// proofs. One Log is shared by all requests of a process; any number of
// processes may append to the same logs at once.
type Log struct {
	store  Store
	signer Signer
	cfg    Config
	log    *slog.Logger

	mu      sync.Mutex
	tenants map[string]*tenantLog

	keysMu   sync.Mutex
	keyCache []receipt.Key
}

// New returns a Log on store whose checkpoints signer signs. With a nil
// signer the Log only reads and audits; Append fails.
func New(store Store, signer Signer, cfg Config) *Log {
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = 256
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Log{store: store, signer: signer, cfg: cfg, log: cfg.Logger, tenants: map[string]*tenantLog{}}
}

// tenantLog is a process's view of one tenant's log.
type tenantLog struct {
	tenant, origin, prefix, bundles string
	tiles                           *tileCache

	// mu guards the queue of waiting appends and the leader flag.
	mu       sync.Mutex
	queue    []*waiter
	inflight map[string]*waiter
	leading  bool

	// stateMu serializes work on the log's state: commit rounds and
	// refreshes of the head.
	stateMu sync.Mutex
	head    *state
	recent  []seen
	// covered is the time since which recent holds every commit that was
	// the newest at some moment; appends older than that check bundles.
	covered time.Time
}

// seen is a commit this process has read or written, kept while an
// append that started before its successor appeared may still be waiting:
// such an append's entry may be in it, and must not be appended again.
type seen struct {
	ids       map[string]bool
	succeeded time.Time // when this process learned of the next commit; zero while newest
}

func (l *Log) tenant(tenant string) (*tenantLog, error) {
	origin := l.cfg.Origin(tenant)
	if !validOrigin(origin) {
		return nil, fmt.Errorf("ledger: tenant %q gives the invalid log origin %q", tenant, origin)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	tl, ok := l.tenants[tenant]
	if !ok {
		tl = &tenantLog{tenant: tenant, origin: origin, prefix: l.cfg.Prefix(tenant), bundles: l.cfg.BundlePrefix(tenant),
			tiles: &tileCache{}, inflight: map[string]*waiter{}}
		l.tenants[tenant] = tl
	}
	return tl, nil
}

// Origin returns the name of a tenant's log.
func (l *Log) Origin(tenant string) string { return l.cfg.Origin(tenant) }

func (tl *tenantLog) commitKey(start int64) string {
	return fmt.Sprintf("%slog/%020d.json", tl.prefix, start)
}
func (tl *tenantLog) checkpointKey(size int64) string {
	return fmt.Sprintf("%scheckpoint/%020d", tl.prefix, size)
}
func (tl *tenantLog) headKey() string            { return tl.prefix + "head.json" }
func (tl *tenantLog) bundleKey(id string) string { return tl.bundles + id + ".json" }

// keys returns the keys checkpoints may be signed with, from a cache
// unless reload: keys are only ever added (rotation), so the cache is
// reloaded only when a checkpoint does not verify with it. A signing log
// starts with its own key alone, which signed every checkpoint since the
// last rotation: a cold start lists no keys.
func (l *Log) keys(ctx context.Context, reload bool) ([]receipt.Key, error) {
	l.keysMu.Lock()
	defer l.keysMu.Unlock()
	if l.keyCache != nil && !reload {
		return l.keyCache, nil
	}
	var keys []receipt.Key
	if l.signer != nil {
		own, err := receipt.NewKey(l.signer.Public())
		if err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		keys = append(keys, own)
		if !reload {
			l.keyCache = keys
			return keys, nil
		}
	}
	if l.cfg.Keys != nil {
		more, err := l.cfg.Keys(ctx)
		if err != nil {
			return nil, fmt.Errorf("ledger: keys: %w", err)
		}
		keys = append(keys, more...)
	}
	l.keyCache = keys
	return keys, nil
}

// open verifies a signed checkpoint of tl's log with the cached keys,
// reloading them once if it does not verify.
func (l *Log) open(ctx context.Context, tl *tenantLog, signed []byte) (Checkpoint, error) {
	keys, err := l.keys(ctx, false)
	if err != nil {
		return Checkpoint{}, err
	}
	cp, err := OpenCheckpoint(signed, tl.origin, keys)
	if errors.Is(err, ErrInvalid) {
		if keys, err = l.keys(ctx, true); err != nil {
			return Checkpoint{}, err
		}
		cp, err = OpenCheckpoint(signed, tl.origin, keys)
	}
	return cp, err
}

// waiter is one append waiting for its commit.
type waiter struct {
	entry Entry
	leaf  tlog.Hash
	since time.Time
	done  chan struct{}
	lead  chan struct{} // receives when this waiter is to lead the next round
	gone  bool          // its caller stopped waiting; guarded by tenantLog.mu

	bundle *Bundle
	err    error
}

// maxRounds bounds how often one batch is retried after other processes'
// commits took its position.
const maxRounds = 100

// roundTimeout bounds one commit round, which runs on behalf of every
// waiting append and so does not end when its leader's caller gives up.
const roundTimeout = time.Minute

// Append adds an entry to the tenant's log and returns its receipt bundle:
// the envelope with the entry's index, the signed checkpoint of the commit
// that integrated it and the inclusion proof. It returns only once the
// entry is integrated and the bundle stored.
//
// since is a time before which the entry cannot have been in the log: the
// caller saw no bundle for it then (or had not yet created what the entry
// describes). Entries of the same id are never appended twice.
//
// Appends within a process are batched: the first waiting append leads a
// round that commits every entry queued by then, and hands the lead to a
// waiting append when done (group commit). Rounds of different processes
// race for the next position with a conditional write; the loser reads the
// winner's commit and tries again after it.
func (l *Log) Append(ctx context.Context, tenant string, e Entry, since time.Time) (*Bundle, error) {
	if l.signer == nil {
		return nil, errors.New("ledger: append to a read-only log")
	}
	tl, err := l.tenant(tenant)
	if err != nil {
		return nil, err
	}
	var env receipt.Envelope
	if err := json.Unmarshal(e.Envelope, &env); err != nil {
		return nil, fmt.Errorf("%w: entry %s: envelope: %v", ErrMalformed, e.ID, err)
	}
	leaf, err := Leaf(&env)
	if err != nil {
		return nil, err
	}
	w := &waiter{entry: e, leaf: LeafHash(leaf), since: since, done: make(chan struct{}), lead: make(chan struct{}, 1)}

	tl.mu.Lock()
	if other, ok := tl.inflight[e.ID]; ok {
		tl.mu.Unlock()
		select {
		case <-other.done:
			return other.bundle, other.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	tl.inflight[e.ID] = w
	tl.queue = append(tl.queue, w)
	lead := !tl.leading
	tl.leading = true
	tl.mu.Unlock()

	if lead {
		l.lead(ctx, tl)
	}
	for {
		select {
		case <-w.done:
			return w.bundle, w.err
		case <-w.lead:
			l.lead(ctx, tl)
		case <-ctx.Done():
			tl.mu.Lock()
			w.gone = true
			select {
			case <-w.lead: // chosen to lead as it left: pass it on
				tl.mu.Unlock()
				l.lead(ctx, tl)
				return nil, ctx.Err()
			default:
			}
			tl.mu.Unlock()
			return nil, ctx.Err()
		}
	}
}

// lead runs commit rounds until a waiting append can take over, then hands
// the lead to it. Waiters whose callers left are committed all the same.
func (l *Log) lead(ctx context.Context, tl *tenantLog) {
	ctx = context.WithoutCancel(ctx)
	for {
		tl.mu.Lock()
		n := min(len(tl.queue), l.cfg.MaxBatch)
		batch := tl.queue[:n:n]
		tl.queue = tl.queue[n:]
		tl.mu.Unlock()

		if len(batch) > 0 {
			rctx, cancel := context.WithTimeout(ctx, roundTimeout)
			l.round(rctx, tl, batch)
			cancel()
		}

		tl.mu.Lock()
		if len(tl.queue) == 0 {
			tl.leading = false
			tl.mu.Unlock()
			return
		}
		for _, next := range tl.queue {
			if !next.gone {
				next.lead <- struct{}{}
				tl.mu.Unlock()
				return
			}
		}
		tl.mu.Unlock() // only abandoned appends wait: commit them here
	}
}

func (l *Log) deliver(tl *tenantLog, w *waiter, b *Bundle, err error) {
	w.bundle, w.err = b, err
	tl.mu.Lock()
	if tl.inflight[w.entry.ID] == w {
		delete(tl.inflight, w.entry.ID)
	}
	tl.mu.Unlock()
	close(w.done)
}

// round commits one batch: it finds the head, drops entries already in the
// log, computes the new tree and races for the next position.
func (l *Log) round(ctx context.Context, tl *tenantLog, batch []*waiter) {
	tl.stateMu.Lock()
	defer tl.stateMu.Unlock()
	fail := func(err error) {
		for _, w := range batch {
			l.deliver(tl, w, nil, err)
		}
	}
	for range maxRounds {
		if err := l.refresh(ctx, tl, false); err != nil {
			fail(err)
			return
		}
		var err error
		batch, err = l.dropIntegrated(ctx, tl, batch)
		if err != nil {
			fail(err)
			return
		}
		if len(batch) == 0 {
			return
		}
		next, hashes, c, err := l.build(ctx, tl, batch)
		if err != nil {
			fail(err)
			return
		}
		body, err := json.Marshal(c)
		if err != nil {
			fail(fmt.Errorf("ledger: encode commit: %w", err))
			return
		}
		created, err := l.store.Create(ctx, tl.commitKey(c.Start), body)
		if err != nil {
			fail(fmt.Errorf("ledger: write commit at %d: %w", c.Start, err))
			return
		}
		if !created {
			// Another process took the position: read its commit and
			// try again after it.
			if err := l.refresh(ctx, tl, true); err != nil {
				fail(err)
				return
			}
			continue
		}
		bundles, err := l.finish(ctx, tl, tl.head, c, hashes)
		if err != nil {
			fail(err)
			return
		}
		l.advanceTo(tl, next, c)
		for i, w := range batch {
			l.deliver(tl, w, bundles[i], nil)
		}
		// Every commit moves the head hint: a process that starts cold
		// (a new Lambda instance) then reads the hint and probes one
		// commit, instead of reading and checking every commit since an
		// older hint. One PUT per commit, shared by its batch.
		l.writeHead(ctx, tl, next)
		return
	}
	fail(fmt.Errorf("ledger: log %s stayed contended for %d rounds", tl.origin, maxRounds))
}

// refresh loads the head when this process has none, and with probe reads
// every commit after it, finishing those whose writers stopped half-way.
func (l *Log) refresh(ctx context.Context, tl *tenantLog, probe bool) error {
	if tl.head == nil {
		tl.covered = l.cfg.Now()
		st, err := l.loadHead(ctx, tl)
		if err != nil {
			return err
		}
		tl.head = st
		probe = true
	}
	for probe {
		data, found, err := l.store.Get(ctx, tl.commitKey(tl.head.cp.Size))
		if err != nil {
			return fmt.Errorf("ledger: read commit at %d: %w", tl.head.cp.Size, err)
		}
		if !found {
			return nil
		}
		next, c, hashes, err := l.openCommit(ctx, tl, tl.head, data)
		if err != nil {
			return err
		}
		if _, found, err := l.store.Get(ctx, tl.checkpointKey(c.Size)); err != nil {
			return fmt.Errorf("ledger: read checkpoint %d: %w", c.Size, err)
		} else if !found {
			l.log.WarnContext(ctx, "ledger: finishing a commit another writer left unfinished", "log", tl.origin, "start", c.Start, "size", c.Size)
			if _, err := l.finish(ctx, tl, tl.head, c, hashes); err != nil {
				return err
			}
			l.writeHead(ctx, tl, next)
		}
		l.advanceTo(tl, next, c)
	}
	return nil
}

// loadHead reads the head hint, or starts from the empty log.
func (l *Log) loadHead(ctx context.Context, tl *tenantLog) (*state, error) {
	empty := &state{cp: Checkpoint{Origin: tl.origin}}
	data, found, err := l.store.Get(ctx, tl.headKey())
	if err != nil {
		return nil, fmt.Errorf("ledger: read head: %w", err)
	}
	if !found {
		return empty, nil
	}
	var h headHint
	if err := json.Unmarshal(data, &h); err != nil {
		l.log.WarnContext(ctx, "ledger: unreadable head hint; reading the log from its start", "log", tl.origin, "err", err)
		return empty, nil
	}
	cp, err := l.open(ctx, tl, []byte(h.Checkpoint))
	if err != nil || cp.Size != h.Size {
		l.log.WarnContext(ctx, "ledger: head hint does not verify; reading the log from its start", "log", tl.origin, "err", err)
		return empty, nil
	}
	return &state{cp: cp, signed: h.Checkpoint, start: h.Start}, nil
}

// openCommit checks a stored commit against the state it must extend and
// recomputes the tree it claims; it returns the new state and the stored
// hashes of its entries.
func (l *Log) openCommit(ctx context.Context, tl *tenantLog, prev *state, data []byte) (*state, *commit, map[int64]tlog.Hash, error) {
	var c commit
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, nil, nil, fmt.Errorf("%w: commit at %d: %v", ErrMalformed, prev.cp.Size, err)
	}
	if c.Start != prev.cp.Size || c.Size != c.Start+int64(len(c.Entries)) || len(c.Entries) == 0 {
		return nil, nil, nil, fmt.Errorf("%w: commit at %d claims entries %d to %d with %d entries", ErrInvalid, prev.cp.Size, c.Start, c.Size, len(c.Entries))
	}
	leaves := make([]tlog.Hash, len(c.Entries))
	for i, e := range c.Entries {
		var env receipt.Envelope
		if err := json.Unmarshal(e.Envelope, &env); err != nil {
			return nil, nil, nil, fmt.Errorf("%w: entry %d: %v", ErrMalformed, c.Start+int64(i), err)
		}
		leaf, err := Leaf(&env)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("entry %d: %w", c.Start+int64(i), err)
		}
		leaves[i] = LeafHash(leaf)
	}
	hashes, root, err := l.extend(ctx, tl, prev, leaves)
	if err != nil {
		return nil, nil, nil, err
	}
	cp, err := l.open(ctx, tl, []byte(c.Checkpoint))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("commit at %d: %w", c.Start, err)
	}
	if cp.Size != c.Size || cp.Hash != root {
		return nil, nil, nil, fmt.Errorf("%w: commit at %d: its checkpoint (size %d) is not the tree of its entries", ErrInvalid, c.Start, cp.Size)
	}
	return &state{cp: cp, signed: c.Checkpoint, start: c.Start}, &c, hashes, nil
}

// extend computes the stored hashes of leaves appended to prev's tree, and
// the new root, reading prev's tiles as needed.
func (l *Log) extend(ctx context.Context, tl *tenantLog, prev *state, leaves []tlog.Hash) (map[int64]tlog.Hash, tlog.Hash, error) {
	r := l.reader(ctx, tl, prev)
	for i, h := range leaves {
		n := prev.cp.Size + int64(i)
		hs, err := tlog.StoredHashesForRecordHash(n, h, r)
		if err != nil {
			return nil, tlog.Hash{}, fmt.Errorf("ledger: hash entry %d: %w", n, err)
		}
		first := tlog.StoredHashIndex(0, n)
		for j, x := range hs {
			r.extra[first+int64(j)] = x
		}
	}
	root, err := tlog.TreeHash(prev.cp.Size+int64(len(leaves)), r)
	if err != nil {
		return nil, tlog.Hash{}, fmt.Errorf("ledger: tree hash: %w", err)
	}
	return r.extra, root, nil
}

// reader reads the stored hashes of st's tree, authenticated against its
// checkpoint by tlog, with room for hashes computed on top.
func (l *Log) reader(ctx context.Context, tl *tenantLog, st *state) overlay {
	o := overlay{extra: map[int64]tlog.Hash{}}
	if st.cp.Size > 0 {
		o.base = tlog.TileHashReader(st.cp.Tree(), tiles{store: l.store, prefix: tl.prefix, cache: tl.tiles, ctx: ctx})
	}
	return o
}

// build signs the commit that appends batch to the head.
func (l *Log) build(ctx context.Context, tl *tenantLog, batch []*waiter) (*state, map[int64]tlog.Hash, *commit, error) {
	prev := tl.head
	leaves := make([]tlog.Hash, len(batch))
	entries := make([]Entry, len(batch))
	for i, w := range batch {
		leaves[i], entries[i] = w.leaf, w.entry
	}
	hashes, root, err := l.extend(ctx, tl, prev, leaves)
	if err != nil {
		return nil, nil, nil, err
	}
	cp := Checkpoint{Origin: tl.origin, Size: prev.cp.Size + int64(len(batch)), Hash: root}
	signed, err := SignCheckpoint(ctx, l.signer, cp)
	if err != nil {
		return nil, nil, nil, err
	}
	c := &commit{Start: prev.cp.Size, Size: cp.Size, Time: l.cfg.Now().UTC(), Entries: entries, Checkpoint: string(signed)}
	return &state{cp: cp, signed: string(signed), start: c.Start}, hashes, c, nil
}

// finish writes what a commit implies, each write idempotent: the tiles of
// its hashes, a bundle per entry and, last, the checkpoint object, whose
// presence marks the commit finished. A commit is finished before the next
// one is built, so that at most the newest commit is ever unfinished.
func (l *Log) finish(ctx context.Context, tl *tenantLog, prev *state, c *commit, hashes map[int64]tlog.Hash) ([]*Bundle, error) {
	r := l.reader(ctx, tl, prev)
	r.extra = hashes
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(64) // a round holds up every append in it: write its objects at once
	for _, tile := range tlog.NewTiles(TileHeight, c.Start, c.Size) {
		data, err := tlog.ReadTileData(tile, r)
		if err != nil {
			return nil, fmt.Errorf("ledger: tile %s: %w", tile.Path(), err)
		}
		g.Go(func() error {
			if _, err := l.store.Create(gctx, tl.prefix+tile.Path(), data); err != nil {
				return fmt.Errorf("ledger: write tile %s: %w", tile.Path(), err)
			}
			tl.tiles.put(tile, data)
			return nil
		})
	}
	bundles := make([]*Bundle, len(c.Entries))
	for i, e := range c.Entries {
		index := c.Start + int64(i)
		proof, err := tlog.ProveRecord(c.Size, index, r)
		if err != nil {
			return nil, fmt.Errorf("ledger: prove entry %d: %w", index, err)
		}
		b := &Bundle{Envelope: e.Envelope, Log: &Proof{Origin: tl.origin, Index: index, Checkpoint: c.Checkpoint, Inclusion: Hashes(proof)}}
		bundles[i] = b
		g.Go(func() error {
			body, err := json.Marshal(b)
			if err != nil {
				return fmt.Errorf("ledger: encode bundle: %w", err)
			}
			if _, err := l.store.Create(gctx, tl.bundleKey(e.ID), body); err != nil {
				return fmt.Errorf("ledger: write bundle %s: %w", e.ID, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if _, err := l.store.Create(ctx, tl.checkpointKey(c.Size), []byte(c.Checkpoint)); err != nil {
		return nil, fmt.Errorf("ledger: write checkpoint %d: %w", c.Size, err)
	}
	return bundles, nil
}

// advanceTo makes next, produced by c, the head, and remembers c's ids.
func (l *Log) advanceTo(tl *tenantLog, next *state, c *commit) {
	now := l.cfg.Now()
	if n := len(tl.recent); n > 0 && tl.recent[n-1].succeeded.IsZero() {
		tl.recent[n-1].succeeded = now
	}
	ids := make(map[string]bool, len(c.Entries))
	for _, e := range c.Entries {
		ids[e.ID] = true
	}
	tl.recent = append(tl.recent, seen{ids: ids})
	tl.head = next
}

// recentFor bounds how long commits are remembered after their successor
// appeared; appends waiting longer than this check their bundle instead.
const recentFor = 2 * time.Minute

// dropIntegrated removes from batch the entries already in the log and
// answers them with their stored bundles. An entry the log holds is either
// in a commit this process has seen since the entry's since time, or has a
// bundle: commits are finished (bundles written) before the next commit is
// made, so at any time only the newest commit can lack its bundles.
func (l *Log) dropIntegrated(ctx context.Context, tl *tenantLog, batch []*waiter) ([]*waiter, error) {
	now := l.cfg.Now()
	cut := 0
	for cut < len(tl.recent) && !tl.recent[cut].succeeded.IsZero() && now.Sub(tl.recent[cut].succeeded) > recentFor {
		tl.covered = tl.recent[cut].succeeded
		cut++
	}
	tl.recent = tl.recent[cut:]
	// Ids are unique within a batch: a second append of an id in this
	// process waits for the first (Log.Append).
	keep := batch[:0:0]
	for _, w := range batch {
		id := w.entry.ID
		known := false
		for _, s := range tl.recent {
			if s.ids[id] && (s.succeeded.IsZero() || !s.succeeded.Before(w.since)) {
				known = true
			}
		}
		if !known && !w.since.Before(tl.covered) {
			keep = append(keep, w)
			continue
		}
		b, err := l.Bundle(ctx, tl.tenant, id)
		switch {
		case errors.Is(err, ErrNotFound) && !known:
			keep = append(keep, w)
		case err != nil && !errors.Is(err, ErrNotFound):
			return nil, err
		default:
			l.deliver(tl, w, b, err)
		}
	}
	return keep, nil
}

// writeHead records next as the place readers start from. A failure costs
// readers a few more reads, nothing else, so it is only logged.
func (l *Log) writeHead(ctx context.Context, tl *tenantLog, next *state) {
	body, err := json.Marshal(headHint{Start: next.start, Size: next.cp.Size, Checkpoint: next.signed})
	if err == nil {
		err = l.store.Put(ctx, tl.headKey(), body)
	}
	if err != nil {
		l.log.WarnContext(ctx, "ledger: write head hint", "log", tl.origin, "err", err)
		return
	}
}

// ErrNotFound is returned for a bundle, checkpoint or proof the log does
// not hold.
var ErrNotFound = errors.New("ledger: not found")

// Bundle returns the stored receipt bundle of entry id, waiting for no
// commit: ErrNotFound if the entry is not (yet) integrated.
func (l *Log) Bundle(ctx context.Context, tenant, id string) (*Bundle, error) {
	tl, err := l.tenant(tenant)
	if err != nil {
		return nil, err
	}
	data, found, err := l.store.Get(ctx, tl.bundleKey(id))
	if err != nil {
		return nil, fmt.Errorf("ledger: read bundle %s: %w", id, err)
	}
	if !found {
		return nil, fmt.Errorf("%w: no bundle for %s", ErrNotFound, id)
	}
	var b Bundle
	if err := json.Unmarshal(data, &b); err != nil || b.Log == nil {
		return nil, fmt.Errorf("%w: bundle %s", ErrMalformed, id)
	}
	return &b, nil
}

// Latest returns the newest checkpoint of the tenant's log as a signed
// note, first finishing any commit whose writer stopped half-way.
// ErrNotFound means the log has no entries yet.
func (l *Log) Latest(ctx context.Context, tenant string) (Checkpoint, []byte, error) {
	tl, err := l.tenant(tenant)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	tl.stateMu.Lock()
	defer tl.stateMu.Unlock()
	if err := l.refresh(ctx, tl, true); err != nil {
		return Checkpoint{}, nil, err
	}
	if tl.head.cp.Size == 0 {
		return Checkpoint{}, nil, fmt.Errorf("%w: log %s has no entries yet", ErrNotFound, tl.origin)
	}
	return tl.head.cp, []byte(tl.head.signed), nil
}

// CheckpointAt returns the signed checkpoint of the tree of the given size:
// every size at which a commit ended has one.
func (l *Log) CheckpointAt(ctx context.Context, tenant string, size int64) (Checkpoint, []byte, error) {
	tl, err := l.tenant(tenant)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	data, found, err := l.store.Get(ctx, tl.checkpointKey(size))
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("ledger: read checkpoint %d: %w", size, err)
	}
	if !found {
		return Checkpoint{}, nil, fmt.Errorf("%w: log %s has no checkpoint at size %d", ErrNotFound, tl.origin, size)
	}
	cp, err := l.open(ctx, tl, data)
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("ledger: stored checkpoint %d: %w", size, err)
	}
	if cp.Size != size {
		return Checkpoint{}, nil, fmt.Errorf("%w: stored checkpoint %d says size %d", ErrInvalid, size, cp.Size)
	}
	return cp, data, nil
}

// InclusionProof proves entry index in the tree of the checkpoint at size.
func (l *Log) InclusionProof(ctx context.Context, tenant string, index, size int64) (Hashes, error) {
	if index < 0 || index >= size {
		return nil, fmt.Errorf("%w: index %d is outside a tree of %d entries", ErrNotFound, index, size)
	}
	r, err := l.treeReader(ctx, tenant, size)
	if err != nil {
		return nil, err
	}
	p, err := tlog.ProveRecord(size, index, r)
	if err != nil {
		return nil, fmt.Errorf("ledger: prove entry %d in tree %d: %w", index, size, err)
	}
	return Hashes(p), nil
}

// ConsistencyProof proves that the tree of size from is a prefix of the
// tree of the checkpoint at size to.
func (l *Log) ConsistencyProof(ctx context.Context, tenant string, from, to int64) (Hashes, error) {
	if from < 1 || from > to {
		return nil, fmt.Errorf("%w: no consistency proof from size %d to size %d", ErrNotFound, from, to)
	}
	r, err := l.treeReader(ctx, tenant, to)
	if err != nil {
		return nil, err
	}
	p, err := tlog.ProveTree(to, from, r)
	if err != nil {
		return nil, fmt.Errorf("ledger: prove tree %d in tree %d: %w", from, to, err)
	}
	return Hashes(p), nil
}

func (l *Log) treeReader(ctx context.Context, tenant string, size int64) (tlog.HashReader, error) {
	cp, _, err := l.CheckpointAt(ctx, tenant, size)
	if err != nil {
		return nil, err
	}
	tl, err := l.tenant(tenant)
	if err != nil {
		return nil, err
	}
	return l.reader(ctx, tl, &state{cp: cp}), nil
}
