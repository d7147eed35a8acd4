package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

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

// read fetches a tile's newest version. A partial tile that was never
// written (its commit's writer stopped half-way) can be cut from any wider
// version of it, since a tile's hashes never change once written.
func (t tiles) read(ctx context.Context, tile tlog.Tile) ([]byte, error) {
	size := tile.W * tlog.HashSize
	data, found, err := t.store.Get(ctx, t.prefix+tile.Path())
	if err != nil {
		return nil, fmt.Errorf("ledger: read tile %s: %w", tile.Path(), err)
	}
	if !found && tile.W < 1<<TileHeight {
		data, found, err = t.store.Get(ctx, t.prefix+fullTile(tile).Path())
		if err != nil {
			return nil, fmt.Errorf("ledger: read tile %s: %w", fullTile(tile).Path(), err)
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: tile %s is missing", ErrInvalid, tile.Path())
	}
	if len(data) < size {
		return nil, fmt.Errorf("%w: tile %s holds %d bytes, want %d", ErrInvalid, tile.Path(), len(data), size)
	}
	return data[:size], nil
}

func (t tiles) SaveTiles(saved []tlog.Tile, data [][]byte) {
	for i, tile := range saved {
		t.cache.put(tile, data[i])
	}
}

func fullTile(tile tlog.Tile) tlog.Tile {
	tile.W = 1 << TileHeight
	return tile
}

// candidates returns every distinct stored version of tile, cut to its
// width, in the order storage lists them: the partial tile's own and any
// wider one's. Which is the log's is for the tree to say, not the order.
func (t tiles) candidates(ctx context.Context, tile tlog.Tile) ([][]byte, error) {
	keys := []string{t.prefix + tile.Path()}
	if tile.W < 1<<TileHeight {
		keys = append(keys, t.prefix+fullTile(tile).Path())
	}
	size := tile.W * tlog.HashSize
	var out [][]byte
	for _, key := range keys {
		versions, err := t.store.Versions(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("ledger: read versions of tile %s: %w", key, err)
		}
		for _, v := range versions {
			if len(v) >= size && !slices.ContainsFunc(out, func(o []byte) bool { return bytes.Equal(o, v[:size]) }) {
				out = append(out, v[:size])
			}
		}
	}
	return out, nil
}

// verified reads the hashes of a tree from its tiles, authenticated by
// tlog against the tree's signed root. Anyone with the bucket's
// credentials can write over a tile, so when the newest tiles do not
// verify, it searches each tile's versions for the log's (search) rather
// than trusting the order storage lists them in.
type verified struct {
	tree  tlog.Tree
	tiles tiles
}

func (v verified) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	hs, err := tlog.TileHashReader(v.tree, v.tiles).ReadHashes(indexes)
	if err == nil {
		return hs, nil
	}
	auth, err := v.search(indexes)
	if err != nil {
		return nil, err
	}
	return tlog.TileHashReader(v.tree, fixedTiles{auth: auth, cache: v.tiles.cache}).ReadHashes(indexes)
}

// maxTileChoices bounds the combinations of versions tried for the tiles
// that only the root authenticates together: beyond it, the log refuses
// to read rather than spend without end on someone's versions.
const maxTileChoices = 1024

// errPlanned stops a TileHashReader once it has said which tiles it needs.
var errPlanned = errors.New("ledger: tiles planned")

// search finds, for each tile the hashes at indexes need, the version
// that the tree authenticates, and caches it. tlog authenticates the
// tiles of the tree's right edge against the root together, and every
// other tile against its parent: so the edge's versions are tried in
// combination, then each other tile's, parents first. It returns the
// tiles it authenticated.
func (v verified) search(indexes []int64) (map[tlog.Tile][]byte, error) {
	edge, err := v.plan(nil)
	if err != nil {
		return nil, err
	}
	all, err := v.plan(indexes)
	if err != nil {
		return nil, err
	}
	auth := map[tlog.Tile][]byte{}
	choices := make([][][]byte, len(edge))
	combos := 1
	for i, tile := range edge {
		if choices[i], err = v.choices(tile); err != nil {
			return nil, err
		}
		if len(choices[i]) == 0 {
			return nil, fmt.Errorf("%w: tile %s of the tree of size %d is missing", ErrInvalid, tile.Path(), v.tree.N)
		}
		if combos *= len(choices[i]); combos > maxTileChoices {
			return nil, fmt.Errorf("%w: tiles of the tree of size %d have too many versions to search", ErrInvalid, v.tree.N)
		}
	}
	pick := make([]int, len(edge))
	found := false
	for n := 0; n < combos && !found; n++ {
		fixed := map[tlog.Tile][]byte{}
		for i, c := range pick {
			fixed[edge[i]] = choices[i][c]
		}
		found = v.tryTiles(auth, fixed, nil)
		for i := range pick { // next combination
			if pick[i]++; pick[i] < len(choices[i]) {
				break
			}
			pick[i] = 0
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: no stored versions of the tiles of the tree of size %d make its signed root", ErrInvalid, v.tree.N)
	}
	for _, tile := range all[len(edge):] {
		if _, ok := auth[tile]; ok {
			continue
		}
		choices, err := v.choices(tile)
		if err != nil {
			return nil, err
		}
		x := tlog.StoredHashIndex(tile.L*tile.H, tile.N<<uint(tile.H))
		if !slices.ContainsFunc(choices, func(c []byte) bool {
			return v.tryTiles(auth, map[tlog.Tile][]byte{tile: c}, []int64{x})
		}) {
			return nil, fmt.Errorf("%w: no stored version of tile %s is the tree's of size %d", ErrInvalid, tile.Path(), v.tree.N)
		}
	}
	return auth, nil
}

// choices are a tile's candidate versions: the one authenticated before,
// or every stored one.
func (v verified) choices(tile tlog.Tile) ([][]byte, error) {
	if data, ok := v.tiles.cache.get(tile); ok {
		return [][]byte{data}, nil
	}
	return v.tiles.candidates(v.tiles.ctx, tile)
}

// plan returns the tiles a TileHashReader reads for indexes, in its
// order: the right edge's first, then each other tile after its parent.
func (v verified) plan(indexes []int64) ([]tlog.Tile, error) {
	var p planner
	if _, err := tlog.TileHashReader(v.tree, &p).ReadHashes(indexes); !errors.Is(err, errPlanned) {
		return nil, fmt.Errorf("ledger: plan tiles of the tree of size %d: %v", v.tree.N, err)
	}
	return p.tiles, nil
}

// tryTiles reports whether tlog authenticates the tiles that reading
// indexes needs, taken from fixed and then auth; what it authenticates is
// added to auth and the cache.
func (v verified) tryTiles(auth, fixed map[tlog.Tile][]byte, indexes []int64) bool {
	r := fixedTiles{auth: auth, fixed: fixed, cache: v.tiles.cache}
	_, err := tlog.TileHashReader(v.tree, r).ReadHashes(indexes)
	return err == nil
}

type planner struct{ tiles []tlog.Tile }

func (p *planner) Height() int { return TileHeight }
func (p *planner) ReadTiles(want []tlog.Tile) ([][]byte, error) {
	p.tiles = want
	return nil, errPlanned
}
func (p *planner) SaveTiles([]tlog.Tile, [][]byte) {}

// fixedTiles serves the tiles a search chose, and saves those tlog
// authenticates.
type fixedTiles struct {
	auth, fixed map[tlog.Tile][]byte
	cache       *tileCache
}

func (f fixedTiles) Height() int { return TileHeight }
func (f fixedTiles) ReadTiles(want []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(want))
	for i, tile := range want {
		data, ok := f.fixed[tile]
		if !ok {
			data, ok = f.auth[tile]
		}
		if !ok {
			return nil, fmt.Errorf("ledger: tile %s not chosen", tile.Path())
		}
		out[i] = data
	}
	return out, nil
}
func (f fixedTiles) SaveTiles(saved []tlog.Tile, data [][]byte) {
	for i, tile := range saved {
		f.auth[tile] = data[i]
		f.cache.put(tile, data[i])
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
		o.base = verified{tree: st.cp.Tree(), tiles: tiles{store: l.store, prefix: tl.prefix, cache: tl.tiles, ctx: ctx}}
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

// leavesAt reports whether the tree r reads holds leaves from index start
// on: what a commit read without its tree recomputed must show, since a
// signed checkpoint can be copied into anyone's object.
func leavesAt(r tlog.HashReader, start int64, leaves []tlog.Hash) (bool, error) {
	indexes := make([]int64, len(leaves))
	for i := range leaves {
		indexes[i] = tlog.StoredHashIndex(0, start+int64(i))
	}
	hs, err := r.ReadHashes(indexes)
	if err != nil {
		return false, err
	}
	return slices.Equal(hs, leaves), nil
}
