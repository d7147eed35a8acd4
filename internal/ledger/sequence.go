package ledger

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Sequencing across processes (docs/ledger.md, appending from many
// processes). Lambda runs every concurrent request in its own process, so
// group commit inside one process batches nothing there. With a Scratch, one process at a time
// holds the tenant's lease, a small object written with If-Match, and
// commits the entries the others leave beside it as pending objects; they
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

// lease is a process's view of its tenant's lease.
type lease struct {
	tag   string    // the lease's tag while this process holds it, else ""
	wrote time.Time // when this process last wrote it
	// seen and seenAt: the tag of another holder's lease and when this
	// process first saw it, to tell a holder that stopped.
	seen   string
	seenAt time.Time
	// liveAt is when this process last read another's live lease.
	liveAt time.Time
	// own is this process's pending object, while it holds the lease
	// that was handed to it there: deleted with the entries it commits.
	own []string
	// released is the tag of the lease as this process released it:
	// taking it again is one write, when nobody took it since.
	released string
	// gen counts the holder's serves, for an idle release to see that
	// appending resumed.
	gen atomic.Int64
	// failed counts the rounds each pending object failed in.
	failed map[string]int
	// round is how long the holder's rounds take, as the lease last said
	// (a holder: as it measured), for waiters to poll at that pace.
	round time.Duration
}

// leaseBody is the lease object.
type leaseBody struct {
	Holder   string `json:"holder"`
	Released bool   `json:"released,omitempty"`
	// RoundMicros is how long the holder's commit rounds take.
	RoundMicros int64 `json:"roundMicros,omitempty"`
	// Head is the holder's head when it let go: where the next holder
	// starts, verified like a hint.
	Head *headHint `json:"head,omitempty"`
}

// pendingBody is a pending object: one process's entries waiting for the
// holder.
type pendingBody struct {
	Process string        `json:"process"`
	Entries []storedEntry `json:"entries"`
	// Lease is set by a holder handing the lease to this process: the
	// tag of the lease it wrote naming it.
	Lease string `json:"lease,omitempty"`
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
	case l.cfg.Sequencing.Linger > 0:
		l.letGoIdle(tl)
	default:
		l.letGo(ctx, tl)
	}
}

// letGoIdle lets go of the lease once this process has appended nothing
// for Linger.
func (l *Log) letGoIdle(tl *tenantLog) {
	gen := tl.lease.gen.Add(1)
	time.AfterFunc(l.cfg.Sequencing.Linger, func() {
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
	})
}

// takeLease takes the tenant's lease if it is free, released, or held by
// a process that stopped writing it for LeaseTTL.
func (l *Log) takeLease(ctx context.Context, tl *tenantLog) (bool, error) {
	sc := l.cfg.Scratch
	if released := tl.lease.released; released != "" {
		tl.lease.released = ""
		body, _ := json.Marshal(leaseBody{Holder: l.process})
		if tag, ok, err := sc.Swap(ctx, tl.leaseKey(), body, released); err == nil && ok {
			tl.lease.tag, tl.lease.wrote = tag, time.Now()
			return true, nil
		}
	}
	data, tag, found, err := sc.Get(ctx, tl.leaseKey())
	if err != nil {
		return false, fmt.Errorf("ledger: read lease: %w", err)
	}
	var lb leaseBody
	if found && json.Unmarshal(data, &lb) == nil {
		tl.lease.round = time.Duration(lb.RoundMicros) * time.Microsecond
	}
	if found && !lb.Released && lb.Holder != l.process && lb.Holder != "" {
		now := time.Now()
		tl.lease.liveAt = now
		if tl.lease.seen != tag {
			tl.lease.seen, tl.lease.seenAt = tag, now
			return false, nil
		}
		if now.Sub(tl.lease.seenAt) < l.cfg.Sequencing.LeaseTTL {
			return false, nil
		}
		l.log.WarnContext(ctx, "ledger: taking over a lease its holder stopped writing", "log", tl.origin, "holder", lb.Holder)
	}
	if !found {
		tag = ""
	}
	body, _ := json.Marshal(leaseBody{Holder: l.process})
	newTag, swapped, err := sc.Swap(ctx, tl.leaseKey(), body, tag)
	if err != nil {
		return false, fmt.Errorf("ledger: take lease: %w", err)
	}
	if !swapped {
		return false, nil
	}
	tl.lease.tag, tl.lease.wrote = newTag, time.Now()
	l.startFrom(ctx, tl, lb.Head)
	return true, nil
}

// startFrom moves a new holder's head to where the last holder left the
// log, when that is further than this process has read and verifies.
func (l *Log) startFrom(ctx context.Context, tl *tenantLog, h *headHint) {
	if h == nil {
		return
	}
	tl.stateMu.Lock()
	defer tl.stateMu.Unlock()
	if tl.head != nil && tl.head.cp.Size >= h.Size {
		return
	}
	st, err := l.openHint(ctx, tl, *h)
	if err != nil {
		l.log.WarnContext(ctx, "ledger: the lease's head does not verify; reading on from this process's head", "log", tl.origin, "err", err)
		return
	}
	tl.head = st
	tl.seen.reset(st.cp.Size)
	tl.size.Store(st.cp.Size)
}

// renew writes the lease again when a third of its TTL has passed since
// this process last did, so that waiters see it is alive. It returns
// false when another process has taken it.
func (l *Log) renew(ctx context.Context, tl *tenantLog) bool {
	if time.Since(tl.lease.wrote) < l.cfg.Sequencing.LeaseTTL/3 {
		return true
	}
	body, _ := json.Marshal(leaseBody{Holder: l.process, RoundMicros: tl.lease.round.Microseconds()})
	return l.rewriteLease(ctx, tl, body)
}

func (l *Log) rewriteLease(ctx context.Context, tl *tenantLog, body []byte) bool {
	tag, swapped, err := l.cfg.Scratch.Swap(ctx, tl.leaseKey(), body, tl.lease.tag)
	if err != nil || !swapped {
		if err != nil {
			l.log.WarnContext(ctx, "ledger: write lease", "log", tl.origin, "err", err)
		}
		tl.lease.tag = ""
		return false
	}
	tl.lease.tag, tl.lease.wrote = tag, time.Now()
	return true
}

// letGo releases the lease and hands it to a process whose entries wait,
// if any.
func (l *Log) letGo(ctx context.Context, tl *tenantLog) {
	var head *headHint
	tl.stateMu.Lock()
	if tl.head != nil && tl.head.cp.Size > 0 {
		head = &headHint{Start: tl.head.start, Size: tl.head.cp.Size, Checkpoint: tl.head.signed}
	}
	tl.stateMu.Unlock()
	body, _ := json.Marshal(leaseBody{Holder: l.process, Released: true, Head: head, RoundMicros: tl.lease.round.Microseconds()})
	if !l.rewriteLease(ctx, tl, body) {
		return
	}
	released := tl.lease.tag
	tl.lease.tag = ""
	// Released, the pending objects are listed: a waiter that left
	// entries after the holder's last look, and read the lease before it
	// was released, is handed the lease; one that left them later reads
	// the lease released and takes it.
	if !l.handOverToWaiting(ctx, tl, released, head) {
		tl.lease.released = released
	}
}

// handOverToWaiting hands the lease, whose tag is tag, to the process of
// the first pending object listed, if any; true if the lease is no longer
// tag (handed over, or taken).
func (l *Log) handOverToWaiting(ctx context.Context, tl *tenantLog, tag string, head *headHint) bool {
	keys, err := l.cfg.Scratch.List(ctx, tl.pendingPrefix())
	if err != nil {
		l.log.WarnContext(ctx, "ledger: list pending entries", "log", tl.origin, "err", err)
		return false
	}
	for _, key := range keys {
		if l.handOver(ctx, tl, key, tag, head) {
			return true
		}
	}
	return false
}

// handOver writes the lease naming the process of pending object key and
// tells it so there. The lease's tag must still be tag.
func (l *Log) handOver(ctx context.Context, tl *tenantLog, key, tag string, head *headHint) bool {
	sc := l.cfg.Scratch
	data, _, found, err := sc.Get(ctx, key)
	var p pendingBody
	if err != nil || !found || json.Unmarshal(data, &p) != nil || p.Process == "" {
		return false
	}
	body, _ := json.Marshal(leaseBody{Holder: p.Process, Head: head, RoundMicros: tl.lease.round.Microseconds()})
	newTag, swapped, err := sc.Swap(ctx, tl.leaseKey(), body, tag)
	if err != nil || !swapped {
		return true // someone took it: theirs now
	}
	p.Lease = newTag
	if data, err = json.Marshal(p); err == nil {
		err = sc.Put(ctx, key, data)
	}
	if err != nil {
		// The process does not learn it holds the lease; waiters take
		// it once it has stayed unchanged for LeaseTTL.
		l.log.WarnContext(ctx, "ledger: hand over the lease", "log", tl.origin, "err", err)
	}
	return true
}

// await leaves batch in a pending object and waits for the holder to
// commit it. It returns the entries still to commit once this process
// holds the lease (handed over, or found free), none when every entry
// was answered, and an error when Scratch fails or no holder took them in
// time, for the caller to commit them itself.
func (l *Log) await(ctx context.Context, tl *tenantLog, batch []*waiter) ([]*waiter, error) {
	sc := l.cfg.Scratch
	key := fmt.Sprintf("%s%s-%d.json", tl.pendingPrefix(), l.process, l.pending.Add(1))
	write := func(batch []*waiter) error {
		p := pendingBody{Process: l.process, Entries: make([]storedEntry, len(batch))}
		for i, w := range batch {
			p.Entries[i] = storedEntry{ID: w.entry.ID, Record: w.entry.Record}
		}
		data, err := json.Marshal(p)
		if err == nil {
			err = sc.Put(ctx, key, data)
		}
		if err != nil {
			return fmt.Errorf("ledger: leave pending entries: %w", err)
		}
		return nil
	}
	if err := write(batch); err != nil {
		return batch, err
	}
	held := func() ([]*waiter, error) {
		tl.lease.own = append(tl.lease.own, key)
		return batch, nil
	}
	// The lease may have been released since it was read (letGo).
	if ok, err := l.takeLease(ctx, tl); err == nil && ok {
		return held()
	}
	checkLease := time.Now().Add(l.cfg.Sequencing.LeaseTTL / 4)
	// A lease is only a saving: entries no holder took for three TTLs
	// (a holder that cannot reach storage, or someone writing the lease
	// over and over) are committed by this process itself, racing for
	// positions as without a lease; whoever commits them second finds
	// them in the log.
	deadline := time.Now().Add(3 * l.cfg.Sequencing.LeaseTTL)
	// The holder's round under way ends in about a round (and may hand
	// the lease here); the entries are in its next: the first look after
	// a round, then every half round, so that waiting costs a few reads
	// whatever the pace.
	wait := max(l.cfg.Sequencing.Poll, tl.lease.round)
	for time.Now().Before(deadline) {
		time.Sleep(wait)
		wait = max(l.cfg.Sequencing.Poll, tl.lease.round/2)
		data, _, found, err := sc.Get(ctx, key)
		switch {
		case err != nil:
			continue
		case !found:
			// Committed, or deleted by someone else: the Keeper knows.
			if batch = l.answered(ctx, tl, batch); len(batch) == 0 {
				return nil, nil
			}
			if err := write(batch); err != nil {
				return batch, err
			}
			continue
		}
		var p pendingBody
		if json.Unmarshal(data, &p) == nil && p.Lease != "" && p.Process == l.process {
			tl.lease.tag, tl.lease.wrote = p.Lease, time.Now()
			tl.lease.seen = ""
			l.startFromLease(ctx, tl)
			return held()
		}
		if time.Now().After(checkLease) {
			if ok, err := l.takeLease(ctx, tl); err == nil && ok {
				return held()
			}
			checkLease = time.Now().Add(l.cfg.Sequencing.LeaseTTL / 4)
		}
	}
	defer func() {
		if err := sc.Delete(ctx, []string{key}); err != nil {
			l.log.WarnContext(ctx, "ledger: delete pending entries", "log", tl.origin, "err", err)
		}
	}()
	return batch, fmt.Errorf("%w: %s: no holder of the lease took the entries within %s", ErrContended, tl.origin, 3*l.cfg.Sequencing.LeaseTTL)
}

// startFromLease reads the head the lease handed over names.
func (l *Log) startFromLease(ctx context.Context, tl *tenantLog) {
	data, _, found, err := l.cfg.Scratch.Get(ctx, tl.leaseKey())
	var lb leaseBody
	if err == nil && found && json.Unmarshal(data, &lb) == nil {
		l.startFrom(ctx, tl, lb.Head)
	}
}

// answered delivers each waiter of batch whose entry the Keeper has, at
// or after its position, and returns the others.
func (l *Log) answered(ctx context.Context, tl *tenantLog, batch []*waiter) []*waiter {
	var left []*waiter
	for _, w := range batch {
		out, found, err := l.kept(ctx, tl, w.entry.ID)
		switch {
		case err != nil:
			tl.deliver(w, nil, err)
		case found && out.Index >= w.from:
			tl.deliver(w, out, nil)
		default:
			left = append(left, w)
		}
	}
	return left
}

// pendingObject is one pending object a holder read, and the waiters
// standing in for its entries.
type pendingObject struct {
	key     string
	waiters []*waiter
}

// collect reads the entries other processes left, at most room of them
// (a round holds at most MaxBatch), each checked as input: its record
// must be admitted, name its id and give its leaf. Where they must not
// already be is not taken from them: every position is looked at
// (dropIntegrated), since a pending object is anyone's to write. Objects
// left out for room wait for the next round.
func (l *Log) collect(ctx context.Context, tl *tenantLog, room int) (remote []*waiter, objects []pendingObject, others bool) {
	for _, own := range tl.lease.own {
		objects = append(objects, pendingObject{key: own})
	}
	tl.lease.own = nil
	if room <= 0 {
		return nil, objects, true
	}
	keys, err := l.cfg.Scratch.List(ctx, tl.pendingPrefix())
	if err != nil {
		l.log.WarnContext(ctx, "ledger: list pending entries", "log", tl.origin, "err", err)
		return nil, objects, false
	}
	mine := tl.pendingPrefix() + l.process + "-"
	var theirs []pendingObject
	for _, key := range keys {
		if !strings.HasPrefix(key, mine) && len(theirs) < room {
			theirs = append(theirs, pendingObject{key: key})
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range theirs {
		g.Go(func() error {
			theirs[i].waiters = l.readPending(gctx, tl, theirs[i].key)
			return nil
		})
	}
	g.Wait()
	for _, o := range theirs {
		if len(remote)+len(o.waiters) > room && len(remote) > 0 {
			continue // the next round's
		}
		if len(o.waiters) > room {
			// More than a batch: no process leaves that many.
			l.log.WarnContext(ctx, "ledger: a pending object with more entries than a commit holds; not appended", "log", tl.origin, "key", o.key, "entries", len(o.waiters))
			o.waiters = nil
		}
		remote = append(remote, o.waiters...)
		objects = append(objects, o)
	}
	return remote, objects, len(theirs) > 0
}

// readPending reads one pending object into waiters; what does not pass is
// logged and left out (and the object deleted with the others).
func (l *Log) readPending(ctx context.Context, tl *tenantLog, key string) []*waiter {
	data, _, found, err := l.cfg.Scratch.Get(ctx, key)
	if err != nil || !found {
		return nil
	}
	var p pendingBody
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		l.log.WarnContext(ctx, "ledger: a pending object that does not parse; not appended", "log", tl.origin, "key", key, "err", err)
		return nil
	}
	var out []*waiter
	for _, e := range p.Entries {
		leaf, err := l.admit(ctx, tl, e)
		if err != nil {
			l.log.WarnContext(ctx, "ledger: a pending entry the log does not admit; not appended", "log", tl.origin, "key", key, "id", e.ID, "err", err)
			continue
		}
		out = append(out, &waiter{entry: Entry{ID: e.ID, Leaf: leaf, Record: e.Record}, leaf: LeafHash(leaf), done: make(chan struct{})})
	}
	return out
}

// admit checks an entry read from Scratch and returns its leaf.
func (l *Log) admit(ctx context.Context, tl *tenantLog, e storedEntry) ([]byte, error) {
	if e.ID == "" {
		return nil, errors.New("no id")
	}
	if l.cfg.Admit == nil {
		return nil, errors.New("the log admits no entries from other processes (no Config.Admit)")
	}
	if err := l.cfg.Admit(ctx, tl.tenant, e.Record); err != nil {
		return nil, err
	}
	if l.cfg.ID != nil {
		if id, err := l.cfg.ID(e.Record); err != nil || id != e.ID {
			return nil, fmt.Errorf("its record names %q (%v)", id, err)
		}
	}
	return l.cfg.Leaf(e.Record)
}

// clear deletes the pending objects whose entries are all answered
// without error: committed, found in the log, or not admitted. One with a
// failed entry stays for the next round.
func (l *Log) clear(ctx context.Context, tl *tenantLog, objects []pendingObject) {
	var keys []string
	for _, o := range objects {
		ok := true
		for _, w := range o.waiters {
			<-w.done
			ok = ok && w.err == nil
		}
		if !ok {
			// Kept for the next round, but not for ever: entries that fail
			// round after round (someone else's, whose place the Keeper
			// cannot prove) would cost every round their reads. Their
			// process, if it is waiting, leaves them again.
			if tl.lease.failed == nil {
				tl.lease.failed = map[string]int{}
			}
			if tl.lease.failed[o.key]++; tl.lease.failed[o.key] < maxPendingFailures {
				continue
			}
			l.log.WarnContext(ctx, "ledger: pending entries that failed in every round; deleted", "log", tl.origin, "key", o.key)
		}
		delete(tl.lease.failed, o.key)
		keys = append(keys, o.key)
	}
	if len(keys) == 0 {
		return
	}
	if err := l.cfg.Scratch.Delete(ctx, keys); err != nil {
		l.log.WarnContext(ctx, "ledger: delete pending entries", "log", tl.origin, "err", err)
	}
}

// maxPendingFailures is how many rounds a pending object may fail in.
const maxPendingFailures = 3
