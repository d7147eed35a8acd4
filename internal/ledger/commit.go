package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"
	"golang.org/x/sync/errgroup"
)

// commit is one batch of entries appended at position Start: the object
// log/{Start} whose conditional creation decides the order of the log. It
// carries the signed checkpoint of the tree it produces.
type commit struct {
	Start      int64         `json:"start"`
	Size       int64         `json:"size"`
	Time       time.Time     `json:"time"`
	Entries    []storedEntry `json:"entries"`
	Checkpoint string        `json:"checkpoint"`
}

// storedEntry is an entry as its commit keeps it. The record's JSON name
// is "envelope", the name logs have used since their first commit, when
// every record was a receipt's DSSE envelope; any JSON record goes there.
type storedEntry struct {
	ID     string          `json:"id"`
	Record json.RawMessage `json:"envelope"`
}

// maxRounds bounds how often one batch is retried after other processes'
// commits took its position.
const maxRounds = 100

// round commits one batch: it finds the head, drops entries already in the
// log, computes the new tree and races for the next position.
func (l *Log) round(ctx context.Context, tl *tenantLog, batch []*waiter) {
	tl.stateMu.Lock()
	defer tl.stateMu.Unlock()
	batch = single(batch)
	fail := func(err error) {
		for _, w := range batch {
			tl.deliver(w, nil, err)
		}
	}
	for range maxRounds {
		if err := l.refresh(ctx, tl, false); err != nil {
			fail(err)
			return
		}
		if tl.damaged != nil {
			fail(tl.damaged)
			return
		}
		kept, err := l.dropIntegrated(ctx, tl, batch)
		if err != nil {
			fail(err)
			return
		}
		if batch = kept; len(batch) == 0 {
			return
		}
		// S3 takes a delete marker for no object: a commit hidden under
		// one does not stop the conditional creation below, and this
		// process, its head stale, would sign a second tree of a size
		// the log has signed. So the position must hold no version at
		// all; if it does, the commits are read again (every version).
		if n, err := l.versionsAt(ctx, tl, tl.head.cp.Size); err != nil {
			fail(err)
			return
		} else if n > 0 {
			if err := l.refresh(ctx, tl, true); err != nil {
				fail(err)
				return
			}
			continue
		}
		next, hashes, c, err := l.build(ctx, tl, batch)
		if err != nil {
			fail(err)
			return
		}
		body, err := json.Marshal(c)
		if err != nil {
			fail(fmt.Errorf("ledger: encode commit: %w", err))
			return
		}
		created, err := l.store.Create(ctx, tl.commitKey(c.Start), body)
		if err != nil {
			fail(fmt.Errorf("ledger: write commit at %d: %w", c.Start, err))
			return
		}
		if n, err := l.versionsAt(ctx, tl, c.Start); !created || err != nil || n != 1 {
			// Another process took the position: read its commit and
			// try again after it. (Or one hidden under a delete marker
			// took it just before this one was created, or that cannot
			// be told: the log's is then the one its checkpoints hold,
			// and entries of this one the log does not hold are
			// appended again.)
			if err := l.refresh(ctx, tl, true); err != nil {
				fail(err)
				return
			}
			continue
		}
		outs, err := l.finish(ctx, tl, tl.head, c, hashes)
		if err != nil {
			fail(err)
			return
		}
		tl.advanceTo(next, c)
		// Every commit moves the head hint, so that a process starting
		// cold reads one commit, not every commit since an older hint;
		// the appends need not wait for it.
		l.moveHead(tl, next)
		for i, w := range batch {
			tl.deliver(w, outs[i], nil)
		}
		return
	}
	fail(fmt.Errorf("%w: %s, for %d rounds", ErrContended, tl.origin, maxRounds))
}

// versionsAt returns how many versions the commit position start holds.
func (l *Log) versionsAt(ctx context.Context, tl *tenantLog, start int64) (int, error) {
	n, err := l.store.VersionCount(ctx, tl.commitKey(start))
	if err != nil {
		return 0, fmt.Errorf("ledger: read versions of %s: %w", tl.commitKey(start), err)
	}
	return n, nil
}

// appended is the answer for entry index of commit c, proven from r, a
// reader of the tree c produced.
func appended(origin string, c *commit, index int64, r tlog.HashReader) (*Appended, error) {
	proof, err := tlog.ProveRecord(c.Size, index, r)
	if err != nil {
		return nil, fmt.Errorf("ledger: prove entry %d: %w", index, err)
	}
	e := c.Entries[index-c.Start]
	return &Appended{
		ID:     e.ID,
		Proof:  Proof{Origin: origin, Index: index, Checkpoint: c.Checkpoint, Inclusion: Hashes(proof)},
		Record: e.Record,
	}, nil
}

// build signs the commit that appends batch to the head.
func (l *Log) build(ctx context.Context, tl *tenantLog, batch []*waiter) (*state, map[int64]tlog.Hash, *commit, error) {
	prev := tl.head
	leaves := make([]tlog.Hash, len(batch))
	entries := make([]storedEntry, len(batch))
	for i, w := range batch {
		leaves[i], entries[i] = w.leaf, storedEntry{ID: w.entry.ID, Record: w.entry.Record}
	}
	hashes, root, err := l.extend(ctx, tl, prev, leaves)
	if err != nil {
		return nil, nil, nil, err
	}
	cp := Checkpoint{Origin: tl.origin, Size: prev.cp.Size + int64(len(batch)), Hash: root}
	signed, err := SignCheckpoint(ctx, l.signer, cp)
	if err != nil {
		return nil, nil, nil, err
	}
	c := &commit{Start: prev.cp.Size, Size: cp.Size, Time: l.cfg.Now().UTC(), Entries: entries, Checkpoint: string(signed)}
	return &state{cp: cp, signed: string(signed), start: c.Start}, hashes, c, nil
}

// finish writes what a commit implies, each write idempotent: the tiles of
// its hashes and, given to the Keeper, what the caller keeps of its entries,
// at once; then, last, the checkpoint object, whose presence marks the
// commit finished. A commit is finished before the next one is built, so
// that at most the newest commit is ever unfinished. It returns where each
// entry sits.
func (l *Log) finish(ctx context.Context, tl *tenantLog, prev *state, c *commit, hashes map[int64]tlog.Hash) ([]*Appended, error) {
	r := l.reader(ctx, tl, prev)
	r.extra = hashes
	outs := make([]*Appended, len(c.Entries))
	for i := range c.Entries {
		var err error
		if outs[i], err = appended(tl.origin, c, c.Start+int64(i), r); err != nil {
			return nil, err
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, tile := range tlog.NewTiles(TileHeight, c.Start, c.Size) {
		data, err := tlog.ReadTileData(tile, r)
		if err != nil {
			return nil, fmt.Errorf("ledger: tile %s: %w", tile.Path(), err)
		}
		g.Go(func() error {
			if err := createOrSupersede(gctx, l.store, tl.prefix+tile.Path(), data, l.log); err != nil {
				return fmt.Errorf("ledger: write tile %s: %w", tile.Path(), err)
			}
			tl.tiles.put(tile, data)
			return nil
		})
	}
	if l.cfg.Keeper != nil {
		g.Go(func() error { return l.cfg.Keeper.Keep(gctx, tl.tenant, outs) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := createOrSupersede(ctx, l.store, tl.checkpointKey(c.Size), []byte(c.Checkpoint), l.log); err != nil {
		return nil, fmt.Errorf("ledger: write checkpoint %d: %w", c.Size, err)
	}
	return outs, nil
}

// openCommit checks a stored commit against the state it must extend and
// recomputes the tree it claims; it returns the new state and the stored
// hashes of its entries.
func (l *Log) openCommit(ctx context.Context, tl *tenantLog, prev *state, data []byte) (*state, *commit, map[int64]tlog.Hash, error) {
	c, leaves, err := l.parseCommit(data, prev.cp.Size)
	if err != nil {
		return nil, nil, nil, err
	}
	hashes, root, err := l.extend(ctx, tl, prev, leaves)
	if err != nil {
		return nil, nil, nil, err
	}
	cp, err := l.open(ctx, tl, []byte(c.Checkpoint))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("commit at %d: %w", c.Start, err)
	}
	if cp.Size != c.Size || cp.Hash != root {
		return nil, nil, nil, fmt.Errorf("%w: commit at %d: its checkpoint (size %d) is not the tree of its entries", ErrInvalid, c.Start, cp.Size)
	}
	return &state{cp: cp, signed: c.Checkpoint, start: c.Start}, c, hashes, nil
}

// parseCommit reads the commit stored at position start and the leaf
// hashes of its entries.
func (l *Log) parseCommit(data []byte, start int64) (*commit, []tlog.Hash, error) {
	var c commit
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, nil, fmt.Errorf("%w: commit at %d: %v", ErrMalformed, start, err)
	}
	if c.Start != start || c.Size != c.Start+int64(len(c.Entries)) || len(c.Entries) == 0 {
		return nil, nil, fmt.Errorf("%w: commit at %d claims entries %d to %d with %d entries", ErrInvalid, start, c.Start, c.Size, len(c.Entries))
	}
	leaves := make([]tlog.Hash, len(c.Entries))
	for i, e := range c.Entries {
		leaf, err := l.cfg.Leaf(e.Record)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: entry %d: %v", ErrMalformed, c.Start+int64(i), err)
		}
		leaves[i] = LeafHash(leaf)
		if l.cfg.ID != nil {
			if id, err := l.cfg.ID(e.Record); err != nil || id != e.ID {
				return nil, nil, fmt.Errorf("%w: entry %d is stored as %q, but its record names %q (%v)", ErrInvalid, c.Start+int64(i), e.ID, id, err)
			}
		}
	}
	return &c, leaves, nil
}
