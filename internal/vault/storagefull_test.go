package vault_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/vault"
)

// With storage full, a new process re-sealing an upload already sealed
// answers its receipt: sealing reads what exists before it writes.
func TestResealWhileStorageIsFull(t *testing.T) {
	f := setup(t, vault.Config{})
	body := []byte("a")
	tk, err := f.svc.StartUpload(as(alice), f.dossier.ID, document("a.txt", body))
	if err != nil {
		t.Fatal(err)
	}
	f.put(t, tk, body)
	first, err := f.svc.Complete(as(alice), tk.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	full := fmt.Errorf("memstore: disk full: %w", vault.ErrStorageFull)
	for _, op := range []string{"Create", "Put", "Retain", "Hold"} {
		defer f.store.Inject(memstore.Fail(op, "", full))()
	}
	fresh := newService(f.store, f.signer, vault.Config{})
	again, err := fresh.Complete(as(alice), tk.UploadID)
	if err != nil || again.Predicate.ReceiptID != first.Predicate.ReceiptID {
		t.Fatalf("re-seal while storage is full: got %v (%v), want receipt %s", again, err, first.Predicate.ReceiptID)
	}
	// A new upload cannot be sealed, and says why.
	if _, err := fresh.StartUpload(as(alice), f.dossier.ID, document("b.txt", []byte("b"))); !errors.Is(err, vault.ErrStorageFull) {
		t.Errorf("an upload while storage is full: got %v, want ErrStorageFull", err)
	}
}
