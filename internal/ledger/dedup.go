package ledger

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// An id is appended at most once after the position its append names.
// Positions, not clocks: a process remembers the ids of consecutive
// commits, from where it first saw the log to its head, reading back
// further only for an append whose position lies before that.

// maxSeenEntries bounds the ids a process remembers; appends that name an
// older position read the commits back from storage.
const maxSeenEntries = 1 << 16

// seenCommit is one commit's ids and where they sit.
type seenCommit struct {
	start, size int64
	ids         map[string]int64 // id -> index
}

// seenCommits are consecutive commits this process has read or written,
// covering the log from position from to its head.
type seenCommits struct {
	from    int64
	commits []seenCommit
	entries int
}

func (s *seenCommits) reset(size int64) { *s = seenCommits{from: size} }

func (s *seenCommits) end() int64 {
	if len(s.commits) == 0 {
		return s.from
	}
	return s.commits[len(s.commits)-1].size
}

// add remembers the commit that follows the covered range.
func (s *seenCommits) add(c *commit) {
	if c.Start != s.end() {
		s.reset(c.Start) // not contiguous: start over from it
	}
	s.commits = append(s.commits, idsOf(c))
	s.entries += len(c.Entries)
	for s.entries > maxSeenEntries && len(s.commits) > 1 {
		s.entries -= len(s.commits[0].ids)
		s.from = s.commits[0].size
		s.commits = s.commits[1:]
	}
}

func idsOf(c *commit) seenCommit {
	sc := seenCommit{start: c.Start, size: c.Size, ids: make(map[string]int64, len(c.Entries))}
	for i, e := range c.Entries {
		sc.ids[e.ID] = c.Start + int64(i)
	}
	return sc
}

// find returns the commit and index of id among commits, at from or later.
func find(commits []seenCommit, id string, from int64) (seenCommit, int64, bool) {
	for _, c := range commits {
		if c.size <= from {
			continue
		}
		if i, ok := c.ids[id]; ok && i >= from {
			return c, i, true
		}
	}
	return seenCommit{}, 0, false
}

// dropIntegrated removes from batch the entries the log already holds at
// or after their positions, and answers them with where they sit.
func (l *Log) dropIntegrated(ctx context.Context, tl *tenantLog, batch []*waiter) ([]*waiter, error) {
	low := tl.seen.from
	for _, w := range batch {
		low = min(low, max(w.from, 0))
	}
	var older []seenCommit
	if low < tl.seen.from {
		var err error
		if older, err = l.readBack(ctx, tl, low, tl.seen.from); err != nil {
			return nil, err
		}
	}
	keep := batch[:0:0]
	for _, w := range batch {
		c, index, ok := find(older, w.entry.ID, w.from)
		if !ok {
			c, index, ok = find(tl.seen.commits, w.entry.ID, w.from)
		}
		if !ok {
			keep = append(keep, w)
			continue
		}
		out, err := l.integrated(ctx, tl, c.start, index)
		if err == nil {
			w.place(out)
		}
		tl.deliver(w, out, err)
	}
	return keep, nil
}

// readBack reads the ids of the commits from position from up to to.
func (l *Log) readBack(ctx context.Context, tl *tenantLog, from, to int64) ([]seenCommit, error) {
	var out []seenCommit
	for pos := from; pos < to; {
		c, _, err := l.readCommit(ctx, tl, pos)
		if err != nil {
			return nil, err
		}
		out = append(out, idsOf(c))
		pos = c.Size
	}
	return out, nil
}

// integrated answers an append whose id the log holds at index, in the
// commit at start: the same answer the append that put it there got.
// Nothing read is trusted: the commit's checkpoint must verify, and the
// record must be the leaf the signed tree holds at index.
func (l *Log) integrated(ctx context.Context, tl *tenantLog, start, index int64) (*Appended, error) {
	c, leaves, err := l.readCommit(ctx, tl, start)
	if err != nil {
		return nil, err
	}
	cp, err := l.open(ctx, tl, []byte(c.Checkpoint))
	if err != nil {
		return nil, fmt.Errorf("commit at %d: %w", start, err)
	}
	if cp.Size != c.Size {
		return nil, fmt.Errorf("%w: commit at %d signs a tree of %d entries, not %d", ErrInvalid, start, cp.Size, c.Size)
	}
	out, err := appended(tl.origin, c, index, l.reader(ctx, tl, &state{cp: cp}))
	if err != nil {
		return nil, err
	}
	if err := tlog.CheckRecord(tlog.RecordProof(out.Inclusion), cp.Size, cp.Hash, index, leaves[index-start]); err != nil {
		return nil, fmt.Errorf("%w: entry %d of the commit at %d is not the tree's: %v", ErrInvalid, index, start, err)
	}
	return out, nil
}

// readCommit reads the commit that starts at pos, which must exist: pos is
// a size the log had.
func (l *Log) readCommit(ctx context.Context, tl *tenantLog, pos int64) (*commit, []tlog.Hash, error) {
	data, found, err := l.store.Get(ctx, tl.commitKey(pos))
	if err != nil {
		return nil, nil, fmt.Errorf("ledger: read commit at %d: %w", pos, err)
	}
	if !found {
		return nil, nil, fmt.Errorf("%w: log %s has no commit at %d", ErrInvalid, tl.origin, pos)
	}
	return l.parseCommit(data, pos)
}
