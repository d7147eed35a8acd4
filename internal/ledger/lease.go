package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"
)

// The sequencer's lease (sequence.go): taken, written again while its
// holder commits, released or handed to a waiting process.

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
		// A pace for polls, from an object anyone can write: never
		// slower than a third of the TTL.
		tl.lease.round = min(max(time.Duration(lb.RoundMicros)*time.Microsecond, 0), l.cfg.Sequencing.LeaseTTL/3)
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

// startFromLease reads the head the lease handed over names.
func (l *Log) startFromLease(ctx context.Context, tl *tenantLog) {
	data, _, found, err := l.cfg.Scratch.Get(ctx, tl.leaseKey())
	var lb leaseBody
	if err == nil && found && json.Unmarshal(data, &lb) == nil {
		l.startFrom(ctx, tl, lb.Head)
	}
}
