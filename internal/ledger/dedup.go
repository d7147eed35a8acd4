package ledger

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
	"golang.org/x/sync/errgroup"
)

// An id is appended at most once after the position its append names.
// Positions, not clocks: a process remembers the ids of consecutive
// commits, from where it first saw the log to its head, and asks the
// Keeper about appends whose position lies before that.

// maxSeenEntries bounds the ids a process remembers.
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
// or after their positions, and answers them with where they sit. Every
// commit from a process's first sight of the log on is in its memory; the
// log can hold an entry elsewhere only in an older commit, which is
// finished, so that the Keeper has it.
func (l *Log) dropIntegrated(ctx context.Context, tl *tenantLog, batch []*waiter) ([]*waiter, error) {
	ask := make([]bool, len(batch))
	for i, w := range batch {
		_, _, inMemory := find(tl.seen.commits, w.entry.ID, w.from)
		ask[i] = inMemory || w.from < tl.seen.from
	}
	// The Keeper is asked about all of them at once: entries other
	// processes left are asked about from position 0.
	type answer struct {
		out   *Appended
		found bool
		err   error
	}
	answers := make([]answer, len(batch))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, w := range batch {
		if ask[i] {
			g.Go(func() error {
				a := &answers[i]
				a.out, a.found, a.err = l.kept(gctx, tl, w.entry.ID)
				return nil
			})
		}
	}
	g.Wait()
	keep := batch[:0:0]
	for i, w := range batch {
		if !ask[i] {
			keep = append(keep, w)
			continue
		}
		c, index, inMemory := find(tl.seen.commits, w.entry.ID, w.from)
		switch a := answers[i]; {
		case a.err != nil:
			tl.deliver(w, nil, a.err)
		case a.found && a.out.Index >= w.from:
			tl.deliver(w, a.out, nil)
		case inMemory:
			// The Keeper lost it: answer from the commit itself.
			out, err := l.integrated(ctx, tl, c.start, index)
			tl.deliver(w, out, err)
		default:
			keep = append(keep, w)
		}
	}
	return keep, nil
}

// kept asks the Keeper where entry id sits, and checks the answers: a
// record must be the leaf the signed checkpoint holds at its index. One
// that does not verify was written by someone else and is passed over; if
// none verifies, the entry is not appended again, and the error says why.
func (l *Log) kept(ctx context.Context, tl *tenantLog, id string) (*Appended, bool, error) {
	if l.cfg.Keeper == nil {
		return nil, false, nil
	}
	keys, err := tl.keys.get(ctx, false)
	if err != nil {
		return nil, false, err
	}
	if lk, ok := l.cfg.Keeper.(LatestKeeper); ok {
		a, err := lk.Latest(ctx, tl.tenant, id)
		if err != nil || a == nil {
			return nil, false, err
		}
		if l.placeOf(a, id, tl.origin, keys) == nil {
			return a, true, nil
		}
	}
	candidates, err := l.cfg.Keeper.Kept(ctx, tl.tenant, id)
	if err != nil || len(candidates) == 0 {
		return nil, false, err
	}
	var first error
	for refreshed := false; ; refreshed = true {
		for _, a := range candidates {
			lerr := l.placeOf(a, id, tl.origin, keys)
			if lerr == nil {
				return a, true, nil
			}
			if first == nil {
				first = lerr
			}
		}
		if refreshed || !errors.Is(first, ErrInvalid) {
			break
		}
		// The keys may have rotated since they were read.
		if keys, err = tl.keys.get(ctx, true); err != nil {
			return nil, false, err
		}
	}
	// Appending again would put the id in the log twice: refuse, and say
	// why.
	return nil, false, fmt.Errorf("%w: what is kept for entry %s of log %s is not its place in the log (%v)", ErrInvalid, id, tl.origin, first)
}

// placeOf checks one kept record of entry id.
func (l *Log) placeOf(a *Appended, id, origin string, keys []*ecdsa.PublicKey) error {
	if a.ID != id || a.Origin != origin {
		return fmt.Errorf("%w: it names entry %s of log %s", ErrInvalid, a.ID, a.Origin)
	}
	leaf, err := l.cfg.Leaf(a.Record)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	_, err = VerifyProof(leaf, &a.Proof, keys)
	return err
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
	var c *commit
	var leaves []tlog.Hash
	data, _, err := l.commitVersion(ctx, tl, pos, func(data []byte, several bool) (o opened, err error) {
		if c, leaves, err = l.parseCommit(data, pos); err != nil {
			return o, err
		}
		cp, err := l.open(ctx, tl, []byte(c.Checkpoint))
		if err == nil && cp.Size != c.Size {
			err = fmt.Errorf("%w: commit at %d signs a tree of %d entries, not %d", ErrInvalid, pos, cp.Size, c.Size)
		}
		if err == nil && several {
			err = l.holds(ctx, tl, pos, leaves, cp)
		}
		return opened{cp: cp, signed: c.Checkpoint}, err
	})
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("ledger: read commit at %d: %w", pos, err)
	case data == nil:
		return nil, nil, fmt.Errorf("%w: log %s has no commit at %d", ErrInvalid, tl.origin, pos)
	}
	return c, leaves, nil
}
