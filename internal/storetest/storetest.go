// Package storetest is the contract of the vault's storage, as tests: the
// behaviour of S3 the vault relies on, run against MinIO (in s3store's
// tests) and against the in-memory bucket (in memstore's), so that the
// fake the domain's tests run on behaves like the real thing.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/vault"
)

// Subject is one bucket under test, with what a client and an operator can
// do to it besides the vault's own calls.
type Subject struct {
	vault.Storage
	// Send makes a presigned PUT of body, as a client would.
	Send func(p vault.Presigned, body []byte) error
	// Hide puts a delete marker on key, as an operator with bucket
	// credentials could.
	Hide func(key string) error
	// Remove deletes one version of key, as an operator could try to.
	Remove func(key, versionID string) error
}

// Run runs every case of the contract on a fresh subject each.
func Run(t *testing.T, fresh func(t *testing.T) Subject) {
	cases := []struct {
		name string
		run  func(t *testing.T, s Subject)
	}{
		{"create is conditional", createIsConditional},
		{"a delete marker hides, the version stays", deleteMarkerHides},
		{"presigned PUT is bound to its declaration", presignedPut},
		{"retention is kept and extended", retention},
		{"a legal hold refuses deletion until it is lifted", legalHold},
		{"multipart upload", multipart},
		{"unknown versions are not found", unknownVersion},
		{"open reads from an offset", openFromOffset},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, fresh(t)) })
	}
}

var ctx = context.Background()

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func createIsConditional(t *testing.T, s Subject) {
	if err := s.Records.Create(ctx, "vault/a.json", []byte(`{"n":1}`), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Records.Create(ctx, "vault/a.json", []byte(`{"n":2}`), nil); !errors.Is(err, vault.ErrExists) {
		t.Fatalf("second create: got %v, want vault.ErrExists", err)
	}
	if got, err := s.Records.Get(ctx, "vault/a.json"); err != nil || string(got) != `{"n":1}` {
		t.Errorf("got %s, %v; want the first body kept", got, err)
	}
	if _, err := s.Records.Get(ctx, "vault/missing.json"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("get missing: got %v, want vault.ErrNotFound", err)
	}
	if err := s.Records.Put(ctx, "vault/a.json", []byte(`{"n":3}`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Records.Get(ctx, "vault/a.json"); string(got) != `{"n":3}` {
		t.Errorf("after put: got %s, want the new body", got)
	}
	if ids, err := s.Objects.Versions(ctx, "vault/a.json"); err != nil || len(ids) != 2 {
		t.Errorf("versions: got %v, %v; want two", ids, err)
	}
	if objs, _ := s.Records.List(ctx, "vault/a"); len(objs) != 1 || len(objs[0].Versions) != 2 || !objs[0].Versions[0].LastModified.Before(objs[0].Versions[1].LastModified.Add(time.Second)) {
		t.Errorf("list: got %+v, want one key with its two versions, oldest first", objs)
	}
}

func deleteMarkerHides(t *testing.T, s Subject) {
	lock := &vault.Lock{Mode: vault.Governance, Until: time.Now().Add(time.Hour)}
	if err := s.Records.Create(ctx, "vault/h.json", []byte(`{}`), lock); err != nil {
		t.Fatal(err)
	}
	ids, _ := s.Objects.Versions(ctx, "vault/h.json")
	if err := s.Hide("vault/h.json"); err != nil {
		t.Fatal(err)
	}
	// A delete marker hides nothing from the vault: Get reads the version
	// beneath, List shows the versions and the marker.
	if got, err := s.Records.Get(ctx, "vault/h.json"); err != nil || string(got) != `{}` {
		t.Errorf("get under a delete marker: got %q, %v; want the version beneath", got, err)
	}
	objs, err := s.Records.List(ctx, "vault/")
	if err != nil || len(objs) != 1 || objs[0].Key != "vault/h.json" || len(objs[0].Versions) != 2 ||
		objs[0].Versions[0].DeleteMarker || !objs[0].Versions[1].DeleteMarker || !objs[0].Overwritten() {
		t.Errorf("list under a delete marker: got %+v, %v; want the version, then the marker", objs, err)
	}
	if orig, ok := objs[0].Original(); !ok || orig.ID != ids[0] {
		t.Errorf("original: got %+v, want version %s", orig, ids[0])
	}
	if got, err := s.Records.GetVersion(ctx, "vault/h.json", ids[0]); err != nil || string(got) != `{}` {
		t.Errorf("get version: got %q, %v", got, err)
	}
	if _, err := s.Objects.Stat(ctx, "vault/h.json", ""); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("stat of the latest under a delete marker: got %v, want vault.ErrNotFound", err)
	}
	info, err := s.Objects.Stat(ctx, "vault/h.json", ids[0])
	if err != nil || info.Size != 2 {
		t.Errorf("the locked version beneath: got %+v, %v", info, err)
	}
	if after, _ := s.Objects.Versions(ctx, "vault/h.json"); !slices.Equal(after, ids) {
		t.Errorf("versions under a delete marker: got %v, want %v (markers left out)", after, ids)
	}
	// A conditional create finds no object under a delete marker: S3
	// writes it as a new version (why the vault lists before it creates
	// what must exist once).
	if err := s.Records.Create(ctx, "vault/h.json", []byte(`{"again":1}`), nil); err != nil {
		t.Errorf("create under a delete marker: got %v, want a new version", err)
	}
	if got, _ := s.Records.Get(ctx, "vault/h.json"); string(got) != `{"again":1}` {
		t.Errorf("after the create under the marker: got %q, want the new version", got)
	}
}

func presignedPut(t *testing.T, s Subject) {
	body := []byte("clinical evaluation report, revision C\n")
	req := vault.PutRequest{Key: "evidence/t/d/cer.txt", Size: int64(len(body)), SHA256: sum(body), ContentType: "text/plain",
		Metadata: map[string]string{"upload-id": "upl_test"}, TTL: time.Minute,
		Lock: &vault.Lock{Mode: vault.Governance, Until: time.Now().Add(time.Hour).Truncate(time.Second)}}
	put, err := s.Presigner.PresignPut(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(put, bytes.ToUpper(body)); err == nil {
		t.Error("other bytes of the same length were stored")
	}
	if err := s.Send(put, append(slices.Clone(body), '!')); err == nil {
		t.Error("one byte more was stored")
	}
	if ids, _ := s.Objects.Versions(ctx, req.Key); len(ids) != 0 {
		t.Fatalf("refused uploads left %d versions", len(ids))
	}
	if err := s.Send(put, body); err != nil {
		t.Fatal(err)
	}
	info, err := s.Objects.Stat(ctx, req.Key, "")
	if err != nil {
		t.Fatal(err)
	}
	if info.SHA256 != req.SHA256 || info.Size != req.Size || info.Metadata["upload-id"] != "upl_test" || info.ContentType != "text/plain" ||
		info.LockMode != vault.Governance || !info.RetainUntil.Equal(req.Lock.Until) {
		t.Errorf("got %+v, want the declared sha256, size, content type, upload id and lock", info)
	}
}

func retention(t *testing.T, s Subject) {
	if err := s.Records.Create(ctx, "vault/r.json", []byte(`{}`), nil); err != nil {
		t.Fatal(err)
	}
	ids, _ := s.Objects.Versions(ctx, "vault/r.json")
	until := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	if err := s.Objects.Retain(ctx, "vault/r.json", ids[0], vault.Lock{Mode: vault.Governance, Until: until}); err != nil {
		t.Fatal(err)
	}
	info, err := s.Objects.Stat(ctx, "vault/r.json", ids[0])
	if err != nil || info.LockMode != vault.Governance || !info.RetainUntil.Equal(until) {
		t.Errorf("got %s until %s (%v), want GOVERNANCE until %s", info.LockMode, info.RetainUntil, err, until)
	}
	later := until.Add(24 * time.Hour)
	if err := s.Objects.Retain(ctx, "vault/r.json", ids[0], vault.Lock{Mode: vault.Governance, Until: later}); err != nil {
		t.Fatal(err)
	}
	if info, _ := s.Objects.Stat(ctx, "vault/r.json", ids[0]); !info.RetainUntil.Equal(later) {
		t.Errorf("extended retention: got %s, want %s", info.RetainUntil, later)
	}
}

func legalHold(t *testing.T, s Subject) {
	if err := s.Records.Create(ctx, "vault/h.json", []byte(`{}`), nil); err != nil {
		t.Fatal(err)
	}
	ids, _ := s.Objects.Versions(ctx, "vault/h.json")
	if err := s.Objects.Hold(ctx, "vault/h.json", ids[0], true); err != nil {
		t.Fatal(err)
	}
	if info, err := s.Objects.Stat(ctx, "vault/h.json", ids[0]); err != nil || !info.LegalHold {
		t.Errorf("got legal hold %v (%v), want on", info.LegalHold, err)
	}
	if err := s.Remove("vault/h.json", ids[0]); err == nil {
		t.Fatal("a version under legal hold was deleted")
	}
	if err := s.Objects.Hold(ctx, "vault/h.json", ids[0], false); err != nil {
		t.Fatal(err)
	}
	if info, _ := s.Objects.Stat(ctx, "vault/h.json", ids[0]); info.LegalHold {
		t.Error("got legal hold on after lifting it")
	}
	if err := s.Remove("vault/h.json", ids[0]); err != nil {
		t.Errorf("delete after the hold was lifted: %v", err)
	}
}

func multipart(t *testing.T, s Subject) {
	const partSize = 5 << 20
	body := bytes.Repeat([]byte("imaging "), (partSize+100)/8)
	req := vault.PutRequest{Key: "evidence/t/d/set.bin", Size: int64(len(body)), SHA256: sum(body), ContentType: "application/zip",
		Metadata: map[string]string{"upload-id": "upl_mp"}, TTL: time.Minute}
	id, err := s.Uploads.CreateMultipart(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	parts := [][]byte{body[:partSize], body[partSize:]}
	for i, p := range parts {
		pre, err := s.Presigner.PresignPart(ctx, vault.PartRequest{Key: req.Key, UploadID: id, Number: i + 1, Size: int64(len(p)), SHA256: sum(p), TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(pre, bytes.ToUpper(p)); err == nil {
			t.Errorf("part %d with other bytes was stored", i+1)
		}
		if err := s.Send(pre, p); err != nil {
			t.Fatal(err)
		}
	}
	stored, err := s.Uploads.ListParts(ctx, req.Key, id)
	if err != nil || len(stored) != 2 || stored[1].SHA256 != sum(parts[1]) || stored[0].Size != partSize {
		t.Fatalf("list parts: got %+v, %v", stored, err)
	}
	vid, err := s.Uploads.CompleteMultipart(ctx, req.Key, id, stored)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Objects.Stat(ctx, req.Key, vid)
	if err != nil || info.Size != int64(len(body)) || info.SHA256 != "" || info.Metadata["upload-id"] != "upl_mp" {
		t.Errorf("joined object: got %+v, %v; want its size, its metadata and no whole-object SHA-256", info, err)
	}
	if _, err := s.Uploads.ListParts(ctx, req.Key, id); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("list parts after complete: got %v, want vault.ErrNotFound", err)
	}
	if err := s.Uploads.AbortMultipart(ctx, req.Key, id); err != nil {
		t.Errorf("abort of a finished upload: got %v, want nil", err)
	}
}

func unknownVersion(t *testing.T, s Subject) {
	if err := s.Records.Create(ctx, "vault/x.json", []byte(`{}`), nil); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"00000000-0000-0000-0000-000000000000", "not-a-version"} {
		if _, err := s.Objects.Stat(ctx, "vault/x.json", v); !errors.Is(err, vault.ErrNotFound) {
			t.Errorf("stat version %q: got %v, want vault.ErrNotFound", v, err)
		}
	}
}

func openFromOffset(t *testing.T, s Subject) {
	if err := s.Records.Create(ctx, "vault/o.json", []byte(`0123456789`), nil); err != nil {
		t.Fatal(err)
	}
	ids, _ := s.Objects.Versions(ctx, "vault/o.json")
	r, err := s.Objects.Open(ctx, "vault/o.json", ids[0], 4)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := io.ReadAll(r); err != nil || string(got) != "456789" {
		t.Errorf("got %q, %v; want the bytes from offset 4", got, err)
	}
}
