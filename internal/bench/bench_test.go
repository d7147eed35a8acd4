// Package bench measures the vault against raw S3 on the same MinIO, in the
// same run, so that each figure comes with its baseline beside it:
//
//	make bench
//
// Targets (issue 2): the presigned upload flow reaches at least 0.95 of a
// direct PutObject's throughput for 256 MiB, and complete takes about as
// long for 256 MiB as for 1 KiB (within 1.5x), since storage has already
// verified the checksum.
package bench_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/evidencevault/vault/internal/assembly"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/s3store"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(sealChildEnv); spec != "" {
		os.Exit(sealChild(spec)) // a sealing process of BenchmarkMultipart2GiB
	}
	if spec := os.Getenv(completeChildEnv); spec != "" {
		os.Exit(completeChild(spec)) // a vault process of BenchmarkConcurrentComplete
	}
	os.Exit(testenv.Main(m))
}

const large = 256 << 20

var uploader = vault.Identity{Tenant: "bench", Subject: "bench@vault.example", Role: vault.RoleUploader}

// file writes size pseudo-random bytes to a temporary file and returns its
// path and SHA-256.
func file(b *testing.B, size int) (string, string) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "evidence-"+strconv.Itoa(size)+".bin")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	rng := rand.NewChaCha8([32]byte{1})
	if _, err := io.CopyN(io.MultiWriter(f, h), rng, int64(size)); err != nil {
		b.Fatal(err)
	}
	return path, hex.EncodeToString(h.Sum(nil))
}

type bench struct {
	svc     *vault.Service
	store   *s3store.Store
	scratch *s3store.Scratch
	s3      assembly.S3     // how child processes reach the same MinIO
	count   *requestCounter // the S3 requests of svc
	signer  receipt.Signer
	keyPEM  []byte // the signer's private key, for child processes
	cfg     vault.Config
	bucket  string
	client  *s3.Client
	ctx     context.Context
	dossier string
}

func setup(b *testing.B) bench {
	b.Helper()
	env := testenv.Get(b)
	created := env.Bucket(b, false)
	count := &requestCounter{}
	s3cfg := env.S3Config()
	s3cfg.HTTPClient = count.client()
	client, err := assembly.NewS3Client(context.Background(), s3cfg)
	if err != nil {
		b.Fatal(err)
	}
	store := s3store.New(client, created.Bucket(), nil)
	scratch := s3store.NewScratch(client, env.Scratch(b).Bucket())
	// One long-lived process, as the local server is: it keeps the log's
	// lease between its appends.
	cfg := vault.Config{Bucket: store.Bucket(), Sequencing: ledger.Sequencing{Linger: 250 * time.Millisecond}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	keyPEM, err := receipt.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	signer, err := receipt.NewLocalSigner(keyPEM)
	if err != nil {
		b.Fatal(err)
	}
	st := store.Storage()
	st.Scratch = scratch
	svc := vault.New(st, signer, cfg)
	ctx := vault.NewContext(context.Background(), uploader)
	implantable, ai := false, true
	d, err := svc.CreateDossier(ctx, vault.DossierInput{Name: "Bench device", BasicUDIDI: "1987654Ad4X4bL5ttr2310c2K",
		Regulation: regulation.MDR, RiskClass: "IIa", Implantable: &implantable, HighRiskAI: &ai, NotifiedBody: "0197"})
	if err != nil {
		b.Fatal(err)
	}
	s3cfg.HTTPClient = nil
	return bench{svc: svc, store: store, scratch: scratch, s3: s3cfg, count: count, signer: signer, keyPEM: keyPEM, cfg: cfg, bucket: store.Bucket(), client: env.Client(b), ctx: ctx, dossier: d.ID}
}

// upload runs the vault's flow up to the PUT: start an upload, then send
// the file to the presigned URL as any HTTP client would.
func (x bench) upload(b *testing.B, path, name, sha string, size int) vault.Ticket {
	b.Helper()
	tk, err := x.svc.StartUpload(x.ctx, x.dossier, vault.Document{
		Path: name, Title: "Benchmark data set", Kind: regulation.KindTestReport, Section: "MDR-II-6.1", Revision: "1",
		Language: "en", EffectiveDate: "2026-11-23", Author: "bench",
		File: vault.File{Name: filepath.Base(name), Size: int64(size), SHA256: sha, ContentType: "application/zip"},
	})
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	testenv.Put(b, tk.Upload, f, int64(size))
	return tk
}

// childVault is the vault of a child process of a benchmark, on the same
// buckets and key, assembled as production assembles it (its S3 client
// through c, which may count requests).
func childVault(c assembly.S3, bucket, scratch, keyPEM string) (*vault.Service, error) {
	v, err := assembly.New(context.Background(), assembly.Config{Bucket: bucket, ScratchBucket: scratch, SigningKeyPEM: []byte(keyPEM), S3: c},
		slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	return v.Service, nil
}

// storage is the vault's storage, scratch bucket included.
func (x bench) storage() vault.Storage {
	st := x.store.Storage()
	st.Scratch = x.scratch
	return st
}

func (x bench) complete(b *testing.B, tk vault.Ticket) time.Duration {
	b.Helper()
	start := time.Now()
	if _, err := x.svc.Complete(x.ctx, tk.UploadID); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// direct is the baseline: one PutObject of the file with the SDK.
func (x bench) direct(b *testing.B, path, key string, size int) {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := x.client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: &x.bucket, Key: &key, Body: f, ContentLength: aws.Int64(int64(size)),
	}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkUpload256MiB alternates a direct PutObject and the vault's
// presigned flow (start, PUT, complete) of the same file.
func BenchmarkUpload256MiB(b *testing.B) {
	x := setup(b)
	path, sha := file(b, large)
	var direct, flow time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		x.direct(b, path, "baseline/direct-"+strconv.Itoa(n)+".bin", large)
		direct += time.Since(start)

		start = time.Now()
		tk := x.upload(b, path, "datasets/images-"+strconv.Itoa(n)+".zip", sha, large)
		x.complete(b, tk)
		flow += time.Since(start)
		n++
	}
	mbps := func(d time.Duration) float64 { return float64(large) * float64(n) / d.Seconds() / 1e6 }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(mbps(direct), "direct-MB/s")
	b.ReportMetric(mbps(flow), "vault-MB/s")
	b.ReportMetric(mbps(flow)/mbps(direct), "vault/direct")
}

// BenchmarkCompleteLatency times complete for a 1 KiB and a 256 MiB upload,
// one of each per round, and reports the medians.
func BenchmarkCompleteLatency(b *testing.B) {
	x := setup(b)
	smallPath, smallSHA := file(b, 1<<10)
	largePath, largeSHA := file(b, large)
	var small, big []time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		tkSmall := x.upload(b, smallPath, "notes/small-"+strconv.Itoa(n)+".zip", smallSHA, 1<<10)
		tkLarge := x.upload(b, largePath, "datasets/large-"+strconv.Itoa(n)+".zip", largeSHA, large)
		b.StartTimer()
		small = append(small, x.complete(b, tkSmall))
		big = append(big, x.complete(b, tkLarge))
		n++
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(median(small)), "1KiB-complete-ms")
	b.ReportMetric(ms(median(big)), "256MiB-complete-ms")
	b.ReportMetric(float64(median(big))/float64(median(small)), "256MiB/1KiB")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
