package ledger_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
)

const tenant = "acme"

func keysOf(s keySigner) []*ecdsa.PublicKey { return []*ecdsa.PublicKey{&s.key.PublicKey} }

// audited audits the tenant's log and fails the test on any problem.
func audited(t *testing.T, l *ledger.Log) *ledger.Report {
	t.Helper()
	rep, err := l.Audit(context.Background(), tenant, ledger.Checks{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 {
		t.Fatalf("audit: %q", rep.Problems)
	}
	return rep
}

// verified checks that a is leaf's place in a checkpoint s signed.
func verified(t *testing.T, s keySigner, leaf string, a *ledger.Appended) {
	t.Helper()
	if _, err := ledger.VerifyProof([]byte(leaf), &a.Proof, keysOf(s)); err != nil {
		t.Errorf("proof of %q at %d: %v", leaf, a.Index, err)
	}
}

// TestGroupCommit: concurrent appends in one process share commits, and
// each gets its own index and a proof that holds.
func TestGroupCommit(t *testing.T) {
	store, s := newMemStore(), newKeySigner(t)
	l := newLog(store, s, 0)
	const n = 64
	out := make([]*ledger.Appended, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a, err := l.Append(context.Background(), tenant, entry(fmt.Sprint("e", i), fmt.Sprint("leaf ", i)), 0)
			if err != nil {
				t.Error(err)
			}
			out[i] = a
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	seen := map[int64]bool{}
	for i, a := range out {
		if seen[a.Index] {
			t.Errorf("index %d given twice", a.Index)
		}
		seen[a.Index] = true
		verified(t, s, fmt.Sprint("leaf ", i), a)
	}
	rep := audited(t, l)
	if rep.Size != n || rep.Commits >= n {
		t.Errorf("got %d entries in %d commits, want %d entries in fewer commits", rep.Size, rep.Commits, n)
	}
	t.Logf("%d appends in %d commits", n, rep.Commits)
}

// TestConcurrentAppenders: separate processes (Logs sharing only storage)
// append at once, each entry from two of them; every id lands once.
func TestConcurrentAppenders(t *testing.T) {
	store, s := newMemStore(), newKeySigner(t)
	var logs []*ledger.Log
	for range 4 {
		logs = append(logs, newLog(store, s, 8))
	}
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		for p := range 2 {
			l := logs[(i+p)%len(logs)]
			wg.Go(func() {
				leaf := fmt.Sprint("leaf ", i)
				a, err := l.Append(context.Background(), tenant, entry(fmt.Sprint("e", i), leaf), 0)
				if err != nil {
					t.Error(err)
					return
				}
				verified(t, s, leaf, a)
			})
		}
	}
	wg.Wait()
	if rep := audited(t, logs[0]); rep.Size != n {
		t.Errorf("got %d entries, want %d: one per id", rep.Size, n)
	}
}

// TestCrashAfterCommit: a writer stops after its commit is stored, before
// its tiles and checkpoint are. Another process's append finishes the
// commit, and the retried append returns the entry without appending it
// again.
func TestCrashAfterCommit(t *testing.T) {
	store, s := newMemStore(), newKeySigner(t)
	a, b := newLog(store, s, 0), newLog(store, s, 0)
	from, err := a.Size(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	store.failing("create", "/tile/")
	if _, err := a.Append(context.Background(), tenant, entry("crashed", "first"), from); !errors.Is(err, errCrash) {
		t.Fatalf("append with tile writes failing: got %v, want the injected crash", err)
	}
	store.healed()
	if store.count("/checkpoint/") != 0 {
		t.Fatal("the crashed commit was finished")
	}
	if _, err := b.Append(context.Background(), tenant, entry("next", "second"), 0); err != nil {
		t.Fatal(err)
	}
	// A fresh process retries the crashed append, as a retried request
	// lands on a new Lambda instance.
	retry, err := newLog(store, s, 0).Append(context.Background(), tenant, entry("crashed", "first, signed again"), from)
	if err != nil {
		t.Fatal(err)
	}
	if retry.Index != 0 || string(retry.Record) != string(record("first")) {
		t.Errorf("retry: got index %d, record %s; want index 0 and the record first appended", retry.Index, retry.Record)
	}
	verified(t, s, "first", retry)
	if rep := audited(t, b); rep.Size != 2 {
		t.Errorf("got %d entries, want 2", rep.Size)
	}
}

// TestCrashBeforeCommit: a writer stops before its commit is stored; the
// log holds nothing of it, and the retry appends it once.
func TestCrashBeforeCommit(t *testing.T) {
	store, s := newMemStore(), newKeySigner(t)
	l := newLog(store, s, 0)
	store.failing("create", "/log/")
	if _, err := l.Append(context.Background(), tenant, entry("e", "leaf"), 0); !errors.Is(err, errCrash) {
		t.Fatalf("got %v, want the injected crash", err)
	}
	store.healed()
	a, err := l.Append(context.Background(), tenant, entry("e", "leaf"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Index != 0 {
		t.Errorf("got index %d, want 0", a.Index)
	}
	if rep := audited(t, l); rep.Size != 1 {
		t.Errorf("got %d entries, want 1", rep.Size)
	}
}

func TestDuplicateSuppression(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// run appends "dup" (leaf "first") after other entries and
		// returns how often it may stand in the log.
		run  func(t *testing.T, store *memStore, s keySigner) (got *ledger.Appended, want int)
		leaf string
	}{
		{"retry in the same process", func(t *testing.T, store *memStore, s keySigner) (*ledger.Appended, int) {
			l := newLog(store, s, 0)
			l.Append(ctx, tenant, entry("dup", "first"), 0)
			l.Append(ctx, tenant, entry("other", "x"), 0)
			a, err := l.Append(ctx, tenant, entry("dup", "second"), 0)
			if err != nil {
				t.Fatal(err)
			}
			return a, 1
		}, "first"},
		{"retry in a cold process, bound before what it remembers", func(t *testing.T, store *memStore, s keySigner) (*ledger.Appended, int) {
			l := newLog(store, s, 1)
			l.Append(ctx, tenant, entry("a", "a"), 0)
			from, _ := l.Size(ctx, tenant)
			l.Append(ctx, tenant, entry("dup", "first"), from)
			for i := range 5 {
				l.Append(ctx, tenant, entry(fmt.Sprint("x", i), "x"), 0)
			}
			a, err := newLog(store, s, 1).Append(ctx, tenant, entry("dup", "second"), from)
			if err != nil {
				t.Fatal(err)
			}
			return a, 1
		}, "first"},
		{"appends of one id at once in one process share a commit", func(t *testing.T, store *memStore, s keySigner) (*ledger.Appended, int) {
			l := newLog(store, s, 0)
			var wg sync.WaitGroup
			out := make([]*ledger.Appended, 8)
			for i := range out {
				wg.Go(func() { out[i], _ = l.Append(ctx, tenant, entry("dup", "first"), 0) })
			}
			wg.Wait()
			for _, a := range out {
				if a == nil || a.Index != out[0].Index {
					t.Fatalf("appends of one id got different answers: %+v", out)
				}
			}
			return out[0], 1
		}, "first"},
		{"a bound after the entry appends again", func(t *testing.T, store *memStore, s keySigner) (*ledger.Appended, int) {
			l := newLog(store, s, 0)
			l.Append(ctx, tenant, entry("dup", "first"), 0)
			from, _ := l.Size(ctx, tenant)
			a, err := l.Append(ctx, tenant, entry("dup", "first"), from)
			if err != nil {
				t.Fatal(err)
			}
			return a, 2
		}, "first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, s := newMemStore(), newKeySigner(t)
			got, want := tt.run(t, store, s)
			verified(t, s, tt.leaf, got)
			if string(got.Record) != string(record(tt.leaf)) {
				t.Errorf("got record %s, want %s", got.Record, record(tt.leaf))
			}
			rep, err := newLog(store, s, 0).Audit(ctx, tenant, ledger.Checks{})
			if err != nil {
				t.Fatal(err)
			}
			dups := 0
			for _, p := range rep.Problems {
				if strings.Contains(p, "repeats id dup") {
					dups++
				}
			}
			if dups+1 != want {
				t.Errorf("got %d entries of dup, want %d (problems %q)", dups+1, want, rep.Problems)
			}
		})
	}
}

// TestDerivedObjectsMatchOrSupersede: a tile or checkpoint that exists
// with the bytes its commit implies counts as written; one with other
// bytes (planted where the log writes next) is written over by the log's,
// and the audit names it.
func TestDerivedObjectsMatchOrSupersede(t *testing.T) {
	ctx := context.Background()
	store, s := newMemStore(), newKeySigner(t)
	l := newLog(store, s, 0)
	if _, err := l.Append(ctx, tenant, entry("a", "a"), 0); err != nil {
		t.Fatal(err)
	}
	// Finishing a commit again writes identical bytes: idempotent.
	store.failing("create", "/checkpoint/")
	if _, err := l.Append(ctx, tenant, entry("b", "b"), 0); err == nil {
		t.Fatal("append succeeded with checkpoint writes failing")
	}
	store.healed()
	if _, _, err := newLog(store, s, 0).Latest(ctx, tenant); err != nil {
		t.Fatalf("finishing the commit again: %v", err)
	}
	// A tile planted with other bytes where the next commit's goes: the
	// log writes its own over it, and readers take the log's.
	store.plant("ledger/acme/tile/8/0/000.p/3", make([]byte, 96))
	if _, err := l.Append(ctx, tenant, entry("c", "c"), 0); err != nil {
		t.Fatalf("append over a planted tile: %v", err)
	}
	if _, err := newLog(store, s, 0).InclusionProof(ctx, tenant, 2, 3); err != nil {
		t.Errorf("a proof through the tile written over the plant: %v", err)
	}
	rep, err := l.Audit(ctx, tenant, ledger.Checks{})
	if err != nil || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "tile/8/0/000.p/3") {
		t.Errorf("audit: got %q, %v; want the planted tile named, alone", rep.Problems, err)
	}
}

func TestSizeIsALowerBound(t *testing.T) {
	ctx := context.Background()
	store, s := newMemStore(), newKeySigner(t)
	l := newLog(store, s, 0)
	for i := range 3 {
		l.Append(ctx, tenant, entry(fmt.Sprint(i), "x"), 0)
	}
	cold := newLog(store, s, 0)
	n, err := cold.Size(ctx, tenant)
	if err != nil || n != 3 {
		t.Fatalf("cold Size: got %d, %v; want 3", n, err)
	}
	l.Append(ctx, tenant, entry("3", "x"), 0)
	if n, _ := cold.Size(ctx, tenant); n > 4 {
		t.Errorf("Size %d is beyond the log", n)
	}
	if _, err := newLog(store, nil, 0).Append(ctx, tenant, entry("r", "x"), 0); !errors.Is(err, ledger.ErrReadOnly) {
		t.Errorf("append without a signer: got %v, want ErrReadOnly", err)
	}
}

// TestReadsNotFound: what the log does not hold is a *NotFoundError.
func TestReadsNotFound(t *testing.T) {
	ctx := context.Background()
	l := newLog(newMemStore(), newKeySigner(t), 0)
	_, _, err := l.Latest(ctx, tenant)
	var nf *ledger.NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, ledger.ErrNotFound) || nf.Detail != "log example.org/log/acme has no entries yet" {
		t.Errorf("Latest of an empty log: got %v", err)
	}
	l.Append(ctx, tenant, entry("a", "a"), 0)
	for name, err := range map[string]error{
		"checkpoint at 2":    func() error { _, _, err := l.CheckpointAt(ctx, tenant, 2); return err }(),
		"inclusion of 1":     func() error { _, err := l.InclusionProof(ctx, tenant, 1, 1); return err }(),
		"consistency 2 to 1": func() error { _, err := l.ConsistencyProof(ctx, tenant, 2, 1); return err }(),
	} {
		if !errors.As(err, &nf) {
			t.Errorf("%s: got %v, want a *NotFoundError", name, err)
		}
	}
}

// TestKeeper: every entry of every commit, the writer's own and those a
// process finishes for a crashed writer, is given to the Keeper before its
// commit counts as finished; a failing Keeper leaves the commit
// unfinished, and the next append finishes it.
func TestKeeper(t *testing.T) {
	ctx := context.Background()
	store, s := newMemStore(), newKeySigner(t)
	k := keeperOf(store)
	a := newLog(store, s, 0)
	if _, err := a.Append(ctx, tenant, entry("e1", "one"), 0); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("bundle not written")
	k.failing(boom)
	if _, err := a.Append(ctx, tenant, entry("e2", "two"), 0); !errors.Is(err, boom) {
		t.Fatalf("append with the Keeper failing: got %v, want its error", err)
	}
	if store.count("/checkpoint/") != 1 {
		t.Fatalf("a commit the Keeper failed counts as finished: %d checkpoints", store.count("/checkpoint/"))
	}
	k.failing(nil)
	b := newLog(store, s, 0)
	if _, err := b.Append(ctx, tenant, entry("e3", "three"), 0); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"e1", "e2", "e3"} {
		got, _ := k.Kept(ctx, tenant, id)
		if len(got) != 1 {
			t.Errorf("the Keeper was given %s %d times, want once", id, len(got))
			continue
		}
		verified(t, s, map[string]string{"e1": "one", "e2": "two", "e3": "three"}[id], got[0])
	}
	// A retry of e2 gets the place the Keeper was given.
	again, err := newLog(store, s, 0).Append(ctx, tenant, entry("e2", "two"), 0)
	if err != nil || again.Index != 1 {
		t.Errorf("retry of the entry whose commit was finished by another: got %+v, %v", again, err)
	}
	if rep := audited(t, b); rep.Size != 3 {
		t.Errorf("got %d entries, want 3", rep.Size)
	}
}

// TestKeptPlacesAreChecked: a kept place that is not the entry's place in
// the log (written by someone else) is refused, not taken, and the entry is
// not appended again.
func TestKeptPlacesAreChecked(t *testing.T) {
	ctx := context.Background()
	store, s := newMemStore(), newKeySigner(t)
	k := keeperOf(store)
	l := newLog(store, s, 1)
	l.Append(ctx, tenant, entry("a", "a"), 0)
	l.Append(ctx, tenant, entry("b", "b"), 0)
	l.Flush(ctx)
	forged := *k.places[tenant+"/b"]
	forged.Index = 0
	k.places[tenant+"/b"] = &forged
	// A cold process, whose memory starts after b: it must ask the Keeper.
	l.Append(ctx, tenant, entry("c", "c"), 0)
	l.Flush(ctx)
	_, err := newLog(store, s, 1).Append(ctx, tenant, entry("b", "b"), 0)
	if !errors.Is(err, ledger.ErrInvalid) {
		t.Errorf("got %v, want the forged place refused", err)
	}
	if rep := audited(t, l); rep.Size != 3 {
		t.Errorf("got %d entries, want 3: nothing appended twice", rep.Size)
	}
}

// TestKeptPlacesWrittenOver: a forged place written over the kept one
// (a newer version of the receipt object) is passed over for the one that
// proves its place: the retry gets its real place, and nothing is
// appended twice.
func TestKeptPlacesWrittenOver(t *testing.T) {
	ctx := context.Background()
	store, s := newMemStore(), newKeySigner(t)
	k := keeperOf(store)
	l := newLog(store, s, 1)
	l.Append(ctx, tenant, entry("a", "a"), 0)
	l.Append(ctx, tenant, entry("b", "b"), 0)
	l.Flush(ctx)
	forged := *k.places[tenant+"/b"]
	forged.Index = 0
	k.over = map[string][]*ledger.Appended{tenant + "/b": {&forged}}
	l.Append(ctx, tenant, entry("c", "c"), 0)
	l.Flush(ctx)
	got, err := newLog(store, s, 1).Append(ctx, tenant, entry("b", "b"), 0)
	if err != nil || got.Index != 1 {
		t.Errorf("retry of b with a forged place over its own: got %+v, %v, want index 1", got, err)
	}
	if rep := audited(t, l); rep.Size != 3 {
		t.Errorf("got %d entries, want 3: nothing appended twice", rep.Size)
	}
}

// TestDedupErrorsAnswerTheAppend: a failure while looking for an earlier
// append of the entry answers that append (it does not hang it, nor the
// retry, nor the others of its round).
func TestDedupErrorsAnswerTheAppend(t *testing.T) {
	ctx := context.Background()
	store, s := newMemStore(), newKeySigner(t)
	k := keeperOf(store)
	a := newLog(store, s, 8)
	for i := range 3 {
		a.Append(ctx, tenant, entry(fmt.Sprint("e", i), "x"), 0)
	}
	a.Flush(ctx)
	b := newLog(store, s, 8) // cold: remembers the log from its head on
	b.Size(ctx, tenant)
	boom := errors.New("keeper unreachable")
	k.mu.Lock()
	k.lookup = boom
	k.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var errOld, errNew error
	wg.Go(func() { _, errOld = b.Append(cctx, tenant, entry("late", "late"), 0) })
	wg.Go(func() { _, errNew = b.Append(cctx, tenant, entry("fresh", "fresh"), 3) })
	wg.Wait()
	if !errors.Is(errOld, boom) {
		t.Errorf("append whose earlier copy could not be looked for: got %v, want the keeper's error", errOld)
	}
	if errNew != nil {
		t.Errorf("append beside it: %v", errNew)
	}
	k.mu.Lock()
	k.lookup = nil
	k.mu.Unlock()
	cctx2, cancel2 := context.WithTimeout(ctx, 3*time.Second)
	defer cancel2()
	if _, err := b.Append(cctx2, tenant, entry("late", "late"), 0); err != nil {
		t.Errorf("retry with the keeper back: %v", err)
	}
}
