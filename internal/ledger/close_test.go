package ledger_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/memstore"
)

// TestCloseReleasesIdleLease: a stopping process hands on the lease it
// keeps for Linger at once, rather than leaving it to the timer (which
// would run after the process, or the test, has gone).
func TestCloseReleasesIdleLease(t *testing.T) {
	store, scratch, s := newMemStore(), memstore.NewScratch("scratch"), newKeySigner(t)
	l := newSequencedLog(store, scratch, s, ledger.Sequencing{Linger: time.Hour})
	ctx := context.Background()
	if _, err := l.Append(ctx, tenant, entry("e", "leaf"), 0); err != nil {
		t.Fatal(err)
	}
	lease := "sequencer/ledger/" + tenant + "/lease.json"
	if body, _ := scratch.Body(lease); strings.Contains(string(body), `"released":true`) {
		t.Fatalf("lease released before Linger or Close: %s", body)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if body, _ := scratch.Body(lease); !strings.Contains(string(body), `"released":true`) {
		t.Errorf("got lease %s after Close, want it released", body)
	}
	if err := l.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestCloseWaitsForRoundOfGoneAppend: an append whose caller gave up
// (its deadline passed, as an HTTP handler's may before Shutdown ends)
// leaves its round running. Close waits for it, and the round, ending
// after Close began, lets go of the lease at once instead of keeping it
// for Linger behind a timer nothing would stop.
func TestCloseWaitsForRoundOfGoneAppend(t *testing.T) {
	store, scratch, s := newMemStore(), memstore.NewScratch("scratch"), newKeySigner(t)
	l := newSequencedLog(store, scratch, s, ledger.Sequencing{Linger: time.Hour})
	entered, unblock := make(chan struct{}), make(chan struct{})
	var once sync.Once
	scratch.Inject(func(_ context.Context, c memstore.Call) error {
		if c.Op == "Scratch.Get" && strings.HasSuffix(c.Key, "lease.json") {
			once.Do(func() { close(entered); <-unblock })
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := l.Append(ctx, tenant, entry("e", "leaf"), 0); errc <- err }()
	<-entered
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("append answered though its caller left")
	}
	closed := make(chan error, 1)
	go func() { closed <- l.Close(context.Background()) }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a round still ran", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(unblock)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	lease := "sequencer/ledger/" + tenant + "/lease.json"
	if body, _ := scratch.Body(lease); !strings.Contains(string(body), `"released":true`) {
		t.Errorf("got lease %s after Close, want it released", body)
	}
	if rep := audited(t, l); rep.Size != 1 {
		t.Errorf("got %d entries, want the gone caller's 1", rep.Size)
	}
}

// TestCloseTimesOut: a round that does not end within Close's context
// makes Close say so rather than wait on.
func TestCloseTimesOut(t *testing.T) {
	store, scratch, s := newMemStore(), memstore.NewScratch("scratch"), newKeySigner(t)
	l := newSequencedLog(store, scratch, s, ledger.Sequencing{Linger: time.Hour})
	entered, unblock := make(chan struct{}), make(chan struct{})
	defer close(unblock)
	var once sync.Once
	scratch.Inject(func(_ context.Context, c memstore.Call) error {
		if c.Op == "Scratch.Get" && strings.HasSuffix(c.Key, "lease.json") {
			once.Do(func() { close(entered); <-unblock })
		}
		return nil
	})
	go l.Append(context.Background(), tenant, entry("e", "leaf"), 0)
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want a deadline exceeded", err)
	}
}

// TestAppendAfterClose: a closed Log takes no appends, so that none can
// take the lease and keep it for Linger after the process stopped.
func TestAppendAfterClose(t *testing.T) {
	store, scratch, s := newMemStore(), memstore.NewScratch("scratch"), newKeySigner(t)
	l := newSequencedLog(store, scratch, s, ledger.Sequencing{Linger: time.Hour})
	ctx := context.Background()
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, tenant, entry("e", "leaf"), 0); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("got %v, want ErrClosed", err)
	}
	if body, ok := scratch.Body("sequencer/ledger/" + tenant + "/lease.json"); ok {
		t.Errorf("got lease %s, want none taken", body)
	}
}
