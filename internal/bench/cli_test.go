package bench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/evidencevault/vault/client"
	"github.com/evidencevault/vault/internal/assembly"
	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

// Targets (issue 4), each against its baseline in the same run:
//   - a 2 GiB multipart upload through the vault (evault's client: hash,
//     then parts in parallel) at least 0.9x the SDK's upload manager with the
//     same part size, concurrency and SHA-256 part checksums;
//   - sealing that 2 GiB object (join, stream it for its SHA-256, sign, log)
//     in its own process at least 0.8x a raw GetObject, with that process's
//     peak RSS at most 64 MiB;
//   - evault verify of a 1 GiB file at least 0.9x openssl dgst -sha256.

const (
	big        = 2 << 30
	partSize   = 64 << 20
	concurrent = 4
)

func mbps(n int64, d time.Duration) float64 { return float64(n) / d.Seconds() / 1e6 }

// api serves the vault's HTTP API for x and returns a client of it.
func (x bench) api(b *testing.B) *client.Client {
	b.Helper()
	iss := testenv.NewIssuer(b)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(httpapi.New(x.svc, iss.Verifier(), log).Handler())
	b.Cleanup(srv.Close)
	cl, err := client.New(srv.URL, iss.Token(b, uploader), nil)
	if err != nil {
		b.Fatal(err)
	}
	return cl
}

func document(name string) vault.Document {
	return vault.Document{Path: name, Title: "Benchmark imaging set", Kind: regulation.KindClinicalEvidence, Section: "MDR-II-6.1",
		Revision: "1", Language: "en", EffectiveDate: "2026-11-23", Author: "bench",
		File: vault.File{Name: filepath.Base(name), ContentType: "application/dicom"}}
}

func BenchmarkMultipart2GiB(b *testing.B) {
	x := setup(b)
	cl := x.api(b)
	path, sha := file(b, big)
	for range b.N {
		// The SDK's own multipart upload manager, same MinIO, same parts.
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		up := manager.NewUploader(x.client, func(u *manager.Uploader) { u.PartSize, u.Concurrency = partSize, concurrent })
		start := time.Now()
		if _, err := up.Upload(context.Background(), &s3.PutObjectInput{Bucket: &x.bucket, Key: aws.String("raw/sdk-2g.bin"),
			Body: f, ChecksumAlgorithm: types.ChecksumAlgorithmSha256}); err != nil {
			b.Fatal(err)
		}
		sdk := time.Since(start)
		f.Close()

		// The vault: hash once (file and parts), then parts in parallel.
		doc := document(fmt.Sprintf("imaging/set-%d.dcm", time.Now().UnixNano()))
		opts := client.UploadOptions{PartSize: partSize, Parallel: concurrent}
		start = time.Now()
		prep, err := cl.PrepareFile(context.Background(), x.dossier, &doc, path, opts)
		if err != nil {
			b.Fatal(err)
		}
		hashed := time.Since(start)
		res, err := cl.Send(context.Background(), prep)
		if err != nil {
			b.Fatal(err)
		}
		vaultUp := time.Since(start)
		if doc.File.SHA256 != sha || res.Parts != big/partSize {
			b.Fatalf("got %s in %d parts", doc.File.SHA256, res.Parts)
		}

		// Sealing in its own process, as the API function would.
		seal, rss := x.sealInChild(b, res.UploadID)
		v, err := x.svc.Versions(x.ctx, x.dossier, doc.Path)
		if err != nil || len(v) != 1 || v[0].SHA256 != sha {
			b.Fatalf("sealed versions %+v, %v", v, err)
		}
		start = time.Now()
		out, err := x.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &x.bucket, Key: &v[0].Key, VersionId: &v[0].VersionID})
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, out.Body, make([]byte, 1<<20))
		out.Body.Close()
		if err != nil || n != big {
			b.Fatalf("GET read %d bytes: %v", n, err)
		}
		get := time.Since(start)

		b.ReportMetric(mbps(big, sdk), "sdk-MB/s")
		b.ReportMetric(mbps(big, vaultUp), "vault-MB/s")
		b.ReportMetric(sdk.Seconds()/vaultUp.Seconds(), "upload-ratio")
		b.ReportMetric(mbps(big, vaultUp-hashed), "vault-parts-MB/s")
		b.ReportMetric(mbps(big, get), "get-MB/s")
		b.ReportMetric(mbps(big, seal), "seal-MB/s")
		b.ReportMetric(get.Seconds()/seal.Seconds(), "seal-ratio")
		b.ReportMetric(float64(rss)/(1<<20), "seal-peak-RSS-MiB")
		b.ReportMetric(sdk.Seconds()/(vaultUp+seal).Seconds(), "upload+seal-ratio")
		b.Logf("2 GiB: SDK manager %v (%.0f MB/s); vault hash %v + parts %v = %v (%.0f MB/s, %.2fx); seal %v (%.0f MB/s) vs GET %v (%.0f MB/s): %.2fx, peak RSS %.1f MiB; upload+seal %.2fx",
			sdk.Round(time.Millisecond), mbps(big, sdk), hashed.Round(time.Millisecond), (vaultUp - hashed).Round(time.Millisecond), vaultUp.Round(time.Millisecond),
			mbps(big, vaultUp), sdk.Seconds()/vaultUp.Seconds(), seal.Round(time.Millisecond), mbps(big, seal), get.Round(time.Millisecond), mbps(big, get),
			get.Seconds()/seal.Seconds(), float64(rss)/(1<<20), sdk.Seconds()/(vaultUp+seal).Seconds())
	}
}

// sealChildEnv carries what a sealing child process needs.
const sealChildEnv = "BENCH_SEAL_CHILD"

// sealInChild completes an upload in a fresh process (this test binary,
// re-executed) and returns how long Complete took there and the process's
// peak resident set size.
func (x bench) sealInChild(b *testing.B, uploadID string) (time.Duration, int64) {
	b.Helper()
	env := testenv.Get(b)
	spec, _ := json.Marshal(sealSpec{UploadID: uploadID, Bucket: x.bucket, S3: env.S3Config(), KeyPEM: string(x.keyPEM)})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), sealChildEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("seal child: %v\n%s", err, out)
	}
	var took time.Duration
	if err := json.Unmarshal(out, &took); err != nil {
		b.Fatalf("seal child said %q", out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return took, ru.Maxrss << 10 // Linux reports KiB
}

type sealSpec struct {
	UploadID, Bucket, KeyPEM string
	S3                       assembly.S3
}

// sealChild runs in the child: Complete one upload, print how long it took.
func sealChild(spec string) int {
	var s sealSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	svc, err := childVault(s.S3, s.Bucket, "", s.KeyPEM)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	start := time.Now()
	if _, err := svc.Complete(vault.NewContext(ctx, uploader), s.UploadID); err != nil {
		fmt.Fprintln(os.Stderr, "seal child:", err)
		return 1
	}
	json.NewEncoder(os.Stdout).Encode(time.Since(start))
	return 0
}

func BenchmarkVerify1GiB(b *testing.B) {
	x := setup(b)
	cl := x.api(b)
	dir := b.TempDir()
	path, _ := file(b, 1<<30)
	doc := document("imaging/verify-1g.dcm")
	prep, err := cl.PrepareFile(context.Background(), x.dossier, &doc, path, client.UploadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	res, err := cl.Upload(context.Background(), prep)
	if err != nil {
		b.Fatal(err)
	}
	rcpt, key := filepath.Join(dir, "receipt.json"), filepath.Join(dir, "key.pem")
	os.WriteFile(rcpt, res.Receipt, 0o644)
	pub, _ := receipt.NewKey(x.signer.Public())
	os.WriteFile(key, pub.PEM(), 0o644)
	evault := filepath.Join(dir, "evault")
	if out, err := exec.Command("go", "build", "-o", evault, "../../cmd/evault").CombinedOutput(); err != nil {
		b.Fatalf("build evault: %v\n%s", err, out)
	}
	timeRun := func(name string, args ...string) time.Duration {
		start := time.Now()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%s", name, err, out)
		}
		return time.Since(start)
	}
	// Warm the page cache, then take the best of 5 alternating runs each.
	timeRun("cat", path)
	var ossl, ev time.Duration
	for range 5 {
		if d := timeRun("openssl", "dgst", "-sha256", path); ossl == 0 || d < ossl {
			ossl = d
		}
		if d := timeRun(evault, "verify", path, rcpt, "--key", key); ev == 0 || d < ev {
			ev = d
		}
	}
	b.ReportMetric(mbps(1<<30, ossl), "openssl-MB/s")
	b.ReportMetric(mbps(1<<30, ev), "evault-MB/s")
	b.ReportMetric(ossl.Seconds()/ev.Seconds(), "verify-ratio")
	b.Logf("1 GiB: openssl dgst -sha256 %v (%.0f MB/s), evault verify %v (%.0f MB/s): %.2fx",
		ossl.Round(time.Millisecond), mbps(1<<30, ossl), ev.Round(time.Millisecond), mbps(1<<30, ev), ossl.Seconds()/ev.Seconds())
}
