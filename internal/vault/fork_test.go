package vault_test

import (
	"context"
	"crypto/ecdsa"
	"strings"
	"testing"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
)

// TestDeleteMarkerCannotForkTheLog: the operator hides the newest commit
// under a delete marker, which S3's If-None-Match takes for no object,
// and leaves a process whose head is stale without the lease's handover
// (the lease deleted, or the scratch bucket failing). That process must
// not sign a second tree at a size the log has signed, nor give a second
// receipt the index of an acknowledged one.
func TestDeleteMarkerCannotForkTheLog(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(t *testing.T, c cluster)
	}{
		{name: "lease deleted", edit: func(t *testing.T, c cluster) {
			lease, err := c.scratch.List(context.Background(), "sequencer/")
			if err != nil || len(lease) == 0 {
				t.Fatalf("no lease to delete: %v (%v)", lease, err)
			}
			if err := c.scratch.Delete(context.Background(), lease); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "scratch failing", edit: func(t *testing.T, c cluster) {
			c.scratch.Inject(func(_ context.Context, call memstore.Call) error {
				if strings.HasPrefix(call.Op, "Scratch.") {
					return memstore.ErrInjected
				}
				return nil
			})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t, 2, vault.Governance)
			tks := c.uploaded(t, "fork", 4)
			// Node 1 has read the log; node 0 appends after it.
			if _, err := c.nodes[1].Complete(as(alice), tks[0].UploadID); err != nil {
				t.Fatal(err)
			}
			b, err := c.nodes[0].Complete(as(alice), tks[1].UploadID)
			if err != nil {
				t.Fatal(err)
			}
			keys, err := c.store.List(context.Background(), "ledger/acme/log/")
			if err != nil || len(keys) == 0 {
				t.Fatalf("no commits: %v", err)
			}
			c.store.Hide(keys[len(keys)-1].Key)
			tt.edit(t, c)
			r, err := c.nodes[1].Complete(as(alice), tks[2].UploadID)
			if err != nil {
				t.Fatal(err)
			}
			if r.Log.Index == b.Log.Index {
				t.Errorf("two receipts at index %d", b.Log.Index)
			}
			pub := []*ecdsa.PublicKey{c.signer.Key().Public}
			leafB, _ := receipt.Payload(b.Envelope)
			leafR, _ := receipt.Payload(r.Envelope)
			cpB, errB := ledger.VerifyProof(leafB, b.Log, pub)
			cpR, errR := ledger.VerifyProof(leafR, r.Log, pub)
			if errB != nil || errR != nil {
				t.Fatalf("proofs: %v, %v", errB, errR)
			}
			if cpB.Size == cpR.Size && cpB.Hash != cpR.Hash {
				t.Errorf("two trees of size %d signed by the log's key", cpB.Size)
			}
			// The log goes on from both processes, one chain: the audit
			// names the delete marker, and nothing else.
			if _, err := c.nodes[0].Complete(as(alice), tks[3].UploadID); err != nil {
				t.Fatal(err)
			}
			rep := c.audit(t)
			if rep.Size != 5 || rep.Receipts != 4 {
				t.Errorf("audit: got size %d, %d receipts, want 5 and 4", rep.Size, rep.Receipts)
			}
			for _, p := range rep.Problems {
				if !strings.Contains(p, "delete marker") {
					t.Errorf("audit: %s", p)
				}
			}
		})
	}
}
