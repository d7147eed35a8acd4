package ledger

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	onChain := map[string]bool{} // the commits the walk followed and their checkpoints
	for {
		key := tl.commitKey(rep.Size)
		var c *commit
		var extra []tlog.Hash
		var root tlog.Hash
		data, refused, err := l.commitVersion(ctx, tl, rep.Size, func(data []byte, _ bool) (opened, error) {
			var err error
			if c, extra, root, err = l.auditCommit(data, rep.Size, hashes, keys, tl.origin); err != nil {
				return opened{}, err
			}
			return opened{cp: Checkpoint{Origin: tl.origin, Size: c.Size, Hash: root}, signed: c.Checkpoint}, nil
		})
		switch {
		case err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTampered):
			return nil, fmt.Errorf("ledger: audit: %w", err)
		case err != nil:
			bad("%s (the commit at %d) is not one this log wrote: %v", key, rep.Size, err)
		case refused != nil:
			bad("%s (the commit at %d) was written over: %v; the log's own version is beneath", key, rep.Size, refused)
		}
		if data == nil {
			break
		}
		onChain[key] = true
		entries := make([]AuditEntry, 0, len(c.Entries))
		for i, e := range c.Entries {
			index := c.Start + int64(i)
			leaf, _ := l.cfg.Leaf(e.Record)
			entries = append(entries, AuditEntry{Index: index, ID: e.ID, Record: e.Record, Leaf: leaf})
			if checks.Entry != nil {
				rep.Problems = append(rep.Problems, checks.Entry(ctx, entries[len(entries)-1])...)
			}
			if prev, dup := ids[e.ID]; dup {
				bad("entry %d repeats id %s, already entry %d", index, e.ID, prev)
			}
			ids[e.ID] = index
		}
		hashes = append(hashes, extra...)
		cpKey := tl.checkpointKey(c.Size)
		onChain[cpKey] = true
		stored, refused, err := firstValid(ctx, l.store, cpKey, func(data []byte) error {
			if !bytes.Equal(data, []byte(c.Checkpoint)) {
				return fmt.Errorf("%w: it differs from the one its commit signed", ErrInvalid)
			}
			return nil
		})
		switch {
		case err != nil && !errors.Is(err, ErrInvalid):
			return nil, fmt.Errorf("ledger: audit: %w", err)
		case stored == nil && err == nil:
			bad("%s (checkpoint %d) is missing", cpKey, c.Size)
		case err != nil:
			bad("%s (checkpoint %d): %v", cpKey, c.Size, err)
		case refused != nil:
			bad("%s (checkpoint %d) was written over: %v; the log's own version is beneath", cpKey, c.Size, refused)
		default:
			// The log writes a checkpoint once, or over an object someone
			// put at its size first: either way, more than one version
			// means someone else wrote one.
			if versions, err := l.store.Versions(ctx, cpKey); err != nil {
				return nil, fmt.Errorf("ledger: audit: %w", err)
			} else if len(versions) > 1 {
				bad("%s (checkpoint %d) holds %d versions; the log writes one: someone else put one there before or over it", cpKey, c.Size, len(versions))
			}
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
		l.auditTiles(ctx, tl, *c, hashes, bad)
		if checks.Kept != nil {
			for _, e := range entries {
				rep.Problems = append(rep.Problems, checks.Kept(ctx, e)...)
			}
		}
		rep.Commits++
		rep.Size = c.Size
	}
	rep.Checkpoints = len(checkpoints)
	if err := l.auditStrays(ctx, tl, rep, onChain, bad); err != nil {
		return nil, err
	}
	if err := l.auditHead(ctx, tl, hashes, rep.Size, keys, bad); err != nil {
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

// auditCommit reads the commit stored at position start of a tree whose
// stored hashes are hashes: it must be well formed and its checkpoint
// signed by one of keys over the tree its entries make. It returns the
// commit, the hashes its entries add and the tree's root.
func (l *Log) auditCommit(data []byte, start int64, hashes memHashes, keys []*ecdsa.PublicKey, origin string) (*commit, []tlog.Hash, tlog.Hash, error) {
	c, leaves, err := l.parseCommit(data, start)
	if err != nil {
		return nil, nil, tlog.Hash{}, err
	}
	tree := overlay{base: hashes, extra: map[int64]tlog.Hash{}}
	var added []tlog.Hash
	for i, leaf := range leaves {
		hs, err := tlog.StoredHashesForRecordHash(start+int64(i), leaf, tree)
		if err != nil {
			return nil, nil, tlog.Hash{}, fmt.Errorf("ledger: audit: hash entry %d: %w", start+int64(i), err)
		}
		for _, h := range hs {
			tree.extra[int64(len(hashes)+len(added))] = h
			added = append(added, h)
		}
	}
	root, err := tlog.TreeHash(c.Size, tree)
	if err != nil {
		return nil, nil, tlog.Hash{}, fmt.Errorf("ledger: audit: %w", err)
	}
	cp, err := OpenCheckpoint([]byte(c.Checkpoint), origin, keys)
	switch {
	case err != nil:
		return nil, nil, tlog.Hash{}, err
	case cp.Size != c.Size || cp.Hash != root:
		return nil, nil, tlog.Hash{}, fmt.Errorf("%w: its signed checkpoint (size %d, root %s) is not the tree of its entries (size %d, root %s)", ErrInvalid, cp.Size, cp.Hash, c.Size, root)
	}
	return c, added, root, nil
}

// auditHead checks the head hint: readers only start from it, but the one
// the log writes always holds one of its checkpoints.
func (l *Log) auditHead(ctx context.Context, tl *tenantLog, hashes memHashes, size int64, keys []*ecdsa.PublicKey, bad func(string, ...any)) error {
	data, found, err := l.store.Get(ctx, tl.headKey())
	if err != nil || !found {
		return err
	}
	var h headHint
	if err := json.Unmarshal(data, &h); err != nil {
		bad("%s is not a head hint the log writes: %v", tl.headKey(), err)
		return nil
	}
	cp, err := OpenCheckpoint([]byte(h.Checkpoint), tl.origin, keys)
	if err == nil && (cp.Size != h.Size || cp.Size > size) {
		err = fmt.Errorf("it claims size %d with a checkpoint of size %d; the log has %d entries", h.Size, cp.Size, size)
	}
	if err == nil && (h.Start < 0 || h.Start >= h.Size) {
		err = fmt.Errorf("it says the commit of size %d starts at %d", h.Size, h.Start)
	}
	if err == nil {
		// The commit it names must be there: the hint is where readers
		// start.
		if _, found, gerr := l.store.Get(ctx, tl.commitKey(h.Start)); gerr == nil && !found {
			err = fmt.Errorf("it names a commit at %d that the log does not hold", h.Start)
		}
	}
	if err == nil {
		if root, rerr := tlog.TreeHash(cp.Size, hashes); rerr != nil || root != cp.Hash {
			err = fmt.Errorf("its checkpoint of size %d is not the log's", cp.Size)
		}
	}
	if err != nil {
		bad("%s is not a head hint the log writes: %v", tl.headKey(), err)
	}
	// The log writes the hint again after commits, each version one of
	// its checkpoints: any other version was someone else's.
	versions, verr := l.store.Versions(ctx, tl.headKey())
	if verr != nil {
		return verr
	}
	for i, v := range versions {
		var old headHint
		if json.Unmarshal(v, &old) != nil {
			bad("%s: version %d of %d is not a head hint", tl.headKey(), i+1, len(versions))
			continue
		}
		vcp, err := OpenCheckpoint([]byte(old.Checkpoint), tl.origin, keys)
		if err == nil && (vcp.Size > size || vcp.Size != old.Size) {
			err = fmt.Errorf("size %d, beyond the log's %d entries", vcp.Size, size)
		}
		if err == nil {
			if root, rerr := tlog.TreeHash(vcp.Size, hashes); rerr != nil || root != vcp.Hash {
				err = fmt.Errorf("its checkpoint of size %d is not the log's", vcp.Size)
			}
		}
		if err != nil {
			bad("%s: version %d of %d is not a hint the log wrote: %v", tl.headKey(), i+1, len(versions), err)
		}
	}
	return nil
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
			bad("tile %s%s is unreadable: %v", tl.prefix, tile.Path(), err)
		case !found && tile.W == 1<<TileHeight:
			bad("tile %s%s is missing", tl.prefix, tile.Path())
		case found && !bytes.Equal(got, want):
			bad("tile %s%s differs from the recomputed tree", tl.prefix, tile.Path())
		case found:
			// The log writes a tile once, or over one planted first:
			// whatever the order storage lists them in, any other
			// version is someone else's.
			if versions, err := l.store.Versions(ctx, tl.prefix+tile.Path()); err == nil && slices.ContainsFunc(versions, func(v []byte) bool { return !bytes.Equal(v, want) }) {
				bad("tile %s%s holds %d versions, not all the log's: someone put one there before or over it", tl.prefix, tile.Path(), len(versions))
			}
		}
	}
}

// auditStrays finds objects outside the chain the walk followed: commits
// off it, checkpoints beyond its end (a truncated log), and checkpoints at
// a size no commit ended at (a commit of several entries writes none
// between, so one there is someone else's).
func (l *Log) auditStrays(ctx context.Context, tl *tenantLog, rep *Report, onChain map[string]bool, bad func(string, ...any)) error {
	keys, err := l.store.List(ctx, tl.prefix+"log/")
	if err != nil {
		return fmt.Errorf("ledger: audit: %w", err)
	}
	for _, k := range keys {
		if !onChain[k] {
			bad("%s is a commit off the log's chain (the chain ends at size %d)", k, rep.Size)
		}
	}
	if keys, err = l.store.List(ctx, tl.prefix+"checkpoint/"); err != nil {
		return fmt.Errorf("ledger: audit: %w", err)
	}
	for _, k := range keys {
		var size int64
		switch _, err := fmt.Sscanf(strings.TrimPrefix(k, tl.prefix+"checkpoint/"), "%d", &size); {
		case err != nil || size > rep.Size:
			bad("%s lies beyond the log's %d entries: entries were removed, or someone else put it there", k, rep.Size)
		case !onChain[k]:
			bad("%s is no commit's checkpoint (no commit ends at size %d): someone else put it there", k, size)
		}
	}
	return nil
}
