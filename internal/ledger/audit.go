package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// Report is the outcome of an audit of one tenant's log.
type Report struct {
	Origin      string
	Size        int64
	Commits     int
	Checkpoints int
	// Problems names every inconsistency found, the first found first.
	Problems []string
}

// Checks are what the caller adds to an audit: what its entries mean.
// Either may be nil; each returns the problems it finds.
type Checks struct {
	// Entry checks an entry's record on its own, as the entry is read
	// (the vault: the receipt's signature).
	Entry func(context.Context, AuditEntry) []string
	// Kept checks what the caller keeps of an entry outside the log (the
	// vault: its stored receipt), once the entry's commit is checked.
	Kept func(context.Context, AuditEntry) []string
}

// AuditEntry is one entry as the audit read it from its commit.
type AuditEntry struct {
	Index  int64
	ID     string
	Record []byte
	Leaf   []byte
}

// memHashes holds every stored hash of the tree the audit recomputes.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("ledger: audit: hash %d not computed", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

// Audit walks a tenant's whole log from its first commit, recomputes the
// tree from the entries, and checks every stored object against it: each
// commit's signed checkpoint, the checkpoint objects, each tile, the
// consistency of each checkpoint with the next, that no id repeats, and
// that no commit or checkpoint exists outside the chain. checks are given
// each entry in order: what entries mean is the caller's to check. trusted are
// checkpoints an auditor kept from earlier; each must be consistent with
// the log as it is now.
func (l *Log) Audit(ctx context.Context, tenant string, checks Checks, trusted ...[]byte) (*Report, error) {
	tl, err := l.tenant(tenant)
	if err != nil {
		return nil, err
	}
	keys, err := tl.keys.get(ctx, true) // an audit reads every key afresh
	if err != nil {
		return nil, err
	}
	rep := &Report{Origin: tl.origin}
	bad := func(format string, args ...any) { rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...)) }

	var hashes memHashes
	var checkpoints []Checkpoint
	ids := map[string]int64{}
	commitKeys := map[string]bool{}
	for {
		key := tl.commitKey(rep.Size)
		data, found, err := l.store.Get(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("ledger: audit: %w", err)
		}
		if !found {
			break
		}
		commitKeys[key] = true
		var c commit
		if err := json.Unmarshal(data, &c); err != nil {
			bad("commit at %d is unreadable: %v", rep.Size, err)
			break
		}
		if c.Start != rep.Size || c.Size != c.Start+int64(len(c.Entries)) || len(c.Entries) == 0 {
			bad("commit at %d claims entries %d to %d but holds %d", rep.Size, c.Start, c.Size, len(c.Entries))
			break
		}
		entries := make([]AuditEntry, 0, len(c.Entries))
		for i, e := range c.Entries {
			index := c.Start + int64(i)
			leaf, err := l.cfg.Leaf(e.Record)
			if err != nil {
				bad("entry %d (%s) is unreadable: %v", index, e.ID, err)
			} else {
				entries = append(entries, AuditEntry{Index: index, ID: e.ID, Record: e.Record, Leaf: leaf})
				if checks.Entry != nil {
					rep.Problems = append(rep.Problems, checks.Entry(ctx, entries[len(entries)-1])...)
				}
			}
			if prev, dup := ids[e.ID]; dup {
				bad("entry %d repeats id %s, already entry %d", index, e.ID, prev)
			}
			ids[e.ID] = index
			hs, err := tlog.StoredHashes(index, leaf, hashes)
			if err != nil {
				return nil, fmt.Errorf("ledger: audit: hash entry %d: %w", index, err)
			}
			hashes = append(hashes, hs...)
		}
		root, err := tlog.TreeHash(c.Size, hashes)
		if err != nil {
			return nil, fmt.Errorf("ledger: audit: %w", err)
		}
		cp, err := OpenCheckpoint([]byte(c.Checkpoint), tl.origin, keys)
		switch {
		case err != nil:
			bad("commit at %d: %v", c.Start, err)
		case cp.Size != c.Size || cp.Hash != root:
			bad("commit at %d: signed checkpoint (size %d, root %s) is not the tree of the entries (size %d, root %s)", c.Start, cp.Size, cp.Hash, c.Size, root)
		}
		stored, found, err := l.store.Get(ctx, tl.checkpointKey(c.Size))
		switch {
		case err != nil:
			return nil, fmt.Errorf("ledger: audit: %w", err)
		case !found:
			bad("checkpoint %d is missing", c.Size)
		case !bytes.Equal(stored, []byte(c.Checkpoint)):
			bad("checkpoint %d differs from the one its commit signed", c.Size)
		}
		// Each checkpoint must be consistent with the one before it.
		if n := len(checkpoints); n > 0 {
			p, err := tlog.ProveTree(c.Size, checkpoints[n-1].Size, hashes)
			if err == nil {
				err = VerifyConsistency(checkpoints[n-1], Checkpoint{Origin: tl.origin, Size: c.Size, Hash: root}, Hashes(p))
			}
			if err != nil {
				bad("checkpoint %d is not consistent with checkpoint %d: %v", c.Size, checkpoints[n-1].Size, err)
			}
		}
		checkpoints = append(checkpoints, Checkpoint{Origin: tl.origin, Size: c.Size, Hash: root})
		l.auditTiles(ctx, tl, c, hashes, bad)
		if checks.Kept != nil {
			for _, e := range entries {
				rep.Problems = append(rep.Problems, checks.Kept(ctx, e)...)
			}
		}
		rep.Commits++
		rep.Size = c.Size
	}
	rep.Checkpoints = len(checkpoints)
	if err := l.auditStrays(ctx, tl, rep, commitKeys, bad); err != nil {
		return nil, err
	}
	for _, t := range trusted {
		cp, err := OpenCheckpoint(t, tl.origin, keys)
		if err != nil {
			bad("trusted checkpoint: %v", err)
			continue
		}
		if cp.Size > rep.Size {
			bad("trusted checkpoint of size %d is beyond the log's %d entries: the log was truncated", cp.Size, rep.Size)
			continue
		}
		root, err := tlog.TreeHash(cp.Size, hashes)
		if err == nil && root != cp.Hash {
			bad("trusted checkpoint of size %d has root %s, the log now has %s there: history was rewritten", cp.Size, cp.Hash, root)
		}
	}
	return rep, nil
}

func (l *Log) auditTiles(ctx context.Context, tl *tenantLog, c commit, hashes memHashes, bad func(string, ...any)) {
	for _, tile := range tlog.NewTiles(TileHeight, c.Start, c.Size) {
		want, err := tlog.ReadTileData(tile, hashes)
		if err != nil {
			bad("tile %s: %v", tile.Path(), err)
			continue
		}
		got, found, err := l.store.Get(ctx, tl.prefix+tile.Path())
		switch {
		case err != nil:
			bad("tile %s is unreadable: %v", tile.Path(), err)
		case !found && tile.W == 1<<TileHeight:
			bad("tile %s is missing", tile.Path())
		case found && !bytes.Equal(got, want):
			bad("tile %s differs from the recomputed tree", tile.Path())
		}
	}
}

// auditStrays finds objects outside the chain the walk followed: commits
// and checkpoints beyond its end (a truncated log).
func (l *Log) auditStrays(ctx context.Context, tl *tenantLog, rep *Report, commits map[string]bool, bad func(string, ...any)) error {
	keys, err := l.store.List(ctx, tl.prefix+"log/")
	if err != nil {
		return fmt.Errorf("ledger: audit: %w", err)
	}
	for _, k := range keys {
		if !commits[k] {
			bad("commit %s is not on the log's chain (the chain ends at size %d)", strings.TrimPrefix(k, tl.prefix), rep.Size)
		}
	}
	if keys, err = l.store.List(ctx, tl.prefix+"checkpoint/"); err != nil {
		return fmt.Errorf("ledger: audit: %w", err)
	}
	for _, k := range keys {
		var size int64
		if _, err := fmt.Sscanf(strings.TrimPrefix(k, tl.prefix+"checkpoint/"), "%d", &size); err != nil || size > rep.Size {
			bad("checkpoint %s lies beyond the log's %d entries: entries were removed", strings.TrimPrefix(k, tl.prefix), rep.Size)
		}
	}
	return nil
}
