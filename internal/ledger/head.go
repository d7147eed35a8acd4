package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// headHint is where readers start looking for the newest commit. It is
// only a hint: readers verify its checkpoint, probe for later commits and
// verify what they find.
type headHint struct {
	Start      int64  `json:"start"`
	Size       int64  `json:"size"`
	Checkpoint string `json:"checkpoint"`
}

// refresh loads the head when this process has none, and with probe reads
// every commit after it, finishing those whose writers stopped half-way.
// The caller holds tl.stateMu.
func (l *Log) refresh(ctx context.Context, tl *tenantLog, probe bool) error {
	if tl.short != nil {
		return tl.short
	}
	if tl.head == nil {
		st, err := l.loadHead(ctx, tl)
		if err != nil {
			return err
		}
		tl.head = st
		tl.seen.reset(st.cp.Size)
		tl.size.Store(st.cp.Size)
		probe = true
	}
	for probe && tl.damaged == nil {
		key := tl.commitKey(tl.head.cp.Size)
		var next *state
		var c *commit
		var hashes map[int64]tlog.Hash
		data, refused, err := l.commitVersion(ctx, tl, tl.head.cp.Size, func(data []byte, _ bool) (opened, error) {
			var err error
			if next, c, hashes, err = l.openCommit(ctx, tl, tl.head, data); err != nil {
				return opened{}, err
			}
			return opened{cp: next.cp, signed: next.signed}, nil
		})
		switch {
		case err != nil && (errors.Is(err, ErrInvalid) || errors.Is(err, ErrMalformed) || errors.Is(err, ErrTampered)):
			// No version of the object at the next position is a commit
			// of this log: someone else's. The log as read ends before
			// it; it cannot grow until that is looked into.
			tl.damaged = &TamperedError{Key: key, Detail: err.Error()}
			l.log.ErrorContext(ctx, "ledger: the next position holds an object the log did not write", "log", tl.origin, "key", key, "err", err)
			return nil
		case err != nil:
			return fmt.Errorf("ledger: read commit at %d: %w", tl.head.cp.Size, err)
		case data == nil:
			if reach := tl.mustReach.Load(); tl.head.cp.Size < reach {
				// Versions of a commit disagreed and the log's was
				// chosen by its current key's checkpoint of size reach:
				// commits as read end before it. The head as read is
				// not the log's: neither served nor appended to.
				tl.short = &TamperedError{Key: key, Detail: fmt.Sprintf("the log's commits as read end at %d, before its checkpoint of size %d", tl.head.cp.Size, reach)}
				tl.damaged = tl.short
				l.log.ErrorContext(ctx, "ledger: the log as read ends before its newest checkpoint", "log", tl.origin, "size", tl.head.cp.Size, "checkpoint", reach)
				return tl.short
			}
			return nil
		case refused != nil:
			l.log.WarnContext(ctx, "ledger: a commit was written over; reading the log's own", "log", tl.origin, "key", key)
		}
		if errors.Is(refused, errByAnchor) {
			// The log's tree, in an object the log is not known to have
			// written: read, never finished from.
			tl.advanceTo(next, c)
			continue
		}
		if have, found, err := l.store.Get(ctx, tl.checkpointKey(c.Size)); err != nil {
			return fmt.Errorf("ledger: read checkpoint %d: %w", c.Size, err)
		} else if !found || !bytes.Equal(have, []byte(c.Checkpoint)) {
			// Unfinished, or an object someone put at that size before
			// the log reached it (finish writes the log's over it).
			l.log.WarnContext(ctx, "ledger: finishing a commit another writer left unfinished", "log", tl.origin, "start", c.Start, "size", c.Size)
			if _, err := l.finish(ctx, tl, tl.head, c, hashes); err != nil {
				return err
			}
			l.moveHead(tl, next)
		}
		tl.advanceTo(next, c)
	}
	return nil
}

// loadHead reads the head hint, or starts from the empty log. With a
// Scratch the hint lives there; a log that kept it in its store before
// (older vaults) is read from there until the first commit moves it.
func (l *Log) loadHead(ctx context.Context, tl *tenantLog) (*state, error) {
	empty := &state{cp: Checkpoint{Origin: tl.origin}}
	var data []byte
	var found bool
	var err error
	if l.cfg.Scratch != nil {
		if data, _, found, err = l.cfg.Scratch.Get(ctx, tl.headKey()); err != nil {
			l.log.WarnContext(ctx, "ledger: read head hint", "log", tl.origin, "err", err)
		}
	}
	if !found {
		if data, found, err = l.store.Get(ctx, tl.headKey()); err != nil {
			return nil, fmt.Errorf("ledger: read head: %w", err)
		}
	}
	if !found {
		return empty, nil
	}
	var h headHint
	if err := json.Unmarshal(data, &h); err != nil {
		l.log.WarnContext(ctx, "ledger: unreadable head hint; reading the log from its start", "log", tl.origin, "err", err)
		return empty, nil
	}
	st, err := l.openHint(ctx, tl, h)
	if err != nil {
		l.log.WarnContext(ctx, "ledger: head hint does not verify; reading the log from its start", "log", tl.origin, "err", err)
		return empty, nil
	}
	return st, nil
}

// openHint verifies a hint (the head hint, or the head a lease hands
// over) and returns the state it names.
func (l *Log) openHint(ctx context.Context, tl *tenantLog, h headHint) (*state, error) {
	cp, err := l.open(ctx, tl, []byte(h.Checkpoint))
	if err == nil && cp.Size != h.Size {
		err = fmt.Errorf("it claims size %d with a checkpoint of size %d", h.Size, cp.Size)
	}
	if err == nil {
		err = l.hintCommitted(ctx, tl, h)
	}
	if err == nil {
		err = l.hintFinished(ctx, tl, h)
	}
	if err != nil {
		return nil, err
	}
	return &state{cp: cp, signed: h.Checkpoint, start: h.Start}, nil
}

// hintFinished checks that the commit a hint names is finished: its
// checkpoint object is there. The log writes hints of finished commits
// only; one naming an unfinished commit (a crashed writer's) would have
// the next appends build on a commit nobody finishes, so it is refused,
// and the head read from before it, where refresh finishes it.
func (l *Log) hintFinished(ctx context.Context, tl *tenantLog, h headHint) error {
	key := tl.checkpointKey(h.Size)
	have, found, err := l.store.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("read the checkpoint of size %d: %v", h.Size, err)
	}
	if found && bytes.Equal(have, []byte(h.Checkpoint)) {
		return nil
	}
	// Every version when the newest is not the log's: someone may have
	// written over the checkpoint the log wrote.
	versions, err := l.store.Versions(ctx, key)
	if err != nil {
		return fmt.Errorf("read the checkpoint of size %d: %v", h.Size, err)
	}
	if slices.ContainsFunc(versions, func(v []byte) bool { return bytes.Equal(v, []byte(h.Checkpoint)) }) {
		return nil
	}
	return fmt.Errorf("the commit of size %d it names is not finished", h.Size)
}

// hintCommitted checks that a hint's checkpoint is one the log's current
// key signed, and one a commit stored where the hint says signed. A hint
// a retired key signed over a tree of its own, inside that key's span,
// opens; it is not the log's, and neither is the commit it names, however
// storage orders that commit's versions. A cold start then reads the log
// from its start.
func (l *Log) hintCommitted(ctx context.Context, tl *tenantLog, h headHint) error {
	if h.Start < 0 || h.Start >= h.Size {
		return fmt.Errorf("it says the commit of size %d starts at %d", h.Size, h.Start)
	}
	current, err := l.currentKeys(ctx, tl)
	if err != nil {
		return err
	}
	if _, err := OpenCheckpoint([]byte(h.Checkpoint), tl.origin, current); err != nil {
		return fmt.Errorf("its checkpoint is not the current key's: %v", err)
	}
	names := func(v []byte) bool {
		var c commit
		return json.Unmarshal(v, &c) == nil && c.Checkpoint == h.Checkpoint && c.Size == h.Size && c.Start == h.Start
	}
	// The newest version first, one read; every version only when it is
	// not the one (someone wrote over the commit).
	if v, found, err := l.store.Get(ctx, tl.commitKey(h.Start)); err == nil && found && names(v) {
		return nil
	}
	versions, err := l.store.Versions(ctx, tl.commitKey(h.Start))
	if err != nil {
		return fmt.Errorf("read the commit at %d: %v", h.Start, err)
	}
	if slices.ContainsFunc(versions, names) {
		return nil
	}
	return fmt.Errorf("no commit at %d signed its checkpoint", h.Start)
}

// headTimeout bounds one write of the head hint.
const headTimeout = 10 * time.Second

// headMover writes a tenant's head hint after commits without holding up
// their appends: one write at a time, always of the newest head, so that a
// burst of commits costs a few writes, and a hint never moves back.
type headMover struct {
	mu   sync.Mutex
	next *state
	busy bool
	idle chan struct{} // closed when the mover has nothing left to write
}

// moveHead schedules the head hint's move to next.
func (l *Log) moveHead(tl *tenantLog, next *state) {
	m := &tl.hint
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.next == nil || next.cp.Size > m.next.cp.Size {
		m.next = next
	}
	if m.busy {
		return
	}
	m.busy, m.idle = true, make(chan struct{})
	go func() {
		for {
			m.mu.Lock()
			st := m.next
			m.next = nil
			if st == nil {
				m.busy = false
				close(m.idle)
				m.mu.Unlock()
				return
			}
			m.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), headTimeout)
			l.writeHead(ctx, tl, st)
			cancel()
		}
	}()
}

// Flush waits until the head hints of every commit made so far by this
// Log are written, or ctx ends.
func (l *Log) Flush(ctx context.Context) error {
	l.mu.Lock()
	tls := make([]*tenantLog, 0, len(l.tenants))
	for _, tl := range l.tenants {
		tls = append(tls, tl)
	}
	l.mu.Unlock()
	for _, tl := range tls {
		tl.hint.mu.Lock()
		idle, busy := tl.hint.idle, tl.hint.busy
		tl.hint.mu.Unlock()
		if !busy {
			continue
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// writeHead records next as the place readers start from. A failure costs
// readers a few more reads, nothing else, so it is only logged.
func (l *Log) writeHead(ctx context.Context, tl *tenantLog, next *state) {
	body, err := json.Marshal(headHint{Start: next.start, Size: next.cp.Size, Checkpoint: next.signed})
	if err == nil && l.cfg.Scratch != nil {
		err = l.cfg.Scratch.Put(ctx, tl.headKey(), body)
	} else if err == nil {
		err = l.store.Put(ctx, tl.headKey(), body)
	}
	if err != nil {
		l.log.WarnContext(ctx, "ledger: write head hint", "log", tl.origin, "err", err)
	}
}
