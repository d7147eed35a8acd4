package faults_test

import (
	"syscall"
	"testing"
	"time"
)

// TestStoragePausedDuringBurst stops MinIO (SIGSTOP) while eight clients
// complete uploads, each attempt within the API's deadline of 25 s: for 6
// s, which the S3 client's retries ride out, and for 20 s, longer than
// they do: attempts then fail with a retryable error, none waits past its
// deadline, and once MinIO goes on the clients' retries complete.
func TestStoragePausedDuringBurst(t *testing.T) {
	const deadline = 25 * time.Second
	for _, pause := range []time.Duration{6 * time.Second, 20 * time.Second} {
		t.Run(pause.String(), func(t *testing.T) {
			w := newWorld(t)
			w.t = t
			tks := w.uploads("paused", 48)
			o := newOutcome()
			done := make(chan time.Duration)
			start := time.Now()
			go func() {
				complete(w.direct, tks, 8, deadline, o)
				done <- time.Since(start)
			}()
			time.Sleep(300 * time.Millisecond)
			if err := w.env.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			paused := time.Now()
			time.Sleep(pause)
			if err := w.env.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			t.Logf("MinIO paused %s", time.Since(paused).Round(time.Millisecond))
			took := <-done
			t.Logf("burst: %s in %s", o, took.Round(time.Millisecond))
			if o.slowest > deadline+time.Second {
				t.Errorf("an attempt took %s, past its deadline of %s", o.slowest, deadline)
			}
			w.holds(tks, o)
		})
	}
}
