package ledger

import (
	"context"
	"fmt"
	"sync"
)

// rounds counts the appends in progress and the commit rounds they run
// beside their callers (which may have left), so that Close waits for
// all of them and admits no new append.
type rounds struct {
	mu      sync.Mutex
	n       int
	closed  bool
	drained chan struct{} // closed when n reaches 0 after Close
}

// start admits an append, unless the Log is closed.
func (r *rounds) start() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.n++
	return true
}

// add counts a round started by an admitted append (so never after n
// has dropped to 0 while closed).
func (r *rounds) add() {
	r.mu.Lock()
	r.n++
	r.mu.Unlock()
}

func (r *rounds) end() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n--
	if r.n == 0 && r.drained != nil {
		close(r.drained)
		r.drained = nil
	}
}

func (r *rounds) closing() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// close refuses new appends and returns a channel closed once the
// running ones and their rounds have ended.
func (r *rounds) close() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	done := make(chan struct{})
	if r.n == 0 {
		close(done)
	} else {
		r.drained = done
	}
	return done
}

// Close ends the Log's work behind its callers: it refuses new appends
// (ErrClosed), waits for those running and the rounds they run (a caller
// that left leaves its round running), lets go now of every lease kept
// for Linger, handing it on to a waiting process instead of leaving it
// for LeaseTTL, and waits for the head hints; or until ctx ends. A
// stopping process calls it last: after it, nothing of the Log runs.
func (l *Log) Close(ctx context.Context) error {
	select {
	case <-l.rounds.close():
	case <-ctx.Done():
		return fmt.Errorf("ledger: close: appends still running: %w", ctx.Err())
	}
	l.mu.Lock()
	tls := make([]*tenantLog, 0, len(l.tenants))
	for _, tl := range l.tenants {
		tls = append(tls, tl)
	}
	l.mu.Unlock()
	for _, tl := range tls {
		tl.mu.Lock()
		idle := tl.idle
		tl.mu.Unlock()
		if idle.timer == nil {
			continue
		}
		if idle.timer.Stop() {
			go idle.run()
		}
		select {
		case <-idle.done:
		case <-ctx.Done():
			return fmt.Errorf("ledger: close: releasing a lease: %w", ctx.Err())
		}
	}
	return l.Flush(ctx)
}
