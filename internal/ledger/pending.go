package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// Pending entries (sequence.go): what a process leaves for the lease's
// holder and waits on, and what the holder reads of them.

// pendingBody is a pending object: one process's entries waiting for the
// holder.
type pendingBody struct {
	Process string        `json:"process"`
	Entries []storedEntry `json:"entries"`
	// Lease is set by a holder handing the lease to this process: the
	// tag of the lease it wrote naming it.
	Lease string `json:"lease,omitempty"`
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
		switch {
		case len(o.waiters) > l.cfg.MaxBatch:
			// More than a batch: no process leaves that many. Refused,
			// and deleted with the others.
			l.log.WarnContext(ctx, "ledger: a pending object with more entries than a commit holds; not appended", "log", tl.origin, "key", o.key, "entries", len(o.waiters))
			o.waiters = nil
		case len(remote)+len(o.waiters) > room:
			continue // the next round's
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
