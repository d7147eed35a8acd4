package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/evidencevault/vault/internal/receipt"
	"golang.org/x/mod/sumdb/tlog"
)

// Report is the outcome of an audit of one tenant's log.
type Report struct {
	Origin      string   `json:"origin"`
	Size        int64    `json:"size"`
	Commits     int      `json:"commits"`
	Checkpoints int      `json:"checkpoints"`
	Receipts    int      `json:"receipts"`
	Problems    []string `json:"problems"`
}

// OK reports whether the audit found nothing wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// First names the first inconsistency found, or "".
func (r *Report) First() string {
	if r.OK() {
		return ""
	}
	return r.Problems[0]
}

// WriteText prints the report for people: a summary line, then each
// problem, the first one first.
func (r *Report) WriteText(w io.Writer) error {
	status := "consistent"
	if !r.OK() {
		status = fmt.Sprintf("%d problem(s); first: %s", len(r.Problems), r.First())
	}
	if _, err := fmt.Fprintf(w, "log %s: %d entries, %d commits, %d checkpoints, %d receipts: %s\n",
		r.Origin, r.Size, r.Commits, r.Checkpoints, r.Receipts, status); err != nil {
		return err
	}
	for _, p := range r.Problems {
		if _, err := fmt.Fprintln(w, "  -", p); err != nil {
			return err
		}
	}
	return nil
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
// commit's signed checkpoint, the checkpoint objects, each tile, each
// receipt bundle (signature, index, inclusion proof), the consistency of
// each checkpoint with the next, and that no commit, checkpoint or bundle
// exists outside the chain. trusted are checkpoints an auditor kept from
// earlier; each must be consistent with the log as it is now.
func (l *Log) Audit(ctx context.Context, tenant string, trusted ...[]byte) (*Report, error) {
	tl, err := l.tenant(tenant)
	if err != nil {
		return nil, err
	}
	keys, err := l.keys(ctx, true) // an audit reads every published key afresh
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
		leaves := make([][]byte, len(c.Entries))
		for i, e := range c.Entries {
			index := c.Start + int64(i)
			var env receipt.Envelope
			leaf, err := []byte(nil), json.Unmarshal(e.Envelope, &env)
			if err == nil {
				leaf, err = Leaf(&env)
			}
			if err != nil {
				bad("entry %d (%s) is unreadable: %v", index, e.ID, err)
			} else if _, _, err := receipt.Verify(ctx, &env, keys); err != nil {
				bad("entry %d (%s): receipt signature does not verify: %v", index, e.ID, err)
			}
			if prev, dup := ids[e.ID]; dup {
				bad("entry %d repeats receipt %s, already entry %d", index, e.ID, prev)
			}
			ids[e.ID] = index
			leaves[i] = leaf
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
		for i, e := range c.Entries {
			l.auditBundle(ctx, tl, c.Start+int64(i), e, leaves[i], keys, bad)
		}
		rep.Commits++
		rep.Size = c.Size
	}
	rep.Checkpoints = len(checkpoints)
	rep.Receipts = len(ids)
	if err := l.auditStrays(ctx, tl, rep, commitKeys, ids, bad); err != nil {
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

func (l *Log) auditBundle(ctx context.Context, tl *tenantLog, index int64, e Entry, leaf []byte, keys []receipt.Key, bad func(string, ...any)) {
	data, found, err := l.store.Get(ctx, tl.bundleKey(e.ID))
	switch {
	case err != nil:
		bad("receipt %s (entry %d) is unreadable: %v", e.ID, index, err)
		return
	case !found:
		bad("receipt %s (entry %d) is missing", e.ID, index)
		return
	}
	var b Bundle
	if err := json.Unmarshal(data, &b); err != nil || b.Log == nil {
		bad("receipt %s (entry %d) is not a receipt bundle", e.ID, index)
		return
	}
	var env receipt.Envelope
	if err := json.Unmarshal(b.Envelope, &env); err != nil {
		bad("receipt %s (entry %d): envelope unreadable: %v", e.ID, index, err)
		return
	}
	got, err := Leaf(&env)
	if err != nil || !bytes.Equal(got, leaf) {
		bad("receipt %s (entry %d) holds a statement other than the log's entry", e.ID, index)
		return
	}
	if b.Log.Index != index {
		bad("receipt %s says index %d; the log has it at %d", e.ID, b.Log.Index, index)
	}
	if _, err := VerifyProof(&env, b.Log, keys); err != nil {
		bad("receipt %s (entry %d): log proof: %v", e.ID, index, err)
	}
}

// auditStrays finds objects outside the chain the walk followed: commits
// and checkpoints beyond its end (a truncated log) and receipt bundles of
// entries the log does not hold.
func (l *Log) auditStrays(ctx context.Context, tl *tenantLog, rep *Report, commits map[string]bool, ids map[string]int64, bad func(string, ...any)) error {
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
	if keys, err = l.store.List(ctx, tl.bundles); err != nil {
		return fmt.Errorf("ledger: audit: %w", err)
	}
	for _, k := range keys {
		id := strings.TrimSuffix(strings.TrimPrefix(k, tl.bundles), ".json")
		if _, ok := ids[id]; !ok {
			bad("receipt %s is not in the log", id)
		}
	}
	return nil
}
