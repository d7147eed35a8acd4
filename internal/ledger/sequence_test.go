package ledger_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/memstore"
)

// admitLeaves admits every record but those whose leaf starts "forged":
// what the vault's signature check does in these tests.
func admitLeaves(_ context.Context, _ string, record []byte) error {
	leaf, err := leafOf(record)
	if err == nil && strings.HasPrefix(string(leaf), "forged") {
		err = errors.New("not signed by the log's owner")
	}
	return err
}

// newSequencedLog returns one process's Log on store that shares commits
// with the others through scratch.
func newSequencedLog(store ledger.Store, scratch ledger.Scratch, s ledger.Signer, seq ledger.Sequencing) *ledger.Log {
	return ledger.New(store, s, ledger.Config{
		Origin:     func(tenant string) string { return "example.org/log/" + tenant },
		Prefix:     func(tenant string) string { return "ledger/" + tenant + "/" },
		Leaf:       leafOf,
		Keeper:     keeperOf(store),
		Scratch:    scratch,
		Admit:      admitLeaves,
		Sequencing: seq,
	})
}

// appendFromProcesses runs procs processes, each appending perProc entries
// one after another (a Lambda instance serves one request at a time), all
// at once; every entry is also appended by the next process when twice is
// set (a complete racing the storage event's seal). It fails the test on
// any error or proof that does not verify.
func appendFromProcesses(t *testing.T, store ledger.Store, s keySigner, procs, perProc int, twice bool, newLog func() *ledger.Log) []*ledger.Log {
	t.Helper()
	logs := make([]*ledger.Log, procs)
	for p := range logs {
		logs[p] = newLog()
	}
	var wg sync.WaitGroup
	for p := range procs {
		wg.Go(func() {
			for i := range perProc {
				id := fmt.Sprintf("e%02d-%03d", p, i)
				leaf := "leaf " + id
				for k := range 1 + btoi(twice) {
					a, err := logs[(p+k)%procs].Append(context.Background(), tenant, entry(id, leaf), 0)
					if err != nil {
						t.Errorf("append %s: %v", id, err)
						return
					}
					verified(t, s, leaf, a)
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return logs
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// pendingLeft fails the test if any pending entry is left in scratch.
func pendingLeft(t *testing.T, scratch *memstore.Scratch) {
	t.Helper()
	keys, _ := scratch.List(context.Background(), "sequencer/ledger/"+tenant+"/pending/")
	if len(keys) > 0 {
		t.Errorf("pending objects left: %q", keys)
	}
}

// TestSequencedAcrossProcesses: processes sharing only storage, each
// appending one entry at a time, share commits through the lease: far
// fewer commits than entries, each id once, nothing left pending, and the
// head hint kept in scratch, never in the locked store.
func TestSequencedAcrossProcesses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		seq   ledger.Sequencing
		twice bool
	}{
		{name: "defaults", seq: ledger.Sequencing{}},
		{name: "handed over after every round", seq: ledger.Sequencing{Hold: time.Nanosecond}},
		{name: "every entry from two processes", seq: ledger.Sequencing{}, twice: true},
		{name: "lingering holders", seq: ledger.Sequencing{Linger: 20 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, scratch, s := newMemStore(), memstore.NewScratch("scratch"), newKeySigner(t)
			// Each write takes a millisecond, as object storage's do, so
			// that entries arrive while a commit is on its way.
			store.fail = func(op, _ string) error {
				if op == "create" {
					time.Sleep(time.Millisecond)
				}
				return nil
			}
			const procs, perProc = 16, 10
			logs := appendFromProcesses(t, store, s, procs, perProc, tc.twice, func() *ledger.Log {
				return newSequencedLog(store, scratch, s, tc.seq)
			})
			rep := audited(t, logs[0])
			if rep.Size != procs*perProc {
				t.Errorf("got %d entries, want %d: one per id", rep.Size, procs*perProc)
			}
			if rep.Commits > procs*perProc/2 {
				t.Errorf("got %d commits for %d entries, want at most half: processes share commits", rep.Commits, rep.Size)
			}
			t.Logf("%d entries from %d processes in %d commits", rep.Size, procs, rep.Commits)
			pendingLeft(t, scratch)
			for _, l := range logs {
				l.Flush(context.Background())
			}
			if n := store.count("head.json"); n != 0 {
				t.Errorf("got %d head hint writes in the locked store, want 0", n)
			}
			if _, ok := scratch.Body("ledger/" + tenant + "/head.json"); !ok {
				t.Error("no head hint in scratch")
			}
		})
	}
}

// TestRacingWithoutScratch is the same load without a scratch: each
// process commits alone, racing for positions, and the result is the
// same log, in more commits.
func TestRacingWithoutScratch(t *testing.T) {
	store, s := newMemStore(), newKeySigner(t)
	logs := appendFromProcesses(t, store, s, 8, 5, false, func() *ledger.Log { return newLog(store, s, 0) })
	if rep := audited(t, logs[0]); rep.Size != 40 {
		t.Errorf("got %d entries, want 40", rep.Size)
	}
}

// TestPendingEntriesAreInput: whoever can write the scratch bucket can
// leave pending objects. The holder appends none that the log's owner
// does not admit, nor an entry already in the log (whatever position the
// object claims), nor twice one left twice; what does not parse is passed
// over; each such object is deleted, and real appends go on.
func TestPendingEntriesAreInput(t *testing.T) {
	store, scratch, s := newMemStore(), memstore.NewScratch("scratch"), newKeySigner(t)
	l := newSequencedLog(store, scratch, s, ledger.Sequencing{})
	ctx := context.Background()
	first, err := l.Append(ctx, tenant, entry("old", "leaf old"), 0)
	if err != nil {
		t.Fatal(err)
	}
	pending := func(name string, body any) {
		data, _ := json.Marshal(body)
		scratch.Overwrite("sequencer/ledger/"+tenant+"/pending/"+name, data)
	}
	type e struct {
		ID       string          `json:"id"`
		Envelope json.RawMessage `json:"envelope"`
	}
	pending("forged.json", map[string]any{"process": "x", "entries": []e{{"forged", record("forged statement")}}})
	pending("replayed.json", map[string]any{"process": "x", "entries": []e{{"old", record("leaf old")}}})
	pending("twice-a.json", map[string]any{"process": "x", "entries": []e{{"dup", record("leaf dup")}}})
	pending("twice-b.json", map[string]any{"process": "y", "entries": []e{{"dup", record("leaf dup")}}})
	pending("unknown-field.json", map[string]any{"process": "x", "entries": []e{{"odd", record("leaf odd")}}, "from": 99})
	scratch.Overwrite("sequencer/ledger/"+tenant+"/pending/garbage.json", []byte("{"))

	if _, err := l.Append(ctx, tenant, entry("new", "leaf new"), first.Index+1); err != nil {
		t.Fatal(err)
	}
	rep := audited(t, l)
	entries, err := l.Entries(ctx, tenant, 0, rep.Size)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, en := range entries {
		ids = append(ids, en.ID)
	}
	if got, want := strings.Join(ids, " "), "old new dup"; got != want && got != "old dup new" {
		t.Errorf("got log %q, want %q (in some order after old)", got, want)
	}
	pendingLeft(t, scratch)
}

// TestStoppedHolder: a holder that stopped (killed, or frozen with its
// Lambda instance) leaves its lease; appends wait until it has stayed
// unchanged for LeaseTTL, take it over and complete.
func TestStoppedHolder(t *testing.T) {
	store, scratch, s := newMemStore(), memstore.NewScratch("scratch"), newKeySigner(t)
	scratch.Overwrite("sequencer/ledger/"+tenant+"/lease.json", []byte(`{"holder":"stopped"}`))
	seq := ledger.Sequencing{LeaseTTL: 100 * time.Millisecond}
	start := time.Now()
	logs := appendFromProcesses(t, store, s, 4, 3, false, func() *ledger.Log { return newSequencedLog(store, scratch, s, seq) })
	if took := time.Since(start); took < seq.LeaseTTL {
		t.Errorf("appends completed in %s, before the lease could be taken for stopped (%s)", took, seq.LeaseTTL)
	}
	if rep := audited(t, logs[0]); rep.Size != 12 {
		t.Errorf("got %d entries, want 12", rep.Size)
	}
	body, ok := scratch.Body("sequencer/ledger/" + tenant + "/lease.json")
	if !ok || strings.Contains(string(body), "stopped") {
		t.Errorf("lease still names the stopped holder: %s", body)
	}
}

// TestScratchDown: when the scratch bucket fails, appends still complete,
// each process committing on its own.
func TestScratchDown(t *testing.T) {
	store, scratch, s := newMemStore(), memstore.NewScratch("scratch"), newKeySigner(t)
	scratch.Inject(func(context.Context, memstore.Call) error { return memstore.ErrInjected })
	logs := appendFromProcesses(t, store, s, 4, 3, false, func() *ledger.Log { return newSequencedLog(store, scratch, s, ledger.Sequencing{}) })
	if rep := audited(t, logs[0]); rep.Size != 12 {
		t.Errorf("got %d entries, want 12", rep.Size)
	}
}

// TestLinger: a long-lived process keeps the lease across its appends
// (one write to take it for ten of them), releases it once idle for
// Linger, and then another process takes it.
func TestLinger(t *testing.T) {
	store, scratch, s := newMemStore(), memstore.NewScratch("scratch"), newKeySigner(t)
	seq := ledger.Sequencing{Linger: 50 * time.Millisecond}
	l := newSequencedLog(store, scratch, s, seq)
	ctx := context.Background()
	scratch.Calls(true)
	for i := range 10 {
		if _, err := l.Append(ctx, tenant, entry(fmt.Sprint("e", i), fmt.Sprint("leaf ", i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	swaps := 0
	for _, c := range scratch.Calls(false) {
		if c.Op == "Scratch.Swap" {
			swaps++
		}
	}
	if swaps != 1 {
		t.Errorf("got %d lease writes for 10 appends in a row, want 1", swaps)
	}
	lease := "sequencer/ledger/" + tenant + "/lease.json"
	deadline := time.Now().Add(5 * time.Second)
	for {
		body, _ := scratch.Body(lease)
		if strings.Contains(string(body), `"released":true`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease not released after %s idle: %s", seq.Linger, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	other := newSequencedLog(store, scratch, s, ledger.Sequencing{})
	if _, err := other.Append(ctx, tenant, entry("other", "leaf other"), 0); err != nil {
		t.Fatal(err)
	}
	if rep := audited(t, l); rep.Size != 11 {
		t.Errorf("got %d entries, want 11", rep.Size)
	}
}

// TestScratchTampered: whoever can write the scratch bucket can delete
// pending objects as they appear, write the lease over and over for a
// holder that does not exist, or leave a head hint of their own. Appends
// still complete (the lease is only a saving: a waiter no holder serves
// commits its entries itself) and the log holds each once.
func TestScratchTampered(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(scratch *memstore.Scratch, i int)
	}{
		{"pending entries deleted", func(sc *memstore.Scratch, _ int) {
			keys, _ := sc.List(context.Background(), "sequencer/")
			var pending []string
			for _, k := range keys {
				if strings.Contains(k, "/pending/") {
					pending = append(pending, k)
				}
			}
			sc.Delete(context.Background(), pending)
		}},
		{"lease written over and over, with a round of an hour", func(sc *memstore.Scratch, i int) {
			sc.Overwrite("sequencer/ledger/"+tenant+"/lease.json", fmt.Appendf(nil, `{"holder":"nobody-%d","roundMicros":3600000000}`, i))
		}},
		{"head hint of someone else's", func(sc *memstore.Scratch, i int) {
			sc.Overwrite("ledger/"+tenant+"/head.json", fmt.Appendf(nil, `{"start":0,"size":%d,"checkpoint":"forged"}`, i+1))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, scratch, s := newMemStore(), memstore.NewScratch("scratch"), newKeySigner(t)
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
						tc.tamper(scratch, i)
					}
				}
			}()
			seq := ledger.Sequencing{LeaseTTL: 100 * time.Millisecond}
			logs := appendFromProcesses(t, store, s, 4, 5, false, func() *ledger.Log { return newSequencedLog(store, scratch, s, seq) })
			close(stop)
			<-done
			// A process starting cold reads the hint that is there, and
			// finds the log's head whatever it says.
			fresh := newSequencedLog(store, scratch, s, seq)
			if cp, _, err := fresh.Latest(context.Background(), tenant); err != nil || cp.Size != 20 {
				t.Errorf("a cold start's latest checkpoint: size %d (%v), want 20", cp.Size, err)
			}
			if rep := audited(t, logs[0]); rep.Size != 20 {
				t.Errorf("got %d entries, want 20", rep.Size)
			}
		})
	}
}

// TestHintOfAnUnfinishedCommit: whoever can write the scratch bucket can
// point the head hint, and a released lease's head, at a commit its writer
// left unfinished. Neither is taken: the next append finishes the commit
// (its tiles, the Keeper's place, its checkpoint) and builds on it, and the
// retry of the crashed append finds its entry.
func TestHintOfAnUnfinishedCommit(t *testing.T) {
	ctx := context.Background()
	store, scratch, s := newMemStore(), memstore.NewScratch("scratch"), newKeySigner(t)
	a := newSequencedLog(store, scratch, s, ledger.Sequencing{})
	if _, err := a.Append(ctx, tenant, entry("a", "a"), 0); err != nil {
		t.Fatal(err)
	}
	from, _ := a.Size(ctx, tenant)
	store.failing("create", "/tile/") // the writer stops after its commit
	if _, err := a.Append(ctx, tenant, entry("crashed", "crashed"), from); err == nil {
		t.Fatal("append succeeded with tiles failing")
	}
	store.healed()
	a.Flush(ctx)
	data, _, _ := store.Get(ctx, "ledger/"+tenant+"/log/00000000000000000001.json")
	var c struct {
		Start, Size int64
		Checkpoint  string
	}
	json.Unmarshal(data, &c)
	hint, _ := json.Marshal(map[string]any{"start": c.Start, "size": c.Size, "checkpoint": c.Checkpoint})
	scratch.Overwrite("ledger/"+tenant+"/head.json", hint)
	scratch.Overwrite("sequencer/ledger/"+tenant+"/lease.json", fmt.Appendf(nil, `{"holder":"x","released":true,"head":%s}`, hint))

	b := newSequencedLog(store, scratch, s, ledger.Sequencing{})
	if _, err := b.Append(ctx, tenant, entry("next", "next"), 0); err != nil {
		t.Fatalf("append of a cold process: %v", err)
	}
	retry, err := newSequencedLog(store, scratch, s, ledger.Sequencing{}).Append(ctx, tenant, entry("crashed", "crashed"), from)
	if err != nil || retry.Index != 1 {
		t.Fatalf("retry of the crashed append: %+v, %v; want it at 1", retry, err)
	}
	if store.count("/checkpoint/00000000000000000002") == 0 {
		t.Error("the commit the hint named was never finished")
	}
	if k, _ := keeperOf(store).Kept(ctx, tenant, "crashed"); len(k) == 0 {
		t.Error("the Keeper never got the crashed entry's place")
	}
	if rep := audited(t, b); rep.Size != 3 {
		t.Errorf("got %d entries, want 3", rep.Size)
	}
}

// TestAppendAnswersAtItsDeadline: the append that leads a round answers
// when its caller's deadline passes, while the round goes on for the
// others.
func TestAppendAnswersAtItsDeadline(t *testing.T) {
	store, s := newMemStore(), newKeySigner(t)
	store.fail = func(op, key string) error {
		if op == "create" && strings.Contains(key, "/log/") {
			time.Sleep(2 * time.Second)
		}
		return nil
	}
	l := newLog(store, s, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := l.Append(ctx, tenant, entry("e", "leaf"), 0)
	if took := time.Since(start); took > time.Second || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("append with a 200ms deadline: %v after %s, want the deadline's error at once", err, took.Round(time.Millisecond))
	}
	store.healed()
	if a, err := l.Append(context.Background(), tenant, entry("e", "leaf"), 0); err != nil || a.Index != 0 {
		t.Errorf("the append again: %+v, %v; want the round's entry at 0", a, err)
	}
}

// TestPendingEntriesBoundedByBatch: a round holds at most MaxBatch entries
// whatever the pending objects hold; the rest wait for the next, and an
// object of more entries than a batch (no process leaves one) is refused.
func TestPendingEntriesBoundedByBatch(t *testing.T) {
	ctx := context.Background()
	store, scratch, s := newMemStore(), memstore.NewScratch("scratch"), newKeySigner(t)
	l := ledger.New(store, s, ledger.Config{Origin: func(t string) string { return "example.org/log/" + t },
		Prefix: func(t string) string { return "ledger/" + t + "/" }, Leaf: leafOf, Keeper: keeperOf(store),
		Scratch: scratch, Admit: admitLeaves, MaxBatch: 2})
	type e struct {
		ID       string          `json:"id"`
		Envelope json.RawMessage `json:"envelope"`
	}
	pending := func(name string, n int) {
		var es []e
		for i := range n {
			id := fmt.Sprintf("%s-%d", name, i)
			es = append(es, e{id, record("leaf " + id)})
		}
		body, _ := json.Marshal(map[string]any{"process": name, "entries": es})
		scratch.Overwrite("sequencer/ledger/"+tenant+"/pending/"+name+"-1.json", body)
	}
	pending("huge", 50)
	pending("one", 1)
	pending("two", 1)
	if _, err := l.Append(ctx, tenant, entry("mine", "leaf mine"), 0); err != nil {
		t.Fatal(err)
	}
	rep := audited(t, l)
	if rep.Size != 3 || rep.Commits != 2 {
		t.Errorf("got %d entries in %d commits, want mine and the two single ones, at most 2 per commit", rep.Size, rep.Commits)
	}
	pendingLeft(t, scratch)
}

// TestPendingObjectThatFitsABatch: a waiter's object of a whole batch is
// committed in a round of its own when the holder's entries leave no room
// for it, not refused as larger than a batch.
func TestPendingObjectThatFitsABatch(t *testing.T) {
	ctx := context.Background()
	store, scratch, s := newMemStore(), memstore.NewScratch("scratch"), newKeySigner(t)
	l := ledger.New(store, s, ledger.Config{Origin: func(t string) string { return "example.org/log/" + t },
		Prefix: func(t string) string { return "ledger/" + t + "/" }, Leaf: leafOf, Keeper: keeperOf(store),
		Scratch: scratch, Admit: admitLeaves, MaxBatch: 3})
	type e struct {
		ID       string          `json:"id"`
		Envelope json.RawMessage `json:"envelope"`
	}
	var es []e
	for i := range 3 {
		id := fmt.Sprintf("w-%d", i)
		es = append(es, e{id, record("leaf " + id)})
	}
	body, _ := json.Marshal(map[string]any{"process": "waiter", "entries": es})
	scratch.Overwrite("sequencer/ledger/"+tenant+"/pending/waiter-1.json", body)
	if _, err := l.Append(ctx, tenant, entry("mine", "leaf mine"), 0); err != nil {
		t.Fatal(err)
	}
	if rep := audited(t, l); rep.Size != 4 {
		t.Errorf("got %d entries, want mine and the waiter's 3", rep.Size)
	}
	pendingLeft(t, scratch)
}

// TestHintOverAWrittenOverCheckpoint: the log's hint is taken when someone
// wrote over the checkpoint object the log wrote at its size: a cold
// process reads one commit, not the log from its start.
func TestHintOverAWrittenOverCheckpoint(t *testing.T) {
	ctx := context.Background()
	store, scratch, s := newMemStore(), memstore.NewScratch("scratch"), newKeySigner(t)
	a := newSequencedLog(store, scratch, s, ledger.Sequencing{})
	for i := range 20 {
		if _, err := a.Append(ctx, tenant, entry(fmt.Sprint("e", i), fmt.Sprint("leaf ", i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	a.Flush(ctx)
	store.overwrite(fmt.Sprintf("ledger/%s/checkpoint/%020d", tenant, 20), []byte("planted\n"))
	var reads atomic.Int64
	store.fail = func(op, key string) error {
		if (op == "get" || op == "versions") && strings.Contains(key, "/log/") {
			reads.Add(1)
		}
		return nil
	}
	b := newSequencedLog(store, scratch, s, ledger.Sequencing{})
	if _, err := b.Append(ctx, tenant, entry("next", "next"), 0); err != nil {
		t.Fatal(err)
	}
	if n := reads.Load(); n > 5 {
		t.Errorf("a cold process read %d commit objects, want a few: the log's hint was refused", n)
	}
}
