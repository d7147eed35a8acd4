package vault_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/vault"
)

// sendPart PUTs one part to its presigned URL, as a client would; storage
// refuses other bytes.
func (f fixture) sendPart(p vault.PresignedPart, body []byte) error {
	return f.store.Send(p.Presigned, body)
}

func partURLs(body []byte, plan vault.Multipart) []vault.PartURL {
	var out []vault.PartURL
	for n := 1; n <= plan.Parts; n++ {
		part := body[int64(n-1)*plan.PartSize : min(int64(len(body)), int64(n)*plan.PartSize)]
		sum := sha256.Sum256(part)
		out = append(out, vault.PartURL{Number: n, SHA256: hex.EncodeToString(sum[:])})
	}
	return out
}

func TestMultipartUploadSealsStreamedDigest(t *testing.T) {
	// A budget so small that each complete hashes one chunk: the saved
	// state must carry the digest across calls.
	f := setup(t, vault.Config{LockMode: vault.Governance, SealBudget: time.Nanosecond})
	body := make([]byte, 12<<20+12345)
	rand.Read(body)
	tk, err := f.svc.StartMultipartUpload(as(alice), f.dossier.ID, document("data/set.bin", body), vault.MinPartSize)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Multipart == nil || tk.Multipart.Parts != 3 || tk.Upload.URL != "" {
		t.Fatalf("got ticket %+v, want 3 parts and no single PUT", tk)
	}
	urls := partURLs(body, *tk.Multipart)
	pre, err := f.svc.PresignParts(as(alice), tk.UploadID, urls)
	if err != nil {
		t.Fatal(err)
	}
	part := func(n int) []byte {
		return body[int64(n-1)*tk.Multipart.PartSize : min(int64(len(body)), int64(n)*tk.Multipart.PartSize)]
	}
	for _, n := range []int{3, 1} {
		if err := f.sendPart(pre[n-1], part(n)); err != nil {
			t.Fatalf("part %d: %v", n, err)
		}
	}
	wrong := bytes.Clone(part(2))
	wrong[0] ^= 1
	if err := f.sendPart(pre[1], wrong); !errors.Is(err, memstore.ErrRefused) {
		t.Errorf("part 2 with other bytes: got %v, want refused", err)
	}
	if _, err := f.svc.Complete(as(alice), tk.UploadID); code(err) != vault.CodeNotUploaded || !strings.Contains(err.Error(), "(2)") {
		t.Errorf("complete with part 2 missing: got %v, want not_uploaded naming part 2", err)
	}
	st, err := f.svc.Upload(as(alice), tk.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != "open" || len(st.Parts) != 2 || st.Parts[0].Number != 1 || st.Parts[1].SHA256 != urls[2].SHA256 {
		t.Errorf("got status %+v, want parts 1 and 3 with their digests", st)
	}
	if err := f.sendPart(pre[1], part(2)); err != nil {
		t.Fatalf("part 2: %v", err)
	}
	var r *vault.Receipt
	calls := 0
	for r == nil {
		calls++
		r, err = f.svc.Complete(as(alice), tk.UploadID)
		var pending *vault.SealPending
		if errors.As(err, &pending) {
			if pending.Hashed <= 0 || pending.Hashed >= pending.Size {
				t.Fatalf("got pending %+v", pending)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if calls < 3 {
		t.Errorf("got %d complete calls, want several under a 1 ns budget", calls)
	}
	sum := sha256.Sum256(body)
	if got, want := r.Subject.Digest["sha256"], hex.EncodeToString(sum[:]); got != want {
		t.Errorf("got receipt digest %s, want %s", got, want)
	}
	again, err := f.svc.Complete(as(alice), tk.UploadID)
	if err != nil || again.Predicate.ReceiptID != r.Predicate.ReceiptID {
		t.Errorf("complete again: got %v, %v; want the same receipt", again, err)
	}
	if st, err := f.svc.Upload(as(alice), tk.UploadID); err != nil || st.State != "completed" {
		t.Errorf("got status %+v, %v; want completed", st, err)
	}
	// Storage keeps no SHA-256 of the joined object: verify still holds
	// the receipt's bytes to be the stored version's.
	data, err := json.Marshal(r.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	ver, err := f.svc.Verify(as(alice), data, hex.EncodeToString(sum[:]), nil)
	if err != nil || !ver.Valid {
		t.Errorf("verify of a multipart receipt: got %+v, %v; want valid", ver, err)
	}
}

func TestMultipartDigestMismatchRefused(t *testing.T) {
	f := setup(t, vault.Config{LockMode: vault.Governance})
	body := make([]byte, 6<<20)
	rand.Read(body)
	doc := document("data/other.bin", body)
	doc.File.SHA256 = strings.Repeat("ab", 32) // declared digest of other bytes
	tk, err := f.svc.StartMultipartUpload(as(alice), f.dossier.ID, doc, 0)
	if err != nil {
		t.Fatal(err)
	}
	pre, err := f.svc.PresignParts(as(alice), tk.UploadID, partURLs(body, *tk.Multipart))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.sendPart(pre[0], body); err != nil {
		t.Fatalf("part: %v", err)
	}
	if _, err := f.svc.Complete(as(alice), tk.UploadID); code(err) != vault.CodeIntegrity {
		t.Errorf("got %v, want integrity", err)
	}
	if vs, err := f.svc.Versions(as(alice), f.dossier.ID, doc.Path); err == nil || len(vs) != 0 {
		t.Errorf("got versions %v, %v; want none sealed", vs, err)
	}
}

func TestMultipartRequestsValidated(t *testing.T) {
	f := setup(t, vault.Config{LockMode: vault.Governance})
	body := []byte("small")
	big := document("data/huge.bin", body)
	big.File.Size = 6 << 40
	tests := []struct {
		name    string
		doc     vault.Document
		part    int64
		pointer string
	}{
		{"part too small", document("a.txt", body), 1 << 20, "/partSize"},
		{"too many parts", func() vault.Document { d := document("b.txt", body); d.File.Size = 100 << 30; return d }(), 5 << 20, "/partSize"},
		{"beyond 5 TiB", big, 0, "/file/size"},
	}
	for _, tt := range tests {
		_, err := f.svc.StartMultipartUpload(as(alice), f.dossier.ID, tt.doc, tt.part)
		var ve *vault.Error
		if !errors.As(err, &ve) || len(ve.Fields) == 0 || ve.Fields[len(ve.Fields)-1].Pointer != tt.pointer {
			t.Errorf("%s: got %v, want a field error at %s", tt.name, err, tt.pointer)
		}
	}
	single := document("c.txt", body)
	single.File.Size = 6 << 30
	if _, err := f.svc.StartUpload(as(alice), f.dossier.ID, single); code(err) != vault.CodeInvalid {
		t.Errorf("single PUT of 6 GiB: got %v, want invalid", err)
	}
	tk, err := f.svc.StartMultipartUpload(as(alice), f.dossier.ID, document("d.txt", body), 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.PresignParts(as(alice), tk.UploadID, []vault.PartURL{{Number: 2, SHA256: "x"}})
	var ve *vault.Error
	if !errors.As(err, &ve) || len(ve.Fields) != 2 || ve.Fields[0].Pointer != "/parts/0/partNumber" || ve.Fields[1].Pointer != "/parts/0/sha256" {
		t.Errorf("got %v, want errors at /parts/0/partNumber and /parts/0/sha256", err)
	}
	if err := f.svc.AbortUpload(as(alice), tk.UploadID); err != nil {
		t.Fatal(err)
	}
	if st, err := f.svc.Upload(as(alice), tk.UploadID); err != nil || st.State != "aborted" {
		t.Errorf("after abort: got %+v, %v; want aborted", st, err)
	}
	if _, err := f.svc.Complete(as(alice), tk.UploadID); code(err) != vault.CodeNotUploaded {
		t.Errorf("complete after abort: got %v, want not_uploaded", err)
	}
}

// TestCutReadIsNoVerdict: a connection cut while the seal streams a large
// object is a retryable answer, not an integrity failure; nothing is
// sealed, and the next complete goes on from what was hashed.
func TestCutReadIsNoVerdict(t *testing.T) {
	f := setup(t, vault.Config{LockMode: vault.Governance})
	body := make([]byte, 12<<20+12345)
	rand.Read(body)
	tk, err := f.svc.StartMultipartUpload(as(alice), f.dossier.ID, document("data/set.bin", body), vault.MinPartSize)
	if err != nil {
		t.Fatal(err)
	}
	pre, err := f.svc.PresignParts(as(alice), tk.UploadID, partURLs(body, *tk.Multipart))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pre {
		if err := f.sendPart(p, body[int64(i)*tk.Multipart.PartSize:min(int64(len(body)), int64(i+1)*tk.Multipart.PartSize)]); err != nil {
			t.Fatal(err)
		}
	}
	heal := f.store.CutReads(6 << 20)
	_, err = f.svc.Complete(as(alice), tk.UploadID)
	if code(err) != vault.CodeUnavailable || !strings.Contains(err.Error(), "complete it again") {
		t.Fatalf("complete over a cut read: got %v, want unavailable, to be retried", err)
	}
	if vs, err := f.svc.Versions(as(alice), f.dossier.ID, "data/set.bin"); err == nil || len(vs) != 0 {
		t.Errorf("after a cut read: got versions %+v, %v; want nothing sealed", vs, err)
	}
	heal()
	r, err := f.svc.Complete(as(alice), tk.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if got := r.Subject.Digest["sha256"]; got != hex.EncodeToString(sum[:]) {
		t.Errorf("got receipt digest %s, want the body's", got)
	}
}
