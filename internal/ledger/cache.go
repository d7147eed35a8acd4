package ledger

import (
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// maxCachedTiles bounds the tile cache; at 8 KiB a tile it stays under
// 32 MiB, and a log's proofs need only a few tiles per level.
const maxCachedTiles = 4096

// tileCache keeps authenticated tiles. Tiles never change once written, so
// entries need no invalidation; the cache is simply dropped when full.
type tileCache struct {
	mu    sync.Mutex
	tiles map[tlog.Tile][]byte
}

func (c *tileCache) get(t tlog.Tile) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	data, ok := c.tiles[t]
	return data, ok
}

func (c *tileCache) put(t tlog.Tile, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tiles == nil || len(c.tiles) >= maxCachedTiles {
		c.tiles = make(map[tlog.Tile][]byte)
	}
	c.tiles[t] = data
}
