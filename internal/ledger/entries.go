package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// Stored is one entry of a log as its commit holds it.
type Stored struct {
	Index  int64
	ID     string
	Record []byte
	// Hash is the leaf hash of the entry's record: what the tree holds.
	Hash tlog.Hash
}

// MaxEntries bounds the entries one call to Entries returns.
const MaxEntries = 1000

// Entries returns the entries of a tenant's log from start up to, not
// including, end (at most MaxEntries of them, and none past the log's
// latest size). It reads the commits that hold them, each one's checkpoint
// verified; a reader recomputes the tree from the hashes to trust them.
func (l *Log) Entries(ctx context.Context, tenant string, start, end int64) ([]Stored, error) {
	tl, err := l.tenant(tenant)
	if err != nil {
		return nil, err
	}
	latest, _, err := l.Latest(ctx, tenant)
	if err != nil {
		return nil, err
	}
	end = min(end, latest.Size, start+MaxEntries)
	if start < 0 || start >= end {
		return nil, &NotFoundError{Origin: tl.origin, Detail: fmt.Sprintf("log %s has no entries from %d (it has %d)", tl.origin, start, latest.Size)}
	}
	pos, err := l.commitHolding(ctx, tl, start)
	if err != nil {
		return nil, err
	}
	var out []Stored
	for pos < end {
		c, leaves, err := l.chainCommit(ctx, tl, pos)
		if err != nil {
			return nil, err
		}
		for i, e := range c.Entries {
			if idx := c.Start + int64(i); idx >= start && idx < end {
				out = append(out, Stored{Index: idx, ID: e.ID, Record: e.Record, Hash: leaves[i]})
			}
		}
		pos = c.Size
	}
	return out, nil
}

// commitHolding finds the start of the commit that holds entry index: the
// latest commit object at or before index that is one the log wrote (an
// object someone else added where no commit starts does not verify, and is
// passed over).
func (l *Log) commitHolding(ctx context.Context, tl *tenantLog, index int64) (int64, error) {
	keys, err := l.store.List(ctx, tl.prefix+"log/")
	if err != nil {
		return 0, fmt.Errorf("ledger: list commits: %w", err)
	}
	var starts []int64
	for _, k := range keys {
		name := strings.TrimSuffix(strings.TrimPrefix(k, tl.prefix+"log/"), ".json")
		if n, err := strconv.ParseInt(name, 10, 64); err == nil && n <= index && k == tl.commitKey(n) {
			starts = append(starts, n)
		}
	}
	slices.Sort(starts)
	for i := len(starts) - 1; i >= 0; i-- {
		c, _, err := l.chainCommit(ctx, tl, starts[i])
		switch {
		case err == nil && index < c.Size:
			return starts[i], nil
		case err == nil:
			return 0, fmt.Errorf("%w: log %s has no commit holding entry %d", ErrInvalid, tl.origin, index)
		case errors.Is(err, ErrInvalid) || errors.Is(err, ErrMalformed):
			continue
		default:
			return 0, err
		}
	}
	return 0, fmt.Errorf("%w: log %s has no commit holding entry %d", ErrInvalid, tl.origin, index)
}

// chainCommit is readCommit for a commit that must be on the log's chain:
// its tree must be the log's at its size, as the head proves. A commit put
// where none starts (between two of the log's), signed by a key inside its
// span, opens; it is not the log's.
func (l *Log) chainCommit(ctx context.Context, tl *tenantLog, pos int64) (*commit, []tlog.Hash, error) {
	c, leaves, err := l.readCommit(ctx, tl, pos)
	if err != nil {
		return nil, nil, err
	}
	head, err := l.head(ctx, tl, c.Size)
	if err != nil {
		return nil, nil, err
	}
	cp, err := l.open(ctx, tl, []byte(c.Checkpoint))
	if err != nil {
		return nil, nil, fmt.Errorf("ledger: read commit at %d: %w", pos, err)
	}
	if c.Size > head.cp.Size {
		return nil, nil, fmt.Errorf("%w: the commit at %d ends beyond the log's %d entries", ErrInvalid, pos, head.cp.Size)
	}
	r := l.reader(ctx, tl, head)
	if root, err := tlog.TreeHash(c.Size, r); err != nil || root != cp.Hash {
		return nil, nil, fmt.Errorf("%w: the commit at %d is not of the log's tree", ErrInvalid, pos)
	}
	ok, err := leavesAt(r, pos, leaves)
	if err != nil {
		return nil, nil, fmt.Errorf("ledger: read the tree's leaves at %d: %w", pos, err)
	}
	if !ok {
		return nil, nil, fmt.Errorf("%w: the commit at %d holds entries the log's tree does not", ErrInvalid, pos)
	}
	return c, leaves, nil
}

// TreeHash returns the root hash of the tree of the given leaf hashes, in
// order: what a reader of a whole log compares with a checkpoint.
func TreeHash(leaves []tlog.Hash) (tlog.Hash, error) {
	var stored memHashes
	for i, h := range leaves {
		hashes, err := tlog.StoredHashesForRecordHash(int64(i), h, stored)
		if err != nil {
			return tlog.Hash{}, fmt.Errorf("ledger: tree hash: %w", err)
		}
		stored = append(stored, hashes...)
	}
	return tlog.TreeHash(int64(len(leaves)), stored)
}
