package s3store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/evidencevault/vault/internal/s3store"
	"github.com/evidencevault/vault/internal/storetest"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// TestContract runs the storage contract on a real MinIO bucket; the
// in-memory bucket the domain is tested on runs the same cases.
func TestContract(t *testing.T) {
	env := testenv.Get(t)
	storetest.Run(t, func(t *testing.T) storetest.Subject {
		st := env.Bucket(t, false)
		client := env.Client(t)
		return storetest.Subject{
			Storage: st.Storage(),
			Send: func(p vault.Presigned, body []byte) error {
				return testenv.Send(p, bytes.NewReader(body), int64(len(body)))
			},
			Hide: func(key string) error {
				_, err := client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(st.Bucket()), Key: &key})
				return err
			},
			Remove: func(key, versionID string) error {
				_, err := client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(st.Bucket()), Key: &key, VersionId: &versionID})
				return err
			},
		}
	})
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestScratchContract: MinIO's conditional writes are what the
// sequencer's lease rests on.
func TestScratchContract(t *testing.T) {
	env := testenv.Get(t)
	storetest.RunScratch(t, func(t *testing.T) vault.Scratch { return env.Scratch(t) })
}

func TestLockedVersionCannotBeDeleted(t *testing.T) {
	ctx := context.Background()
	env := testenv.Get(t)
	st := env.Bucket(t, false)
	lock := &vault.Lock{Mode: vault.Compliance, Until: time.Now().Add(24 * time.Hour)}
	if err := st.Create(ctx, "vault/locked.json", []byte(`{}`), lock); err != nil {
		t.Fatal(err)
	}
	ids, err := st.Versions(ctx, "vault/locked.json")
	if err != nil || len(ids) != 1 {
		t.Fatalf("versions: got %v, %v; want one", ids, err)
	}
	info, err := st.Stat(ctx, "vault/locked.json", ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if info.LockMode != vault.Compliance || info.RetainUntil.Before(lock.Until.Add(-time.Second)) {
		t.Errorf("got lock %s until %s, want COMPLIANCE until %s", info.LockMode, info.RetainUntil, lock.Until)
	}
	if info.SHA256 != sha([]byte(`{}`)) {
		t.Errorf("got sha256 %q, want the body's", info.SHA256)
	}
	_, err = env.Client(t).DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(st.Bucket()), Key: aws.String("vault/locked.json"), VersionId: &ids[0],
		BypassGovernanceRetention: aws.Bool(true),
	})
	if err == nil {
		t.Fatal("root deleted a compliance-locked version")
	}
	if _, err := st.Stat(ctx, "vault/locked.json", ids[0]); err != nil {
		t.Errorf("version gone after refused delete: %v", err)
	}
}

func TestPresignedPutIsBoundToChecksumAndSize(t *testing.T) {
	ctx := context.Background()
	st := testenv.Get(t).Bucket(t, false)
	body := []byte("clinical evaluation report, revision C\n")
	req := vault.PutRequest{
		Key: "evidence/t/d/cer.txt", Size: int64(len(body)), SHA256: sha(body),
		ContentType: "text/plain", Metadata: map[string]string{"upload-id": "upl_test"}, TTL: time.Minute,
	}
	put, err := st.PresignPut(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Content-Type", "X-Amz-Checksum-Sha256", "X-Amz-Meta-Upload-Id"} {
		if put.Headers[h] == "" {
			t.Errorf("presigned headers lack %s: %v", h, put.Headers)
		}
	}
	without := func(name string) map[string]string {
		h := map[string]string{}
		for k, v := range put.Headers {
			if k != name {
				h[k] = v
			}
		}
		return h
	}
	sameLength := bytes.ToUpper(body)
	tests := []struct {
		name    string
		headers map[string]string
		body    []byte
		want    []int
	}{
		{"other bytes of the same length", put.Headers, sameLength, []int{http.StatusBadRequest}},
		{"one byte more", put.Headers, append(slices.Clone(body), '!'), []int{http.StatusForbidden}},
		{"one byte less", put.Headers, body[:len(body)-1], []int{http.StatusForbidden}},
		// AWS answers 403 for a signed header left out; MinIO answers 400.
		{"checksum header left out", without("X-Amz-Checksum-Sha256"), body, []int{http.StatusBadRequest, http.StatusForbidden}},
		{"upload id left out", without("X-Amz-Meta-Upload-Id"), body, []int{http.StatusBadRequest, http.StatusForbidden}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := testenv.Curl(t, put.Method, put.URL, tt.headers, tt.body)
			if !slices.Contains(tt.want, got.Status) {
				t.Errorf("got status %d, want one of %v: %s", got.Status, tt.want, got.Body)
			}
		})
	}
	if ids, _ := st.Versions(ctx, req.Key); len(ids) != 0 {
		t.Fatalf("refused uploads left %d versions", len(ids))
	}

	if got := testenv.Curl(t, put.Method, put.URL, put.Headers, body); got.Status != http.StatusOK {
		t.Fatalf("declared bytes: got status %d, want 200: %s", got.Status, got.Body)
	}
	ids, err := st.Versions(ctx, req.Key)
	if err != nil || len(ids) != 1 {
		t.Fatalf("versions: got %v, %v; want one", ids, err)
	}
	info, err := st.Stat(ctx, req.Key, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if info.SHA256 != req.SHA256 || info.Size != req.Size || info.Metadata["upload-id"] != "upl_test" || info.ContentType != "text/plain" {
		t.Errorf("got %+v, want the declared sha256, size, content type and upload id", info)
	}

	get, err := st.PresignGet(ctx, vault.GetRequest{Key: req.Key, VersionID: ids[0], FileName: "cer.txt", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if got := testenv.Curl(t, get.Method, get.URL, get.Headers, nil); got.Status != http.StatusOK || !bytes.Equal(got.Body, body) {
		t.Errorf("presigned get: got %d %q, want 200 and the uploaded bytes", got.Status, got.Body)
	}
}

func TestPresignedPutExpires(t *testing.T) {
	ctx := context.Background()
	st := testenv.Get(t).Bucket(t, false)
	body := []byte("late")
	put, err := st.PresignPut(ctx, vault.PutRequest{Key: "evidence/t/d/late.txt", Size: 4, SHA256: sha(body), ContentType: "text/plain", TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	if got := testenv.Curl(t, put.Method, put.URL, put.Headers, body); got.Status != http.StatusForbidden {
		t.Errorf("expired URL: got status %d, want 403: %s", got.Status, got.Body)
	}
}

// TestOversizeRecordIsNotReadWhole: an object planted among the records
// larger than any record of the vault is not read into memory: it reads
// as empty, which no reader takes for a record, so that readers pass over
// it as over other junk.
func TestOversizeRecordIsNotReadWhole(t *testing.T) {
	env := testenv.Get(t)
	st := env.Bucket(t, false)
	client := env.Client(t)
	defer s3store.SetMaxRecord(1 << 20)()
	key := "vault/acme/lifecycle/dos_aaaaaaaaaaaaaaaa/evt_planted.json"
	body := bytes.Repeat([]byte{'x'}, 2<<20)
	out, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(st.Bucket()), Key: &key, Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	for name, get := range map[string]func() ([]byte, error){
		"Get":        func() ([]byte, error) { return st.Get(context.Background(), key) },
		"GetVersion": func() ([]byte, error) { return st.GetVersion(context.Background(), key, aws.ToString(out.VersionId)) },
	} {
		data, err := get()
		if err != nil || data == nil || len(data) != 0 {
			t.Errorf("%s: got %d bytes, %v; want it read as empty", name, len(data), err)
		}
	}
	small := "vault/acme/lifecycle/dos_aaaaaaaaaaaaaaaa/evt_small.json"
	if err := st.Create(context.Background(), small, []byte(`{}`), nil); err != nil {
		t.Fatal(err)
	}
	if data, err := st.Get(context.Background(), small); err != nil || string(data) != `{}` {
		t.Errorf("a small record: got %q, %v", data, err)
	}
}
