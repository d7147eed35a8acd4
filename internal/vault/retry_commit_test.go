package vault_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
)

// onceLying: the first Create of a key containing part is done, and then
// answered with an error (a timeout after storage applied it).
type onceLying struct {
	vault.Records
	part string
	done atomic.Bool
}

func (l *onceLying) Create(ctx context.Context, key string, body []byte, lock *vault.Lock) error {
	err := l.Records.Create(ctx, key, body, lock)
	if err == nil && strings.Contains(key, l.part) && l.done.CompareAndSwap(false, true) {
		return fmt.Errorf("timed out: %w", vault.ErrStorageUnavailable)
	}
	return err
}

// TestRetryFinishesTheCommitOfItsReceipt: the receipt bundle's write is
// done but answers a timeout, leaving the commit unfinished (its checkpoint
// not written). The client's retry, answered from the stored bundle, finishes
// the commit first: after its 200 the audit is clean.
func TestRetryFinishesTheCommitOfItsReceipt(t *testing.T) {
	b := memstore.New("evidence")
	sc := memstore.NewScratch("scratch")
	signer := newSigner(t)
	lr := &onceLying{Records: b, part: "/receipts/"}
	var nodes []*vault.Service
	for range 2 {
		st := b.Storage()
		st.Records, st.Scratch = lr, sc
		nodes = append(nodes, vault.New(st, signer, vault.Config{Bucket: b.Bucket(), LockMode: vault.Governance, Logger: slog.New(slog.DiscardHandler)}))
	}
	lr.done.Store(true)
	d, err := nodes[0].CreateDossier(as(alice), dossierInput(udiA, false))
	if err != nil {
		t.Fatal(err)
	}
	c := cluster{store: b, scratch: sc, bucket: b.Bucket(), signer: signer, nodes: nodes, dossier: d}
	tks := c.uploaded(t, "unfinished", 2)
	if _, err := nodes[0].Complete(as(alice), tks[0].UploadID); err != nil {
		t.Fatal(err)
	}
	lr.done.Store(false)
	if _, err = nodes[0].Complete(as(alice), tks[1].UploadID); !errors.Is(err, vault.ErrStorageUnavailable) {
		t.Fatalf("first attempt: got %v, want the storage's timeout", err)
	}
	r, err := nodes[0].Complete(as(alice), tks[1].UploadID) // the client retries; the same warm instance answers
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Latest(fmt.Sprintf("ledger/acme/checkpoint/%020d", r.Log.Index+1)); !ok {
		t.Errorf("after the 200, the checkpoint object of the receipt's commit is missing: the commit is unfinished")
	}
	pin, _ := receipt.NewKey(signer.Key().Public)
	rep, err := vault.AuditLog(context.Background(), b.Storage(), b.Bucket(), "acme", []receipt.Key{pin})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("audit after the acknowledged retry: %q", rep.Problems)
	}
}
