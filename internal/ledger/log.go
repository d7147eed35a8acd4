package ledger

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Config says where each tenant's log lives, how it is named and how its
// records are read.
type Config struct {
	// Origin names a tenant's log: the checkpoint's origin line and the
	// note key name its signatures carry.
	Origin func(tenant string) string
	// Prefix is where a tenant's log objects live, ending in "/".
	Prefix func(tenant string) string
	// Leaf returns the leaf data of a record the log keeps (Entry.Record):
	// a pure function, since processes that finish or check another's
	// commit recompute the leaves from the stored records.
	Leaf func(record []byte) ([]byte, error)
	// ID, when set, returns the entry id a record names: the checkpoint
	// covers leaves, not ids, so a commit whose entries carry other ids
	// than their records name is not the log's (someone copied a commit
	// and renamed entries). Without it ids are taken as stored.
	ID func(record []byte) (string, error)
	// Keys returns the public keys, besides the signer's own, that may
	// have signed a tenant's checkpoints (earlier keys, for rotation).
	Keys func(ctx context.Context, tenant string) ([]*ecdsa.PublicKey, error)
	// SignersAt, when set, narrows that to the keys that may have signed
	// the checkpoint of a size (the key of its last entry): a key retired
	// at entry n signs no checkpoint larger than n.
	SignersAt func(ctx context.Context, tenant string, size int64) ([]*ecdsa.PublicKey, error)
	// Keeper keeps what the caller derives from integrated entries; nil
	// for a log that only reads.
	Keeper Keeper
	// Scratch, when set, holds the head hint and lets appends of many
	// processes share commits: one process at a time holds a lease there
	// and commits the entries the others leave for it (sequence.go).
	// Without it each process commits its own, racing for positions.
	Scratch Scratch
	// Admit checks a record another process left in Scratch before the
	// sequencer appends it: what the log commits to must be the caller's
	// own (the vault: signed by its key, for this tenant). Required with
	// Scratch, since anyone who can write there can leave an entry.
	Admit func(ctx context.Context, tenant string, record []byte) error
	// Sequencing tunes the lease; zero fields take the defaults.
	Sequencing Sequencing
	// MaxBatch bounds the entries of one commit; 256 if 0.
	MaxBatch int
	// Now is the clock of the commits' time field; time.Now if nil.
	Now func() time.Time
	// Logger receives the log's diagnostics; slog.Default if nil.
	Logger *slog.Logger
}

// Keeper keeps, outside the log, what the caller derives from each
// integrated entry (the vault: a receipt bundle). The log hands it every
// entry before the entry's commit counts as finished, so that a finished
// commit never lacks it, and asks it back for entries older than what a
// process remembers.
type Keeper interface {
	// Keep is given the entries of one commit with their places. A
	// commit can be finished twice (by its writer, and by a process that
	// found it unfinished), so Keep must be idempotent.
	Keep(ctx context.Context, tenant string, entries []*Appended) error
	// Kept returns every record kept for entry id, the newest first: what
	// Keep was given, and whatever someone else wrote there (the log takes
	// the one that proves its place); none if Keep was given nothing.
	Kept(ctx context.Context, tenant, id string) ([]*Appended, error)
}

// LatestKeeper is a Keeper that can also answer with the newest record kept
// for an entry alone (nil if none), in one read where Kept lists every
// version: the log asks Latest first, and Kept only when that one does not
// prove its place.
type LatestKeeper interface {
	Keeper
	Latest(ctx context.Context, tenant, id string) (*Appended, error)
}

// Log appends entries to per-tenant logs and serves checkpoints and
// proofs. One Log is shared by all requests of a process; any number of
// processes may append to the same logs at once.
type Log struct {
	store  Store
	signer Signer
	cfg    Config
	log    *slog.Logger

	mu      sync.Mutex
	tenants map[string]*tenantLog
	// process names this Log in leases and pending entries.
	process string
	pending atomic.Int64 // numbers this process's pending objects
	rounds  rounds       // appends and the rounds they run, for Close
}

// New returns a Log on store whose checkpoints signer signs. With a nil
// signer the Log only reads and audits; Append returns ErrReadOnly.
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
	cfg.Sequencing = cfg.Sequencing.withDefaults()
	l := &Log{store: store, signer: signer, cfg: cfg, log: cfg.Logger, tenants: map[string]*tenantLog{}}
	if cfg.Scratch != nil {
		l.process = randomName()
	}
	return l
}

// state is a finished point of a tenant's log: every object of the commit
// that produced it is written.
type state struct {
	cp     Checkpoint
	signed string
	start  int64 // the commit's start; 0 with size 0 for the empty log
}

// tenantLog is a process's view of one tenant's log.
type tenantLog struct {
	tenant, origin, prefix string
	tiles                  *tileCache

	// mu guards the queue of waiting appends and the leader flag.
	mu       sync.Mutex
	queue    []*waiter
	inflight map[string]*waiter
	leading  bool

	// keys verify the tenant's checkpoints.
	keys keyCache

	// stateMu serializes work on the log's state: commit rounds and
	// refreshes of the head.
	stateMu sync.Mutex
	head    *state
	seen    seenCommits
	// damaged is set when the position after head holds an object that is
	// no commit of this log: reads stop before it, appends fail with it.
	damaged *TamperedError
	// short is set when the log as read ends before the current key's
	// checkpoint: every read and append answers it.
	short *TamperedError
	// hint writes the head hint behind the commits.
	hint headMover
	// lease is this process's hold of the tenant's sequencer lease; only
	// the leading append touches it.
	lease lease
	// idle is the last release of the lease scheduled for Linger (under mu).
	idle idleRelease

	// size is the head's size once loaded, -1 before: read without
	// stateMu, so that a lower bound never waits for a commit round.
	size atomic.Int64
	// checkpoints are the log's own signed checkpoints, by size, once
	// found: they never change, and finding one under versions someone
	// wrote over it is paid once.
	checkpoints     sync.Map
	checkpointsKept atomic.Int64
	// anchor is the newest checkpoint of the current key found when
	// versions of a commit disagreed (choose); mustReach is its size,
	// which a walk that chose by it must reach.
	anchor    atomic.Pointer[Checkpoint]
	mustReach atomic.Int64
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
		tl = &tenantLog{tenant: tenant, origin: origin, prefix: l.cfg.Prefix(tenant), tiles: &tileCache{}, inflight: map[string]*waiter{},
			keys: keyCache{signer: l.signer, tenant: tenant, more: l.cfg.Keys}}
		tl.size.Store(-1)
		l.tenants[tenant] = tl
	}
	return tl, nil
}

// Origin returns the name of a tenant's log.
func (l *Log) Origin(tenant string) string { return l.cfg.Origin(tenant) }

// Object keys of a tenant's log (docs/ledger.md).
func (tl *tenantLog) commitKey(start int64) string {
	return fmt.Sprintf("%slog/%020d.json", tl.prefix, start)
}
func (tl *tenantLog) checkpointKey(size int64) string {
	return fmt.Sprintf("%scheckpoint/%020d", tl.prefix, size)
}
func (tl *tenantLog) headKey() string { return tl.prefix + "head.json" }

// advanceTo makes next, produced by c, the head, and remembers c's ids.
func (tl *tenantLog) advanceTo(next *state, c *commit) {
	tl.seen.add(c)
	tl.head = next
	tl.size.Store(next.cp.Size)
}
