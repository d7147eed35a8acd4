package ledger_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
)

// Entry ids are not in the tree: a copy of a commit that renames an entry
// verifies as the log's does. With Config.ID (the vault's: ids are what
// the signed records name) such a copy is no commit at all; without, the
// log refuses to tell the two apart rather than serve either id.

// rewrite returns the commit stored at start (its newest version) with f
// applied to its decoded form.
func rewrite(t *testing.T, store *memStore, start int, f func(c map[string]any)) []byte {
	t.Helper()
	c := commitAt(t, store, start)
	f(c)
	body, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// renameEntry sets the id of entry i of a decoded commit.
func renameEntry(i int, id string) func(map[string]any) {
	return func(c map[string]any) {
		es := c["entries"].([]any)
		es[i].(map[string]any)["id"] = id
	}
}

// coldEntries reads entries 0 to n with a fresh process that walks the log
// from its start.
func coldEntries(t *testing.T, l *ledger.Log, r rotation, n int64) ([]ledger.Stored, error) {
	t.Helper()
	r.store.overwrite("ledger/acme/head.json", []byte("{}"))
	return l.Entries(context.Background(), tenant, 0, n)
}

// idOf is a Config.ID for these tests' records: "leaf N" is entry eN.
func idOf(record []byte) (string, error) {
	leaf, err := leafOf(record)
	n, ok := strings.CutPrefix(string(leaf), "leaf ")
	if err != nil || !ok {
		return "", fmt.Errorf("record %s names no entry", record)
	}
	return "e" + n, nil
}

// withIDs is r's process that checks entry ids against records.
func (r rotation) withIDs() *ledger.Log {
	cfg := r.config()
	cfg.ID = idOf
	return ledger.New(r.store, r.current, cfg)
}

func TestRenamedEntries(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, r rotation)
	}{
		{"the current key's commit copied with an entry renamed", func(t *testing.T, r rotation) {
			r.store.backdate(commitKey(4), rewrite(t, r.store, 4, renameEntry(0, "key-forged")))
		}},
		{"the retired key's commit copied with an entry renamed", func(t *testing.T, r rotation) {
			r.store.backdate(commitKey(1), rewrite(t, r.store, 1, renameEntry(0, "key-forged")))
		}},
		{"the current key's commit copied, renamed, written over (newest)", func(t *testing.T, r rotation) {
			r.store.overwrite(commitKey(4), rewrite(t, r.store, 4, renameEntry(0, "key-forged")))
		}},
		{"the retired key re-bounds the log's entries, one renamed", func(t *testing.T, r rotation) {
			body := forge(t, r.retired, 0, "leaf 0", "leaf 1")
			var c map[string]any
			json.Unmarshal(body, &c)
			renameEntry(1, "key-forged")(c)
			body, _ = json.Marshal(c)
			r.store.backdate(commitKey(0), body)
		}},
		{"the current key's checkpoint of 4 in a commit at 2 holding entries 2 and 3", func(t *testing.T, r rotation) {
			cp4 := commitAt(t, r.store, 3)["checkpoint"]
			body, _ := json.Marshal(map[string]any{"start": 2, "size": 4, "time": time.Now().UTC(), "checkpoint": cp4,
				"entries": []any{
					map[string]any{"id": "key-forged", "envelope": record("leaf 2")},
					map[string]any{"id": "e3", "envelope": record("leaf 3")},
				}})
			r.store.backdate(commitKey(2), body)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRotation(t)
			tt.tamper(t, r)
			es, err := coldEntries(t, r.withIDs(), r, 5)
			if err != nil || len(es) != 5 {
				t.Fatalf("with ids checked: got %d entries, %v; want the log's 5", len(es), err)
			}
			for i, e := range es {
				if want := fmt.Sprint("e", i); e.ID != want {
					t.Errorf("with ids checked: entry %d: got id %q, want the log's %q", i, e.ID, want)
				}
			}
			// Without: refused, or the log's; never the other id.
			es, _ = coldEntries(t, r.log(r.current), r, 5)
			for i, e := range es {
				if want := fmt.Sprint("e", i); e.ID != want {
					t.Errorf("without: entry %d: got id %q, want the log's %q or none", i, e.ID, want)
				}
			}
		})
	}
}

// TestRenamedEntryDoesNotAnswerAppend: a renamed entry in a version of a
// commit must not answer a later append of that id, which would be told
// its entry is in the log, with someone else's record.
func TestRenamedEntryDoesNotAnswerAppend(t *testing.T) {
	ctx := context.Background()
	r := newRotation(t)
	r.store.backdate(commitKey(4), rewrite(t, r.store, 4, renameEntry(0, "e9")))
	r.store.overwrite("ledger/acme/head.json", []byte("{}"))
	checked := r.withIDs()
	a, err := checked.Append(ctx, tenant, entry("e9", "leaf 9"), 0)
	if err != nil || a.Index != 5 || string(a.Record) != string(record("leaf 9")) {
		t.Errorf("with ids checked: append of e9: got %+v, %v; want index 5 with its own record", a, err)
	}
	checked.Flush(ctx) // its head hint is written before the next is lost
	r.store.overwrite("ledger/acme/head.json", []byte("{}"))
	a, err = r.log(r.current).Append(ctx, tenant, entry("e10", "leaf 10"), 0)
	if !errors.Is(err, ledger.ErrTampered) {
		t.Errorf("without: got %+v, %v; want the log to refuse to grow (tampered)", a, err)
	}
}

// grouped seals entries e0..e{n-1} as a commit of one entry and a commit
// of the other n-1: the second process's first round waits on its head
// read until every append is queued.
func grouped(t *testing.T, store *memStore, s keySigner, n int) {
	t.Helper()
	ctx := context.Background()
	l0 := newLog(store, s, 256)
	if _, err := l0.Append(ctx, tenant, entry("e0", "leaf 0"), 0); err != nil {
		t.Fatal(err)
	}
	l0.Flush(ctx)
	gate := make(chan struct{})
	store.mu.Lock()
	store.fail = func(op, key string) error {
		if op == "get" && strings.HasSuffix(key, "head.json") {
			<-gate
		}
		return nil
	}
	store.mu.Unlock()
	l := newLog(store, s, 256)
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Go(func() {
			if _, err := l.Append(ctx, tenant, entry(fmt.Sprint("e", i), fmt.Sprint("leaf ", i)), 0); err != nil {
				t.Error(err)
			}
		})
		if i == 1 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(50 * time.Millisecond)
	close(gate)
	wg.Wait()
	store.healed()
	l.Flush(ctx)
	if t.Failed() {
		t.FailNow()
	}
}

// TestPlantedCommitCopiesCheckpoint: an object planted at a
// position where no commit starts, inside one of the log's commits, with
// the log's own checkpoint copied and entries of its own. chainCommit
// checks the checkpoint's tree against the head, but not that the entries
// make it: Entries must not serve them.
func TestPlantedCommitCopiesCheckpoint(t *testing.T) {
	ctx := context.Background()
	store, s := newMemStore(), newKeySigner(t)
	grouped(t, store, s, 5)
	// The commits: [0,1) and the rest, in one or more commits; find one
	// that holds more than one entry.
	var start, size int
	for p := 0; p < 5; {
		c := commitAt(t, store, p)
		n := int(c["size"].(float64))
		if n-p > 1 {
			start, size = p, n
			break
		}
		p = n
	}
	if size == 0 {
		t.Fatal("precondition: no commit of several entries")
	}
	before, err := newLog(store, s, 1).Entries(ctx, tenant, 0, 5)
	if err != nil || len(before) != 5 {
		t.Fatalf("entries before: %d, %v", len(before), err)
	}
	c := commitAt(t, store, start)
	var entries []any
	for i := start + 1; i < size; i++ {
		entries = append(entries, map[string]any{"id": fmt.Sprint("e", i), "envelope": record(fmt.Sprint("forged ", i))})
	}
	planted := fmt.Sprintf("ledger/acme/log/%020d.json", start+1)
	body, _ := json.Marshal(map[string]any{"start": start + 1, "size": size, "time": time.Now().UTC(), "checkpoint": c["checkpoint"], "entries": entries})
	store.plant(planted, body)

	cold := newLog(store, s, 1)
	for _, from := range []int64{0, int64(start + 1)} {
		es, err := cold.Entries(ctx, tenant, from, 5)
		if err != nil {
			t.Errorf("entries from %d: %v", from, err)
			continue
		}
		for _, e := range es {
			if want := string(before[e.Index].Record); string(e.Record) != want {
				t.Errorf("entries from %d: entry %d: got %s, want the log's %s", from, e.Index, e.Record, want)
			}
		}
	}
	rep, err := cold.Audit(ctx, tenant, ledger.Checks{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rep.Problems, func(p string) bool { return strings.Contains(p, planted) }) {
		t.Errorf("audit: got %q, want a problem naming %s", rep.Problems, planted)
	}
}

// TestManyVersionsOfACommit: a commit written over many times, each
// version a copy of the log's with another time, still reads as the log's.
func TestManyVersionsOfACommit(t *testing.T) {
	r := newRotation(t)
	for i := range 200 {
		r.store.backdate(commitKey(1), rewrite(t, r.store, 1, func(c map[string]any) {
			c["time"] = time.Unix(int64(i), 0).UTC()
		}))
	}
	es, err := coldEntries(t, r.log(r.current), r, 5)
	if err != nil || len(es) != 5 || es[1].ID != "e1" {
		t.Fatalf("entries: got %+v, %v; want the log's 5", es, err)
	}
}
