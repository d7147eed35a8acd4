package vault_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/vault"
)

// TestIdempotencyAcrossClocks: processes share the buckets, their clocks
// apart. A repeat on a process whose clock is two minutes ahead does not
// run a request another process still runs; one whose writer's clock was
// hours ahead (no process's, within any skew), or a pending attempt an
// operator dated 2100 in the scratch bucket, does not block the key.
func TestIdempotencyAcrossClocks(t *testing.T) {
	b := memstore.New("evidence")
	sc := memstore.NewScratch("scratch")
	signer := newSigner(t)
	process := func(skew time.Duration) *vault.Service {
		st := b.Storage()
		st.Scratch = sc
		return vault.New(st, signer, vault.Config{Bucket: b.Bucket(), Logger: slog.New(slog.DiscardHandler),
			Now: func() time.Time { return time.Now().Add(skew) }})
	}
	right, ahead := process(0), process(2*time.Minute)

	// A request runs on the right clock; its repeat reaches the process
	// ahead while it runs.
	var runs atomic.Int32
	hold, started, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		right.Remember(as(alice), "key-1", []byte("fp"), func() ([]byte, error) {
			runs.Add(1)
			close(started)
			<-hold
			return []byte(`"first"`), nil
		})
	}()
	<-started
	_, _, err := ahead.Remember(as(alice), "key-1", []byte("fp"), func() ([]byte, error) { runs.Add(1); return []byte(`"second"`), nil })
	close(hold)
	<-done
	if vault.ErrorCode(err) != vault.CodeInProgress || runs.Load() != 1 {
		t.Errorf("repeat on a clock 2 min ahead: got %v, the request run %d times; want in progress, once", err, runs.Load())
	}

	// A process whose clock ran hours ahead began a request and died.
	stopped := make(chan struct{})
	go process(3*time.Hour).Remember(as(alice), "key-2", []byte("fp"), func() ([]byte, error) { <-stopped; return nil, errors.New("killed") })
	defer close(stopped)
	sum := sha256.Sum256([]byte(alice.Subject + "\nkey-2"))
	waitFor(t, func() bool {
		keys, _ := sc.List(context.Background(), "")
		return slices.ContainsFunc(keys, func(k string) bool { return strings.Contains(k, hex.EncodeToString(sum[:])) })
	})
	if got, _, err := right.Remember(as(alice), "key-2", []byte("fp"), func() ([]byte, error) { return []byte(`"ran"`), nil }); err != nil || string(got) != `"ran"` {
		t.Errorf("repeat after a process hours ahead died: got %s, %v; want it run", got, err)
	}

	// An operator rewrites a failed attempt as pending, dated 2100.
	right.Remember(as(alice), "key-3", []byte("fp"), func() ([]byte, error) { return nil, errors.New("refused") })
	keys, _ := sc.List(context.Background(), "transient/")
	for _, k := range keys {
		body, _ := sc.Body(k)
		if strings.Contains(string(body), `"failed"`) {
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			m["state"], m["at"] = "pending", "2100-01-01T00:00:00Z"
			sc.Overwrite(k, mustJSON(t, m))
		}
	}
	if got, _, err := right.Remember(as(alice), "key-3", []byte("fp"), func() ([]byte, error) { return []byte(`"ok"`), nil }); err != nil || string(got) != `"ok"` {
		t.Errorf("repeat after the scratch edit: got %s, %v; want it run", got, err)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for range 200 {
		if ok() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("timed out")
}
