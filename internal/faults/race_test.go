package faults_test

import (
	"testing"
	"time"
)

// TestProcessesRaceOnOneLog: six vault processes, sharing only storage,
// each complete the same 30 uploads in its own order, all at once (the
// client's complete, its retry and the storage event's seal landing in
// different Lambda instances). Every process gets the same receipt for an
// upload, and the log holds each upload once.
func TestProcessesRaceOnOneLog(t *testing.T) {
	w := newWorld(t)
	tks := w.uploads("raced", 30)
	ids := make([]string, len(tks))
	for i, tk := range tks {
		ids[i] = tk.UploadID
	}
	var children []*running
	for p := range 6 {
		children = append(children, w.startChild(childSpec{Uploads: ids, Seed: uint64(p + 1)}))
	}
	start := time.Now()
	for _, c := range children {
		c.start()
	}
	o := newOutcome()
	for p, c := range children {
		res, killed := c.result(t)
		if killed || len(res.Errors) > 0 {
			t.Errorf("process %d: killed %v, errors %q", p, killed, res.Errors)
		}
		for upload, rcpt := range res.Receipts {
			if err := o.ack(upload, rcpt); err != nil {
				t.Errorf("process %d: %v", p, err)
			}
		}
	}
	t.Logf("6 processes x 30 uploads: %d uploads acknowledged to all in %s", len(o.acked), time.Since(start).Round(time.Millisecond))
	w.holds(tks, o)
}
