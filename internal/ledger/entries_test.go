package ledger_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/evidencevault/vault/internal/ledger"
	"golang.org/x/mod/sumdb/tlog"
)

// TestEntries: a reader gets the log's entries by range, from whichever
// commits hold them, and the tree of their hashes is the checkpoint's.
func TestEntries(t *testing.T) {
	ctx := context.Background()
	store, s := newMemStore(), newKeySigner(t)
	l := newLog(store, s, 0)
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := l.Append(ctx, tenant, entry(fmt.Sprint("e", i), fmt.Sprint("leaf ", i)), 0); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	cp, _, err := l.Latest(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	// Something planted where no commit starts is passed over.
	starts, _ := store.List(ctx, "ledger/acme/log/")
	inside := -1
	for i := 1; i < n && inside < 0; i++ {
		if !slices.Contains(starts, fmt.Sprintf("ledger/acme/log/%020d.json", i)) {
			inside = i
		}
	}
	if inside < 0 {
		t.Fatalf("%d concurrent appends made %d commits: none holds two entries", n, len(starts))
	}
	store.plant(fmt.Sprintf("ledger/acme/log/%020d.json", inside), []byte(fmt.Sprintf(`{"start":%d}`, inside)))

	all, err := l.Entries(ctx, tenant, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Fatalf("got %d entries, want %d", len(all), n)
	}
	var hashes []tlog.Hash
	for i, e := range all {
		if e.Index != int64(i) || e.Hash != ledger.LeafHash([]byte(leafOfID(t, e.Record))) {
			t.Errorf("entry %d: got index %d, hash %x", i, e.Index, e.Hash)
		}
		hashes = append(hashes, e.Hash)
	}
	if root, err := ledger.TreeHash(hashes); err != nil || root != cp.Hash {
		t.Errorf("got tree hash %x (%v), want the checkpoint's %x", root, err, cp.Hash)
	}
	tests := []struct {
		start, end int64
		want       []int64
	}{
		{5, 8, []int64{5, 6, 7}},
		{38, 100, []int64{38, 39}},
		{39, 40, []int64{39}},
		{int64(inside), int64(inside) + 1, []int64{int64(inside)}},
	}
	for _, tt := range tests {
		got, err := l.Entries(ctx, tenant, tt.start, tt.end)
		var idx []int64
		for _, e := range got {
			idx = append(idx, e.Index)
		}
		if err != nil || fmt.Sprint(idx) != fmt.Sprint(tt.want) {
			t.Errorf("entries %d to %d: got %v (%v), want %v", tt.start, tt.end, idx, err, tt.want)
		}
	}
	for _, r := range [][2]int64{{40, 41}, {-1, 3}, {7, 7}} {
		if _, err := l.Entries(ctx, tenant, r[0], r[1]); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("entries %d to %d: got %v, want not found", r[0], r[1], err)
		}
	}
}

func leafOfID(t *testing.T, record []byte) []byte {
	t.Helper()
	leaf, err := leafOf(record)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

// The empty tree's hash is RFC 6962's: the SHA-256 of nothing.
func TestTreeHashOfNoLeaves(t *testing.T) {
	if h, err := ledger.TreeHash(nil); err != nil || h != tlog.Hash(sha256.Sum256(nil)) {
		t.Errorf("got %x, %v; want the SHA-256 of nothing", h, err)
	}
}
