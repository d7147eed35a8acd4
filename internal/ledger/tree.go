package ledger

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
	"golang.org/x/sync/errgroup"
)

// TileHeight is the height of the stored hash tiles, as in Go's checksum
// database: 256 hashes per tile.
const TileHeight = 8

// tiles reads a tenant's hash tiles from the store for tlog's
// TileHashReader, through a cache of tiles already authenticated.
type tiles struct {
	store  Store
	prefix string
	cache  *tileCache
	ctx    context.Context // the one read the reader serves; never kept beyond it
	// original reads each tile's first version instead of its newest.
	original bool
}

func (t tiles) Height() int { return TileHeight }

func (t tiles) ReadTiles(want []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(want))
	g, ctx := errgroup.WithContext(t.ctx)
	g.SetLimit(8)
	for i, tile := range want {
		if data, ok := t.cache.get(tile); ok {
			out[i] = data
			continue
		}
		g.Go(func() error {
			data, err := t.read(ctx, tile)
			out[i] = data
			return err
		})
	}
	return out, g.Wait()
}

// read fetches a tile. A partial tile that was never written (its commit's
// writer stopped half-way) can be cut from any wider version of it, since
// a tile's hashes never change once written.
func (t tiles) read(ctx context.Context, tile tlog.Tile) ([]byte, error) {
	size := tile.W * tlog.HashSize
	data, found, err := t.get(ctx, t.prefix+tile.Path())
	if err != nil {
		return nil, fmt.Errorf("ledger: read tile %s: %w", tile.Path(), err)
	}
	if !found && tile.W < 1<<TileHeight {
		full := tile
		full.W = 1 << TileHeight
		data, found, err = t.get(ctx, t.prefix+full.Path())
		if err != nil {
			return nil, fmt.Errorf("ledger: read tile %s: %w", full.Path(), err)
		}
	}
	if !found {
		return nil, fmt.Errorf("ledger: tile %s is missing", tile.Path())
	}
	if len(data) < size {
		return nil, fmt.Errorf("ledger: tile %s holds %d bytes, want %d", tile.Path(), len(data), size)
	}
	return data[:size], nil
}

func (t tiles) get(ctx context.Context, key string) ([]byte, bool, error) {
	if !t.original {
		return t.store.Get(ctx, key)
	}
	versions, err := t.store.Versions(ctx, key)
	if err != nil || len(versions) == 0 {
		return nil, false, err
	}
	return versions[0], true, nil
}

// fallback reads hashes from the newest tiles and, when tlog finds them
// inconsistent with the tree (someone wrote over a tile), from each tile's
// first version, which the log wrote: such a write does not stop reads.
type fallback struct{ newest, original tlog.HashReader }

func (f fallback) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	hs, err := f.newest.ReadHashes(indexes)
	if err == nil {
		return hs, nil
	}
	if hs, ferr := f.original.ReadHashes(indexes); ferr == nil {
		return hs, nil
	}
	return nil, err
}

func (t tiles) SaveTiles(saved []tlog.Tile, data [][]byte) {
	for i, tile := range saved {
		t.cache.put(tile, data[i])
	}
}

// overlay serves hashes computed in memory for entries not yet stored,
// and everything else from base (the stored tree's tiles).
type overlay struct {
	base  tlog.HashReader // nil for the empty tree
	extra map[int64]tlog.Hash
}

func (o overlay) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var miss []int64
	var at []int
	for i, x := range indexes {
		if h, ok := o.extra[x]; ok {
			out[i] = h
			continue
		}
		miss = append(miss, x)
		at = append(at, i)
	}
	if len(miss) == 0 {
		return out, nil
	}
	if o.base == nil {
		return nil, fmt.Errorf("ledger: hash %d is not in the tree", miss[0])
	}
	hs, err := o.base.ReadHashes(miss)
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		out[i] = hs[j]
	}
	return out, nil
}

// reader reads the stored hashes of st's tree, authenticated against its
// checkpoint by tlog, with room for hashes computed on top.
func (l *Log) reader(ctx context.Context, tl *tenantLog, st *state) overlay {
	o := overlay{extra: map[int64]tlog.Hash{}}
	if st.cp.Size > 0 {
		t := tiles{store: l.store, prefix: tl.prefix, cache: tl.tiles, ctx: ctx}
		orig := t
		orig.original = true
		o.base = fallback{newest: tlog.TileHashReader(st.cp.Tree(), t), original: tlog.TileHashReader(st.cp.Tree(), orig)}
	}
	return o
}

// extend computes the stored hashes of leaves appended to prev's tree, and
// the new root, reading prev's tiles as needed.
func (l *Log) extend(ctx context.Context, tl *tenantLog, prev *state, leaves []tlog.Hash) (map[int64]tlog.Hash, tlog.Hash, error) {
	r := l.reader(ctx, tl, prev)
	for i, h := range leaves {
		n := prev.cp.Size + int64(i)
		hs, err := tlog.StoredHashesForRecordHash(n, h, r)
		if err != nil {
			return nil, tlog.Hash{}, fmt.Errorf("ledger: hash entry %d: %w", n, err)
		}
		first := tlog.StoredHashIndex(0, n)
		for j, x := range hs {
			r.extra[first+int64(j)] = x
		}
	}
	root, err := tlog.TreeHash(prev.cp.Size+int64(len(leaves)), r)
	if err != nil {
		return nil, tlog.Hash{}, fmt.Errorf("ledger: tree hash: %w", err)
	}
	return r.extra, root, nil
}
