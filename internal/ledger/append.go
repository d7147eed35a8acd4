package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Entry is one entry to append.
type Entry struct {
	// ID names the entry: Append adds no second entry of an id at or
	// after the position it is given.
	ID string
	// Leaf is the data the tree commits to; it must be Config.Leaf(Record).
	Leaf []byte
	// Record is what the log keeps of the entry, verbatim, in the commit
	// that integrates it.
	Record json.RawMessage
}

// Appended is an entry integrated into the log: where it sits, and the
// record the log keeps for its id.
type Appended struct {
	ID string
	// Proof has the entry's index, the signed checkpoint of the commit
	// that integrated it and the inclusion proof to that checkpoint: the
	// same for every append of the same id.
	Proof
	// Record is the record of the first append of the id, which is the
	// one in the log: a retried append gets the record it was first
	// given back, not its own.
	Record json.RawMessage
}

// waiter is one append waiting for its commit.
type waiter struct {
	entry Entry
	leaf  tlog.Hash
	from  int64
	done  chan struct{}
	lead  chan struct{} // receives when this waiter is to lead the next round
	gone  bool          // its caller stopped waiting; guarded by tenantLog.mu

	// twins are later appends of the same id in the same round (from
	// other processes): they get this one's answer.
	twins []*waiter

	out *Appended
	err error
}

// roundTimeout bounds one commit round, which runs on behalf of every
// waiting append and so does not end when its leader's caller gives up.
const roundTimeout = time.Minute

// Size returns a size the tenant's log has reached: the head this process
// last saw, loaded on first use. An entry appended after the call lands at
// an index of at least Size, so that it is the position to give Append
// for an entry that did not exist before the call.
func (l *Log) Size(ctx context.Context, tenant string) (int64, error) {
	tl, err := l.tenant(tenant)
	if err != nil {
		return 0, err
	}
	if n := tl.size.Load(); n >= 0 {
		return n, nil
	}
	tl.stateMu.Lock()
	defer tl.stateMu.Unlock()
	if err := l.refresh(ctx, tl, false); err != nil {
		return 0, err
	}
	return tl.head.cp.Size, nil
}

// Append adds an entry to the tenant's log and returns where it sits. It
// returns only once the entry is integrated: its commit is stored and
// finished (its tiles written, the Keeper given its entries, the
// checkpoint written).
//
// from is a position at or before which the entry cannot be in the log: a
// Size read before the entry existed, or kept from then. If the log holds
// an entry of the same id at from or later, nothing is appended and that
// entry is returned. Entries before from are not looked at.
//
// Appends within a process are batched: the first waiting append leads a
// round that commits every entry queued by then, and hands the lead to a
// waiting append when done (group commit). Rounds of different processes
// race for the next position with a conditional write; the loser reads the
// winner's commit and tries again after it.
func (l *Log) Append(ctx context.Context, tenant string, e Entry, from int64) (*Appended, error) {
	if l.signer == nil {
		return nil, ErrReadOnly
	}
	if !l.rounds.start() {
		return nil, ErrClosed
	}
	defer l.rounds.end()
	if e.ID == "" {
		return nil, errors.New("ledger: append an entry without an id")
	}
	if l.cfg.ID != nil {
		if id, err := l.cfg.ID(e.Record); err != nil || id != e.ID {
			return nil, fmt.Errorf("ledger: append entry %q whose record names %q (%v)", e.ID, id, err)
		}
	}
	tl, err := l.tenant(tenant)
	if err != nil {
		return nil, err
	}
	w := &waiter{entry: e, leaf: LeafHash(e.Leaf), from: from, done: make(chan struct{}), lead: make(chan struct{}, 1)}

	tl.mu.Lock()
	if other, ok := tl.inflight[e.ID]; ok {
		// The same entry, already on its way: its answer is this one's.
		tl.mu.Unlock()
		select {
		case <-other.done:
			return other.out, other.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	tl.inflight[e.ID] = w
	tl.queue = append(tl.queue, w)
	lead := !tl.leading
	tl.leading = true
	tl.mu.Unlock()

	// Rounds run beside the caller, which waits for its answer and for
	// the rounds it leads to end (so that a Lambda instance lets go of
	// the lease before it answers), or for its deadline: a round serves
	// every waiting append, and a caller whose deadline passes answers
	// then, not when the round ends.
	var led chan struct{}
	leading := func() {
		led = make(chan struct{})
		l.rounds.add()
		go func(led chan struct{}) { defer l.rounds.end(); l.lead(ctx, tl); close(led) }(led)
	}
	if lead {
		leading()
	}
	for {
		select {
		case <-w.done:
			if led != nil {
				select {
				case <-led:
				case <-ctx.Done():
				}
			}
			return w.out, w.err
		case <-w.lead:
			leading()
		case <-ctx.Done():
			tl.mu.Lock()
			w.gone = true
			select {
			case <-w.lead: // chosen to lead as it left: pass it on
				l.rounds.add()
				go func() { defer l.rounds.end(); l.lead(ctx, tl) }()
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
			l.sequence(rctx, tl, batch)
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

// deliver answers one waiter, and its twins.
func (tl *tenantLog) deliver(w *waiter, out *Appended, err error) {
	w.out, w.err = out, err
	tl.mu.Lock()
	if tl.inflight[w.entry.ID] == w {
		delete(tl.inflight, w.entry.ID)
	}
	tl.mu.Unlock()
	close(w.done)
	for _, t := range w.twins {
		tl.deliver(t, out, err)
	}
}

// single keeps the first waiter of each id in batch and makes the others
// its twins: appends of one id from several processes (a complete and the
// storage event's seal) meet in one round.
func single(batch []*waiter) []*waiter {
	first := make(map[string]*waiter, len(batch))
	out := batch[:0:0]
	for _, w := range batch {
		if f, ok := first[w.entry.ID]; ok {
			f.twins = append(f.twins, w)
			f.from = min(f.from, w.from)
			continue
		}
		first[w.entry.ID] = w
		out = append(out, w)
	}
	return out
}
