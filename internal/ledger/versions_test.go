package ledger_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"golang.org/x/mod/sumdb/tlog"
)

// MinIO lists an object's versions by modification time, which its root
// can set on a write (replication's source mtime): storage's order of
// versions proves nothing about which one the log wrote. These tests put
// other versions beneath the log's, as the oldest.

// backdate writes body as key's oldest version.
func (m *memStore) backdate(key string, body []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[key]; !ok {
		m.objects[key] = slices.Clone(body)
		return
	}
	m.older[key] = append([][]byte{slices.Clone(body)}, m.older[key]...)
}

// rotation is a log whose first key retired after three entries: the
// retired key may still sign checkpoints of sizes up to 3, and its holder
// can sign anything there.
type rotation struct {
	store   *memStore
	retired keySigner
	current keySigner
}

const retiredUntil = 3 // the retired key signed sizes 1 to 3

func (r rotation) config() ledger.Config {
	pub := func(s keySigner) *ecdsa.PublicKey { return &s.key.PublicKey }
	return ledger.Config{
		Origin: func(tenant string) string { return "example.org/log/" + tenant },
		Prefix: func(tenant string) string { return "ledger/" + tenant + "/" },
		Leaf:   leafOf,
		Keeper: keeperOf(r.store),
		Keys: func(context.Context, string) ([]*ecdsa.PublicKey, error) {
			return []*ecdsa.PublicKey{pub(r.retired), pub(r.current)}, nil
		},
		SignersAt: func(_ context.Context, _ string, size int64) ([]*ecdsa.PublicKey, error) {
			if size <= retiredUntil {
				return []*ecdsa.PublicKey{pub(r.retired)}, nil
			}
			return []*ecdsa.PublicKey{pub(r.current)}, nil
		},
		MaxBatch: 1,
	}
}

// log is a process of the vault after the rotation, signing with the
// current key; nil signs nothing, as an auditor's.
func (r rotation) log(s ledger.Signer) *ledger.Log { return ledger.New(r.store, s, r.config()) }

// newRotation seals entries 0 to 2 with the retired key and 3 and 4 with
// the current one, one commit each.
func newRotation(t *testing.T) rotation {
	t.Helper()
	r := rotation{store: newMemStore(), retired: newKeySigner(t), current: newKeySigner(t)}
	for i := range 5 {
		s := r.retired
		if i >= retiredUntil {
			s = r.current
		}
		l := r.log(s)
		if _, err := l.Append(context.Background(), tenant, entry(fmt.Sprint("e", i), fmt.Sprint("leaf ", i)), 0); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		l.Flush(context.Background())
	}
	return r
}

// forge returns a commit at start of the given entries' leaves, signed by
// s over the tree of the log's leaves before start and these after.
func forge(t *testing.T, s keySigner, start int64, leaves ...string) []byte {
	t.Helper()
	var hashes []tlog.Hash
	for i := range start {
		hashes = append(hashes, ledger.LeafHash(fmt.Appendf(nil, "leaf %d", i)))
	}
	var entries []map[string]any
	for i, leaf := range leaves {
		hashes = append(hashes, ledger.LeafHash([]byte(leaf)))
		entries = append(entries, map[string]any{"id": fmt.Sprint("e", start+int64(i)), "envelope": record(leaf)})
	}
	root, err := ledger.TreeHash(hashes)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(hashes))
	signed, err := ledger.SignCheckpoint(context.Background(), s, ledger.Checkpoint{Origin: "example.org/log/" + tenant, Size: size, Hash: root})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"start": start, "size": size, "time": time.Now().UTC(), "entries": entries, "checkpoint": string(signed)})
	return body
}

func commitKey(start int) string { return fmt.Sprintf("ledger/acme/log/%020d.json", start) }

func TestVersionOrderProvesNothing(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		tamper func(t *testing.T, r rotation) string // returns the key it wrote beneath
	}{
		{"the retired key's commit beneath the log's", func(t *testing.T, r rotation) string {
			r.store.backdate(commitKey(2), forge(t, r.retired, 2, "forged"))
			return commitKey(2)
		}},
		{"the retired key's longer commit beneath the log's first", func(t *testing.T, r rotation) string {
			r.store.backdate(commitKey(0), forge(t, r.retired, 0, "forged 0", "forged 1", "forged 2"))
			return commitKey(0)
		}},
		{"the log's entries in other commits, signed by the retired key", func(t *testing.T, r rotation) string {
			r.store.backdate(commitKey(0), forge(t, r.retired, 0, "leaf 0", "leaf 1"))
			return commitKey(0)
		}},
		{"the log's own checkpoint over other entries", func(t *testing.T, r rotation) string {
			var c map[string]any
			data, _, _ := r.store.Get(ctx, commitKey(1))
			json.Unmarshal(data, &c)
			c["entries"] = []any{map[string]any{"id": "e1", "envelope": record("forged")}}
			body, _ := json.Marshal(c)
			r.store.backdate(commitKey(1), body)
			return commitKey(1)
		}},
		{"the current key's checkpoint over other entries", func(t *testing.T, r rotation) string {
			var c map[string]any
			data, _, _ := r.store.Get(ctx, commitKey(4))
			json.Unmarshal(data, &c)
			c["entries"] = []any{map[string]any{"id": "e4", "envelope": record("forged")}}
			body, _ := json.Marshal(c)
			r.store.backdate(commitKey(4), body)
			return commitKey(4)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRotation(t)
			want, _, err := r.log(r.current).Latest(ctx, tenant)
			if err != nil {
				t.Fatal(err)
			}
			key := tt.tamper(t, r)
			r.store.overwrite("ledger/acme/head.json", []byte("{}")) // a cold start reads from the log's start
			cold := r.log(r.current)
			got, _, err := cold.Latest(ctx, tenant)
			if err != nil || got != want {
				t.Fatalf("latest: got %+v, %v; want the log's %+v", got, err, want)
			}
			entries, err := cold.Entries(ctx, tenant, 0, 5)
			if err != nil || len(entries) != 5 {
				t.Fatalf("entries: got %d, %v; want 5", len(entries), err)
			}
			for i, e := range entries {
				if string(e.Record) != string(record(fmt.Sprint("leaf ", i))) {
					t.Errorf("entry %d: got %s, want the log's", i, e.Record)
				}
				p, err := cold.InclusionProof(ctx, tenant, int64(i), 5)
				if err == nil {
					err = ledger.VerifyInclusion(want, int64(i), fmt.Appendf(nil, "leaf %d", i), p)
				}
				if err != nil {
					t.Errorf("entry %d: inclusion: %v", i, err)
				}
			}
			if a, err := cold.Append(ctx, tenant, entry("e5", "leaf 5"), 0); err != nil || a.Index != 5 {
				t.Errorf("append: got %+v, %v; want index 5", a, err)
			}
			for name, l := range map[string]*ledger.Log{"the vault": cold, "an auditor": r.log(nil)} {
				rep, err := l.Audit(ctx, tenant, ledger.Checks{})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.ContainsFunc(rep.Problems, func(p string) bool { return strings.Contains(p, key) }) {
					t.Errorf("%s's audit: got %q, want a problem naming %s", name, rep.Problems, key)
				}
				if rep.Size != 6 {
					t.Errorf("%s's audit: got size %d, want 6", name, rep.Size)
				}
			}
		})
	}
}

// TestTileVersionsSearched: a tile planted ahead of the log, written over
// by the log, then written over again, leaves the log's version in the
// middle; readers find it by the tree's root, whatever the order.
func TestTileVersionsSearched(t *testing.T) {
	ctx := context.Background()
	store, s := newMemStore(), newKeySigner(t)
	l := newLog(store, s, 64)
	const n = 300 // a full tile of leaves beneath the right edge
	type appended struct {
		a   *ledger.Appended
		err error
	}
	outs := make(chan appended, n)
	for i := range n {
		go func() {
			a, err := l.Append(ctx, tenant, entry(fmt.Sprint("e", i), fmt.Sprint("leaf ", i)), 0)
			outs <- appended{a, err}
		}()
	}
	leaves := make([][]byte, n) // by index: the appends race for places
	var first []byte            // the smallest checkpoint
	for range n {
		o := <-outs
		if o.err != nil {
			t.Fatal(o.err)
		}
		leaves[o.a.Index], _ = leafOf(o.a.Record)
		if o.a.Index == 0 {
			first = []byte(o.a.Proof.Checkpoint)
		}
	}
	l.Flush(ctx)
	cp, _, err := l.Latest(ctx, tenant)
	if err != nil || cp.Size != n {
		t.Fatalf("latest: got %+v, %v", cp, err)
	}
	junk := func(size int) []byte { return []byte(strings.Repeat("j", size)) }
	full, edge := "ledger/acme/tile/8/0/000", fmt.Sprintf("ledger/acme/tile/8/0/001.p/%d", n-256)
	for _, key := range []string{full, edge} {
		data, _, _ := store.Get(ctx, key)
		store.backdate(key, junk(len(data)))
		store.overwrite(key, junk(len(data)))
		store.overwrite(key, junk(len(data)+32))
	}
	cold := newLog(store, s, 1)
	for _, i := range []int64{0, 17, 255, 256, n - 1} {
		p, err := cold.InclusionProof(ctx, tenant, i, n)
		if err == nil {
			err = ledger.VerifyInclusion(cp, i, leaves[i], p)
		}
		if err != nil {
			t.Errorf("entry %d: %v", i, err)
		}
	}
	from, err := ledger.OpenCheckpoint(first, "example.org/log/"+tenant, []*ecdsa.PublicKey{&s.key.PublicKey})
	if err == nil {
		var p ledger.Hashes
		if p, err = cold.ConsistencyProof(ctx, tenant, from.Size, n); err == nil {
			err = ledger.VerifyConsistency(from, cp, p)
		}
	}
	if err != nil {
		t.Errorf("consistency %d to %d: %v", from.Size, n, err)
	}
	if a, err := cold.Append(ctx, tenant, entry("next", "next"), 0); err != nil || a.Index != n {
		t.Errorf("append: got %+v, %v; want index %d", a, err, n)
	}
	rep, err := cold.Audit(ctx, tenant, ledger.Checks{})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{full, edge} {
		if !slices.ContainsFunc(rep.Problems, func(p string) bool { return strings.Contains(p, key) }) {
			t.Errorf("audit: got %q, want a problem naming %s", rep.Problems, key)
		}
	}
}

// TestNoTileVersionTheLogs: when no stored version of a tile is the log's
// (versions beyond what Object Lock keeps), reads fail as tampering, not
// as a fault of the server.
func TestNoTileVersionTheLogs(t *testing.T) {
	ctx := context.Background()
	store, s := newMemStore(), newKeySigner(t)
	sealed(t, store, s, 4)
	store.plant("ledger/acme/tile/8/0/000.p/4", make([]byte, 4*32))
	store.plant("ledger/acme/tile/8/0/000.p/3", make([]byte, 3*32))
	_, err := newLog(store, s, 1).InclusionProof(ctx, tenant, 1, 4)
	if !errors.Is(err, ledger.ErrInvalid) {
		t.Errorf("inclusion proof: got %v, want ledger.ErrInvalid", err)
	}
}
