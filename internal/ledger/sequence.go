package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Sequencing across processes (docs/ledger.md, appending from many
// processes). Lambda runs every concurrent request in its own process, so
// group commit inside one process batches nothing there. With a Scratch,
// one process at a time holds the tenant's lease (lease.go), a small
// object written with If-Match, and commits the entries the others leave
// beside it as pending objects (pending.go); they
// poll their pending object until the holder deletes it, then read their
// place from the Keeper. As in Sunlight (one sequencer behind a
// compare-and-swap lock) and Tessera (entries integrated in batches), but
// with no server: the lease passes to whichever writer finds it free, or
// is handed to one that waits.
//
// The lease only saves writers from racing. The order of the log is still
// decided by the conditional creation of each commit, so that two holders
// (one paused past its lease) cannot fork it: the second loses the race
// and reads the first's commit, as without a lease.

// Sequencing tunes the lease.
type Sequencing struct {
	// LeaseTTL is how long a lease unchanged is taken for alive: a
	// waiter that sees the same lease for longer takes it over. The
	// holder writes it again every third of it. 3s if 0.
	LeaseTTL time.Duration
	// Hold bounds how long a holder keeps committing others' entries
	// after its own (its caller waits meanwhile) before handing the
	// lease to one of them. 100ms if 0.
	Hold time.Duration
	// Poll is how often a waiter reads its pending object. 5ms if 0.
	Poll time.Duration
	// Linger keeps the lease that long after this process's last
	// append, committing others' entries with its next: for long-lived
	// processes (the local server), where acquiring and releasing it for
	// every burst costs requests. 0, the default, releases it at once, as
	// a Lambda instance must: one frozen after its answer while holding
	// the lease would hold up every other for LeaseTTL.
	Linger time.Duration
}

func (s Sequencing) withDefaults() Sequencing {
	if s.LeaseTTL == 0 {
		s.LeaseTTL = 3 * time.Second
	}
	if s.Hold == 0 {
		s.Hold = 100 * time.Millisecond
	}
	if s.Poll == 0 {
		s.Poll = 5 * time.Millisecond
	}
	return s
}

// Keys in Scratch: the sequencer's under one prefix, which expires (a day
// after its last write is plenty), the head hint beside the log's name.
const sequencerPrefix = "sequencer/"

func (tl *tenantLog) leaseKey() string      { return sequencerPrefix + tl.prefix + "lease.json" }
func (tl *tenantLog) pendingPrefix() string { return sequencerPrefix + tl.prefix + "pending/" }

func randomName() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sequence commits batch: at once while this process holds the lease,
// otherwise by leaving it for the holder and waiting, unless the lease is
// free or handed over meanwhile. Without a Scratch, or when it fails, the
// batch races for the next position on its own.
func (l *Log) sequence(ctx context.Context, tl *tenantLog, batch []*waiter) {
	sc := l.cfg.Scratch
	if sc == nil {
		l.round(ctx, tl, batch)
		return
	}
	if tl.lease.tag == "" {
		// A lease seen alive a moment ago is not read again before the
		// entries are left: await reads it after.
		held, err := false, error(nil)
		if time.Since(tl.lease.liveAt) > l.cfg.Sequencing.LeaseTTL/3 {
			held, err = l.takeLease(ctx, tl)
		}
		if err == nil && !held {
			batch, err = l.await(ctx, tl, batch)
		}
		if err != nil {
			l.log.WarnContext(ctx, "ledger: sequencer unavailable; committing without it", "log", tl.origin, "err", err)
			l.round(ctx, tl, batch)
			return
		}
		if len(batch) == 0 && tl.lease.tag == "" {
			return
		}
	}
	l.serve(ctx, tl, batch)
}

// serve runs commit rounds as the lease's holder: batch, and what other
// processes left, until nothing is left or Hold is spent; then it hands the
// lease to a waiting process or releases it. It keeps the lease while
// appends of its own process wait, for the next leading append.
func (l *Log) serve(ctx context.Context, tl *tenantLog, batch []*waiter) {
	until := time.Now().Add(l.cfg.Sequencing.Hold)
	for {
		remote, objects, others := l.collect(ctx, tl, l.cfg.MaxBatch-len(batch))
		all := append(batch, remote...)
		if len(all) == 0 && !others {
			break
		}
		t0 := time.Now()
		l.round(ctx, tl, all)
		l.clear(ctx, tl, objects)
		tl.lease.round = (3*tl.lease.round + time.Since(t0)) / 4
		batch = nil
		if !l.renew(ctx, tl) {
			return // lost it
		}
		// Others' entries keep coming while the last look found some.
		if !others || time.Now().After(until) {
			break
		}
	}
	tl.mu.Lock()
	mine := len(tl.queue) > 0
	tl.mu.Unlock()
	switch {
	case mine:
		// The next leading append of this process goes on holding it.
	case l.cfg.Sequencing.Linger > 0 && !l.rounds.closing():
		l.letGoIdle(tl)
	default:
		l.letGo(ctx, tl)
	}
}

// letGoIdle lets go of the lease once this process has appended nothing
// for Linger.
func (l *Log) letGoIdle(tl *tenantLog) {
	gen := tl.lease.gen.Add(1)
	done := make(chan struct{})
	release := func() {
		defer close(done)
		tl.mu.Lock()
		if tl.leading || tl.lease.gen.Load() != gen {
			tl.mu.Unlock()
			return // appending again: the leader has it
		}
		tl.leading = true
		tl.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), roundTimeout)
		defer cancel()
		if tl.lease.tag != "" {
			l.letGo(ctx, tl)
		}
		l.lead(ctx, tl) // appends that queued meanwhile
	}
	tl.mu.Lock()
	tl.idle = idleRelease{time.AfterFunc(l.cfg.Sequencing.Linger, release), release, done}
	tl.mu.Unlock()
}

// idleRelease is a lease kept for Linger: its timer, what it runs, and a
// channel closed once that has run (or found it need not).
type idleRelease struct {
	timer *time.Timer
	run   func()
	done  chan struct{}
}
