package faults_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/evidencevault/vault/internal/vault"
)

// TestKilledAtEachStep kills a vault process (SIGKILL) right after each
// storage request of one complete in turn, from the first to the last: a
// cold process's reads of the keys and the log's head, the session, the
// upload's stat, the chain's listing and entry, the lease, the commit, its
// tile, the receipt bundle, the checkpoint, the release and the head hint.
// Each time the client then retries through another process, which takes
// over the lease the dead one may hold and completes the upload; at the
// end the log holds each upload once.
func TestKilledAtEachStep(t *testing.T) {
	w := newWorld(t)
	o := newOutcome()
	retry := func(tks ...vault.Ticket) {
		t.Helper()
		for _, tk := range tks {
			r, err := w.direct.Complete(as(uploader), tk.UploadID)
			if err != nil {
				t.Fatalf("retry of %s: %v", tk.UploadID, err)
			}
			if err := o.ack(tk.UploadID, r.Predicate.ReceiptID); err != nil {
				t.Error(err)
			}
		}
	}
	// The log exists; then one complete of a cold process, not killed:
	// how many requests it makes.
	warm := w.uploads("warm", 2)
	retry(warm[0])
	c := w.startChild(childSpec{Uploads: []string{warm[1].UploadID}})
	c.start()
	res, killed := c.result(t)
	if killed || len(res.Receipts) != 1 {
		t.Fatalf("probe complete: killed %v, %+v", killed, res)
	}
	o.ack(warm[1].UploadID, res.Receipts[warm[1].UploadID])
	steps := res.Requests
	t.Logf("a cold process's complete makes %d storage requests; killing one after each", steps)
	tks := w.uploads("killed", int(steps))
	done := 0
	for k := range steps {
		c := w.startChild(childSpec{Uploads: []string{tks[k].UploadID}, KillAfter: k + 1})
		c.start()
		res, killed := c.result(t)
		switch {
		case killed:
		case len(res.Receipts) == 1:
			// Done with fewer requests than the probe's.
			done++
			o.ack(tks[k].UploadID, res.Receipts[tks[k].UploadID])
		default:
			t.Errorf("killed after request %d: the process lived and failed: %v", k+1, res.Errors)
		}
		w.oneEach(tks, o, false)
		t.Logf("killed after request %2d: left %s", k+1, w.left(tks[k]))
		retry(tks[k])
	}
	t.Logf("%d processes killed, %d finished first", int(steps)-done, done)
	w.holds(append(warm, tks...), o)
}

// left describes what a stopped complete of tk left: its version, its
// entry in the log, pending entries and the lease in the scratch bucket.
func (w *world) left(tk vault.Ticket) string {
	w.t.Helper()
	ctx := as(uploader)
	version, inLog := "no version", "not in the log"
	if vs, err := w.direct.Versions(ctx, w.dossier, tk.Path); err == nil && len(vs) > 0 {
		version = "version claimed"
		if r, err := w.direct.Receipt(ctx, vs[0].ReceiptID); err == nil && r.Log != nil {
			inLog = "in the log"
		}
	}
	client := w.env.Client(w.t)
	list, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(w.scratch), Prefix: aws.String("sequencer/")})
	if err != nil {
		w.t.Fatal(err)
	}
	pending, lease := 0, "no lease"
	for _, o := range list.Contents {
		switch key := aws.ToString(o.Key); {
		case strings.Contains(key, "/pending/"):
			pending++
		case strings.HasSuffix(key, "lease.json"):
			out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(w.scratch), Key: o.Key})
			if err == nil {
				buf, _ := io.ReadAll(out.Body)
				out.Body.Close()
				n := len(buf)
				lease = "lease held"
				if strings.Contains(string(buf[:n]), `"released":true`) {
					lease = "lease released"
				}
			}
		}
	}
	return fmt.Sprintf("%s, %s, %d pending, %s", version, inLog, pending, lease)
}
