package ledger_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/evidencevault/vault/internal/ledger"
)

// Anyone with the bucket's credentials can write a new version over any
// object of the log, or plant one where none was. Reads keep to what the
// log wrote; what cannot be read past stops appends with an error naming
// the object; the audit names each.

func commitAt(t *testing.T, store *memStore, start int) map[string]any {
	t.Helper()
	data, _, _ := store.Get(context.Background(), fmt.Sprintf("ledger/acme/log/%020d.json", start))
	var c map[string]any
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// sealed appends n entries, one commit each, and returns the log.
func sealed(t *testing.T, store *memStore, s keySigner, n int) *ledger.Log {
	t.Helper()
	l := newLog(store, s, 1)
	for i := range n {
		if _, err := l.Append(context.Background(), tenant, entry(fmt.Sprint("e", i), fmt.Sprint("leaf ", i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	l.Flush(context.Background())
	return l
}

func TestReadsLookPastWritesOver(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		tamper func(t *testing.T, store *memStore, other keySigner)
		audit  string // what the audit's first problem names
	}{
		{"a commit's entry written over", func(t *testing.T, store *memStore, _ keySigner) {
			c := commitAt(t, store, 1)
			c["entries"] = []any{map[string]any{"id": "e1", "envelope": "forged"}}
			body, _ := json.Marshal(c)
			store.overwrite("ledger/acme/log/00000000000000000001.json", body)
		}, "commit at 1"},
		{"an older commit copied over a newer", func(t *testing.T, store *memStore, _ keySigner) {
			data, _, _ := store.Get(ctx, "ledger/acme/log/00000000000000000000.json")
			store.overwrite("ledger/acme/log/00000000000000000002.json", data)
		}, "commit at 2"},
		{"a tile written over", func(t *testing.T, store *memStore, _ keySigner) {
			store.overwrite("ledger/acme/tile/8/0/000.p/2", make([]byte, 64))
		}, "tile ledger/acme/tile/8/0/000.p/2"},
		{"a checkpoint written over with an older one", func(t *testing.T, store *memStore, _ keySigner) {
			data, _, _ := store.Get(ctx, "ledger/acme/checkpoint/00000000000000000001")
			store.overwrite("ledger/acme/checkpoint/00000000000000000003", data)
		}, "checkpoint 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, s := newMemStore(), newKeySigner(t)
			sealed(t, store, s, 4)
			tt.tamper(t, store, newKeySigner(t))
			// A cold process reads the whole log from its start.
			store.plant("ledger/acme/head.json", []byte("{}"))
			cold := newLog(store, s, 1)
			cp, _, err := cold.Latest(ctx, tenant)
			if err != nil || cp.Size != 4 {
				t.Fatalf("latest: got size %d, %v; want the log's 4 entries", cp.Size, err)
			}
			for i := range 4 {
				p, err := cold.InclusionProof(ctx, tenant, int64(i), 4)
				if err == nil {
					err = ledger.VerifyInclusion(cp, int64(i), []byte(fmt.Sprint("leaf ", i)), p)
				}
				if err != nil {
					t.Errorf("entry %d: %v", i, err)
				}
			}
			if _, _, err := cold.CheckpointAt(ctx, tenant, 3); err != nil {
				t.Errorf("checkpoint 3: %v", err)
			}
			a, err := cold.Append(ctx, tenant, entry("e4", "leaf 4"), 0)
			if err != nil || a.Index != 4 {
				t.Errorf("append after the tampering: got %+v, %v", a, err)
			}
			rep, err := cold.Audit(ctx, tenant, ledger.Checks{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Problems) == 0 || !strings.Contains(rep.Problems[0], tt.audit) {
				t.Errorf("audit: got %q, want a first problem naming %q", rep.Problems, tt.audit)
			}
		})
	}
}

// TestForgedAppendStopsTheLog: a commit planted at the next position, signed
// by another key, is no commit of this log. Readers see the log up to it;
// appends fail naming it rather than build on it.
func TestForgedAppendStopsTheLog(t *testing.T) {
	ctx := context.Background()
	store, s := newMemStore(), newKeySigner(t)
	l := sealed(t, store, s, 2)
	// The attacker's log: the same entries, then one of theirs, signed by
	// their key, at the position the next commit goes.
	theirs := newMemStore()
	forger := newLog(theirs, newKeySigner(t), 1)
	for _, leaf := range []string{"leaf 0", "leaf 1", "forged"} {
		forger.Append(ctx, tenant, entry(leaf, leaf), 0)
	}
	data, _, _ := theirs.Get(ctx, "ledger/acme/log/00000000000000000002.json")
	store.plant("ledger/acme/log/00000000000000000002.json", data)

	for name, log := range map[string]*ledger.Log{"warm": l, "cold": newLog(store, s, 1)} {
		cp, _, err := log.Latest(ctx, tenant)
		if err != nil || cp.Size != 2 {
			t.Errorf("%s latest: got size %d, %v; want 2, the log's own", name, cp.Size, err)
		}
		_, err = log.Append(ctx, tenant, entry("next", "next"), 0)
		var te *ledger.TamperedError
		if !errors.As(err, &te) || te.Key != "ledger/acme/log/00000000000000000002.json" {
			t.Errorf("%s append: got %v, want a TamperedError naming the planted commit", name, err)
		}
	}
	rep, err := l.Audit(ctx, tenant, ledger.Checks{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) == 0 || !strings.Contains(rep.Problems[0], "commit at 2") {
		t.Errorf("audit: got %q, want it to name the commit at 2", rep.Problems)
	}
}

// TestCheckpointFoundOnce: a checkpoint found beneath versions someone
// wrote over it is kept, so that the next read of that size does not read
// every version again (the cost of junk stays once per process).
func TestCheckpointFoundOnce(t *testing.T) {
	ctx := context.Background()
	store, s := newMemStore(), newKeySigner(t)
	sealed(t, store, s, 4)
	for range 50 {
		store.overwrite("ledger/acme/checkpoint/00000000000000000002", []byte("junk"))
	}
	l := newLog(store, s, 1)
	first, _, err := l.CheckpointAt(ctx, tenant, 2)
	if err != nil || first.Size != 2 {
		t.Fatalf("checkpoint 2 beneath junk: got %+v, %v", first, err)
	}
	store.failing("versions", "checkpoint/")
	defer store.healed()
	again, _, err := l.CheckpointAt(ctx, tenant, 2)
	if err != nil || again != first {
		t.Errorf("checkpoint 2 again: got %+v, %v; want it without reading its versions again", again, err)
	}
}

// TestAuditNamesCheckpointNoCommitWrote: a commit of several entries
// writes one checkpoint, at its end; an object at a size inside it is
// someone else's, whatever it holds.
func TestAuditNamesCheckpointNoCommitWrote(t *testing.T) {
	ctx := context.Background()
	store, s := newMemStore(), newKeySigner(t)
	grouped(t, store, s, 4)
	inside := -1
	for p := 0; p < 4; {
		n := int(commitAt(t, store, p)["size"].(float64))
		if n-p > 1 {
			inside = p + 1
		}
		p = n
	}
	if inside < 0 {
		t.Fatal("precondition: no commit of several entries")
	}
	key := fmt.Sprintf("ledger/acme/checkpoint/%020d", inside)
	if _, found, _ := store.Get(ctx, key); found {
		t.Fatalf("precondition: %s exists before the plant", key)
	}
	last, _, _ := store.Get(ctx, fmt.Sprintf("ledger/acme/checkpoint/%020d", 4))
	store.plant(key, last)
	rep, err := newLog(store, s, 1).Audit(ctx, tenant, ledger.Checks{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], key) || !strings.Contains(rep.Problems[0], "no commit's checkpoint") {
		t.Errorf("audit: got %q, want one problem naming %s as no commit's checkpoint", rep.Problems, key)
	}
}
