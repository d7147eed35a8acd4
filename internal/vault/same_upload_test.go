package vault_test

import (
	"testing"

	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/vault"
)

// The same upload sent again while the first is in flight (a re-run after
// the API died before answering) is one version, whichever is sealed
// first; asking for a new version, or new metadata, makes two.
func TestSameUploadInFlightIsOneVersion(t *testing.T) {
	body := []byte("the same report\n")
	cases := []struct {
		name         string
		secondFirst  bool
		newVersion   bool
		otherTitle   bool
		wantVersions int
	}{
		{name: "first sealed first", wantVersions: 1},
		{name: "second sealed first", secondFirst: true, wantVersions: 1},
		{name: "new version asked", newVersion: true, wantVersions: 2},
		{name: "new metadata", otherTitle: true, wantVersions: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := setup(t, vault.Config{})
			f.sealed(t, "other.txt", []byte("starts the log\n"))
			doc := document("same.txt", body)
			first, err := f.svc.StartUpload(as(alice), f.dossier.ID, doc)
			if err != nil {
				t.Fatal(err)
			}
			f.put(t, first, body)
			if c.otherTitle {
				doc.Title = "Report, revised title"
			}
			second, err := f.svc.BeginUpload(as(alice), f.dossier.ID, doc, vault.UploadOptions{NewVersion: c.newVersion})
			if err != nil {
				t.Fatalf("second start while the first is unsealed: %v", err)
			}
			f.put(t, second, body)
			before := logSize(t, f)
			order := []vault.Ticket{first, second}
			if c.secondFirst {
				order = []vault.Ticket{second, first}
			}
			var got []*vault.Receipt
			for _, tk := range append(order, order...) { // each completed twice
				r, err := f.svc.Complete(as(alice), tk.UploadID)
				if err != nil {
					t.Fatalf("complete %s: %v", tk.UploadID, err)
				}
				got = append(got, r)
			}
			vs, err := f.svc.Versions(as(alice), f.dossier.ID, "same.txt")
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != c.wantVersions {
				t.Fatalf("got %d versions, want %d", len(vs), c.wantVersions)
			}
			same := got[0].Predicate.ReceiptID == got[1].Predicate.ReceiptID
			if want := c.wantVersions == 1; same != want {
				t.Errorf("got receipts %s and %s, want the same one: %v", got[0].Predicate.ReceiptID, got[1].Predicate.ReceiptID, want)
			}
			for i := 2; i < 4; i++ {
				if got[i].Predicate.ReceiptID != got[i-2].Predicate.ReceiptID {
					t.Errorf("retry %d: got receipt %s, want %s", i-2, got[i].Predicate.ReceiptID, got[i-2].Predicate.ReceiptID)
				}
			}
			if n := logSize(t, f) - before; n != int64(c.wantVersions) {
				t.Errorf("got %d log entries, want %d", n, c.wantVersions)
			}
		})
	}
}

// An upload of the same bytes finishes the seal of the first one when its
// sealer stopped after claiming the version, before the receipt.
func TestSameUploadFinishesTheFirstSeal(t *testing.T) {
	f := setup(t, vault.Config{})
	f.sealed(t, "other.txt", []byte("starts the log\n"))
	body := []byte("the same report\n")
	doc := document("same.txt", body)
	first, err := f.svc.StartUpload(as(alice), f.dossier.ID, doc)
	if err != nil {
		t.Fatal(err)
	}
	f.put(t, first, body)
	second, err := f.svc.StartUpload(as(alice), f.dossier.ID, doc)
	if err != nil {
		t.Fatal(err)
	}
	f.put(t, second, body)
	before := logSize(t, f)
	heal := f.store.Inject(memstore.Fail("Create", "/log/", nil))
	if _, err := f.svc.Complete(as(alice), first.UploadID); err == nil {
		t.Fatal("complete with the log failing: no error")
	}
	heal()
	r, err := f.svc.Complete(as(alice), second.UploadID)
	if err != nil {
		t.Fatalf("the second upload: %v", err)
	}
	if r.Log == nil || r.Predicate.Version != 1 {
		t.Fatalf("got version %d, logged %v; want version 1, logged", r.Predicate.Version, r.Log != nil)
	}
	again, err := f.svc.Complete(as(alice), first.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Predicate.ReceiptID != r.Predicate.ReceiptID {
		t.Errorf("got receipt %s for the first upload, want %s", again.Predicate.ReceiptID, r.Predicate.ReceiptID)
	}
	if n := logSize(t, f) - before; n != 1 {
		t.Errorf("got %d log entries, want 1", n)
	}
}

func logSize(t *testing.T, f fixture) int64 {
	t.Helper()
	cp, err := f.svc.Checkpoint(as(alice), 0)
	if err != nil {
		t.Fatal(err)
	}
	return cp.Size
}

// TestRevertIsANewVersion: bytes of an older version uploaded again, the
// latest being other bytes, are a new version, however soon after the
// older one: only versions sealed while the upload was in flight are its
// own.
func TestRevertIsANewVersion(t *testing.T) {
	f := setup(t, vault.Config{})
	x, y := []byte("revision A\n"), []byte("revision B\n")
	f.sealed(t, "doc.txt", x)
	f.sealed(t, "doc.txt", y)
	r := f.sealed(t, "doc.txt", x)
	if r.Predicate.Version != 3 {
		t.Errorf("the revert to revision A: got version %d, want 3", r.Predicate.Version)
	}
}
