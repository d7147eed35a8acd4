package faults_test

import (
	"maps"
	"syscall"
	"testing"
	"time"
)

// TestStoragePausedDuringBurst stops MinIO (SIGSTOP) as eight clients
// start completing uploads, each attempt within the API's deadline of 25
// s: for 6 s, which the S3 client's retries ride out (every attempt is
// acknowledged), and for 20 s, longer than they do: attempts then fail
// with a retryable error before their deadline (a client that waited the
// pause out would have none), and once MinIO goes on the clients'
// retries complete.
func TestStoragePausedDuringBurst(t *testing.T) {
	const deadline = 25 * time.Second
	for _, tc := range []struct {
		pause      time.Duration
		ridesItOut bool
	}{{6 * time.Second, true}, {20 * time.Second, false}} {
		t.Run(tc.pause.String(), func(t *testing.T) {
			w := newWorld(t)
			w.t = t
			tks := w.uploads("paused", 48)
			o := newOutcome()
			done := make(chan time.Duration)
			// Paused first, so that the burst cannot end before it.
			if err := w.env.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			paused := time.Now()
			go func() {
				complete(w.direct, tks, 8, deadline, o)
				done <- time.Since(paused)
			}()
			time.Sleep(tc.pause)
			if err := w.env.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			t.Logf("MinIO paused %s", time.Since(paused).Round(time.Millisecond))
			took := <-done
			t.Logf("burst: %s in %s", o, took.Round(time.Millisecond))
			if o.slowest > deadline+time.Second {
				t.Errorf("an attempt took %s, past its deadline of %s", o.slowest, deadline)
			}
			o.mu.Lock()
			kinds := maps.Clone(o.errors)
			acked := len(o.acked)
			o.mu.Unlock()
			unavailable := kinds["storage-unavailable"]
			delete(kinds, "storage-unavailable")
			switch {
			case len(kinds) > 0:
				t.Errorf("attempts failed with %v, want storage-unavailable alone (retryable, before the deadline)", kinds)
			case tc.ridesItOut && acked != len(tks):
				t.Errorf("a %s pause: %d of %d acknowledged, want the S3 client's retries to ride it out", tc.pause, acked, len(tks))
			case !tc.ridesItOut && unavailable == 0:
				t.Errorf("a %s pause: no attempt failed, want those in flight to fail as storage-unavailable rather than wait it out", tc.pause)
			}
			w.holds(tks, o)
		})
	}
}
