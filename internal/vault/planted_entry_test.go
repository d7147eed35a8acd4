package vault_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/vault"
)

// plantedEntry writes chain entry n of same.txt as an operator would: a
// copy of a real entry of another document, made to name upload as its
// own, changed by edit.
func plantedEntry(t *testing.T, f fixture, n int, upload string, doc vault.Document, evKey, versionID string, edit func(m map[string]any)) {
	t.Helper()
	tmpl, ok := f.store.Latest("vault/acme/versions/" + f.dossier.ID + "/other.txt/0000000001.json")
	if !ok {
		t.Fatal("no entry to copy")
	}
	var m map[string]any
	if err := json.Unmarshal(tmpl, &m); err != nil {
		t.Fatal(err)
	}
	d, _ := json.Marshal(doc)
	var dm map[string]any
	json.Unmarshal(d, &dm)
	m["version"], m["document"], m["uploadId"], m["receiptId"] = n, dm, upload, "rcp_"+strings.TrimPrefix(upload, "upl_")
	m["key"], m["versionId"], m["sha256"], m["size"] = evKey, versionID, doc.File.SHA256, doc.File.Size
	m["sealedAt"] = time.Now().UTC()
	if edit != nil {
		edit(m)
	}
	out, _ := json.Marshal(m)
	f.store.Overwrite(fmt.Sprintf("vault/acme/versions/%s/same.txt/%010d.json", f.dossier.ID, n), out)
}

// TestPlantedEntryIsNotSigned: an entry naming an upload in flight, which
// anyone with bucket access can write before the vault claims one, is
// signed only if it says what the upload declared, of bytes storage holds
// from it, kept as long as the dossier keeps them. Otherwise the seal is
// refused as tampering and nothing is logged.
func TestPlantedEntryIsNotSigned(t *testing.T) {
	other := sha256.Sum256([]byte("bytes nobody uploaded"))
	tests := []struct {
		name string
		// plant writes the entries, given the uploads and B's version.
		plant func(t *testing.T, f fixture, a, b string, doc vault.Document, key, version string)
	}{
		{"B's own entry, of other bytes", func(t *testing.T, f fixture, a, b string, doc vault.Document, key, version string) {
			plantedEntry(t, f, 1, b, doc, key, version, func(m map[string]any) { m["sha256"] = hex.EncodeToString(other[:]) })
		}},
		{"B's own entry, of a version storage lacks", func(t *testing.T, f fixture, a, b string, doc vault.Document, key, version string) {
			plantedEntry(t, f, 1, b, doc, key, "forged-version", nil)
		}},
		{"B's own entry, of a version B did not send", func(t *testing.T, f fixture, a, b string, doc vault.Document, key, version string) {
			// The operator's PUT of the same bytes, without B's upload id.
			body := []byte("the same report\n")
			if err := f.store.Put(context.Background(), key, body); err != nil {
				t.Fatal(err)
			}
			info, _ := f.store.Stat(context.Background(), key, "")
			plantedEntry(t, f, 1, b, doc, key, info.VersionID, nil)
		}},
		{"B's own entry, kept a year", func(t *testing.T, f fixture, a, b string, doc vault.Document, key, version string) {
			plantedEntry(t, f, 1, b, doc, key, version, func(m map[string]any) {
				m["retention"].(map[string]any)["retainUntil"] = time.Now().AddDate(1, 0, 0).UTC()
			})
		}},
		{"B's own entry, by someone else", func(t *testing.T, f fixture, a, b string, doc vault.Document, key, version string) {
			plantedEntry(t, f, 1, b, doc, key, version, func(m map[string]any) { m["uploader"].(map[string]any)["subject"] = "mallory@acme.example" })
		}},
		{"B's own entry, superseding nothing", func(t *testing.T, f fixture, a, b string, doc vault.Document, key, version string) {
			plantedEntry(t, f, 1, a, doc, key, version, nil)
			plantedEntry(t, f, 2, b, doc, key, version, func(m map[string]any) { m["supersedes"] = nil })
		}},
		{"A's entry of B's bytes, naming B's PUT", func(t *testing.T, f fixture, a, b string, doc vault.Document, key, version string) {
			plantedEntry(t, f, 1, a, doc, key, version, nil)
		}},
		{"A's entry of B's bytes, then A's of other bytes", func(t *testing.T, f fixture, a, b string, doc vault.Document, key, version string) {
			plantedEntry(t, f, 1, a, doc, key, version, nil)
			plantedEntry(t, f, 2, a, doc, key, "forged-version", func(m map[string]any) { m["sha256"] = hex.EncodeToString(other[:]) })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, vault.Config{})
			f.sealed(t, "other.txt", []byte("starts the log\n"))
			body := []byte("the same report\n")
			doc := document("same.txt", body)
			a, err := f.svc.StartUpload(as(alice), f.dossier.ID, doc) // never sent
			if err != nil {
				t.Fatal(err)
			}
			b, err := f.svc.StartUpload(as(alice), f.dossier.ID, doc)
			if err != nil {
				t.Fatal(err)
			}
			f.put(t, b, body)
			key := "evidence/acme/" + f.dossier.ID + "/same.txt"
			info, err := f.store.Stat(context.Background(), key, "")
			if err != nil {
				t.Fatal(err)
			}
			tt.plant(t, f, a.UploadID, b.UploadID, doc, key, info.VersionID)
			before := logSize(t, f)
			r, err := f.svc.Complete(as(alice), b.UploadID)
			if vault.ErrorCode(err) != vault.CodeTampered {
				t.Fatalf("got receipt %v for sha256 %v (%v), want tampered", r != nil, receiptSHA(r), err)
			}
			if n := logSize(t, f) - before; n != 0 {
				t.Errorf("got %d log entries, want none", n)
			}
		})
	}
}

func receiptSHA(r *vault.Receipt) string {
	if r == nil {
		return ""
	}
	return r.Subject.Digest["sha256"]
}

// TestUploadSentTwiceSeals: a client that PUTs its upload twice (a retry
// after a lost answer) leaves two versions of it; a seal retried after the
// first claimed one of them still seals.
func TestUploadSentTwiceSeals(t *testing.T) {
	f := setup(t, vault.Config{})
	f.sealed(t, "other.txt", []byte("starts the log\n"))
	body := []byte("the same report\n")
	tk, err := f.svc.StartUpload(as(alice), f.dossier.ID, document("same.txt", body))
	if err != nil {
		t.Fatal(err)
	}
	f.put(t, tk, body)
	heal := f.store.Inject(memstore.Fail("Create", "/log/", nil))
	if _, err := f.svc.Complete(as(alice), tk.UploadID); err == nil {
		t.Fatal("complete with the log failing: no error")
	}
	heal()
	f.put(t, tk, body) // the client's second PUT, after the claim
	r, err := f.svc.Complete(as(alice), tk.UploadID)
	if err != nil {
		t.Fatalf("the retried seal: %v", err)
	}
	if r.Log == nil || r.Predicate.Version != 1 {
		t.Errorf("got version %d, logged %v; want version 1, logged", r.Predicate.Version, r.Log != nil)
	}
}
