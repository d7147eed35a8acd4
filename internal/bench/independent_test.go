package bench_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/devtsa"
	"github.com/evidencevault/vault/internal/devwitness"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/tsa"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/evidencevault/vault/internal/witnessing"
)

// BenchmarkIndependentTrust measures what timestamping each receipt and
// witnessing each checkpoint add to a complete, beside the same run
// without them: a development TSA and transparency-dev's witness on
// loopback (a real authority or witness adds its network round trip).
// tokens/receipt and rounds/receipt show how both batch with the log's
// group commit: one token per receipt, in parallel with its append; one
// witness round per group of concurrent seals.
func BenchmarkIndependentTrust(b *testing.B) {
	for _, clients := range []int{1, 8} {
		for _, mode := range []string{"plain", "timestamps", "witness", "both"} {
			b.Run(fmt.Sprintf("clients=%d/%s", clients, mode), func(b *testing.B) {
				for b.Loop() {
					runIndependent(b, mode, clients)
				}
			})
		}
	}
}

func runIndependent(b *testing.B, mode string, clients int) {
	x := setup(b)
	authority, err := devtsa.New(devtsa.Options{})
	if err != nil {
		b.Fatal(err)
	}
	tsaSrv := httptest.NewServer(authority)
	defer tsaSrv.Close()
	pub := x.signer.Public().(*ecdsa.PublicKey)
	w, err := devwitness.New(context.Background(), devwitness.Options{Name: "witness.bench.example", Dir: b.TempDir(),
		LogKey: func(origin string) (string, bool) { k, err := ledger.VerifierKey(origin, pub); return k, err == nil }})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	var rounds atomic.Int64
	wSrv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rounds.Add(1)
		w.ServeHTTP(rw, r)
	}))
	defer wSrv.Close()

	cfg := x.cfg
	if mode == "timestamps" || mode == "both" {
		c, err := tsa.New(tsa.Config{URL: tsaSrv.URL, Trust: tsa.Trust{Roots: []*x509.Certificate{authority.Root()}}})
		if err != nil {
			b.Fatal(err)
		}
		cfg.Timestamps = c
	}
	if mode == "witness" || mode == "both" {
		u, _ := url.Parse(wSrv.URL)
		v, err := witnessing.ParseVerifier(w.VKey())
		if err != nil {
			b.Fatal(err)
		}
		cfg.Witnesses = witnessing.New([]witnessing.Witness{{URL: u, Verifier: v}}, 5*time.Second)
	}
	svc := vault.New(x.store.Storage(), x.signer, cfg)

	body := bytes.Repeat([]byte("e"), 1024)
	sum := sha256.Sum256(body)
	sha := hex.EncodeToString(sum[:])
	b.StopTimer()
	tickets := make([][]vault.Ticket, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				tk, err := svc.StartUpload(x.ctx, x.dossier, vault.Document{
					Path: fmt.Sprintf("c%02d/doc-%03d.txt", c, i), Title: "Benchmark", Kind: regulation.KindTestReport, Section: "MDR-II-6.1",
					Revision: "1", Language: "en", EffectiveDate: "2026-11-23", Author: "bench",
					File: vault.File{Name: fmt.Sprintf("doc-%03d.txt", i), Size: 1024, SHA256: sha, ContentType: "text/plain"},
				})
				if err != nil {
					b.Error(err)
					return
				}
				testenv.Put(b, tk.Upload, bytes.NewReader(body), 1024)
				tickets[c] = append(tickets[c], tk)
			}
		})
	}
	wg.Wait()
	rounds.Store(0)
	issued := authority.Issued()
	b.StartTimer()

	var mu sync.Mutex
	var lat []time.Duration
	pending := 0
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			for _, tk := range tickets[c] {
				t0 := time.Now()
				r, err := svc.Complete(x.ctx, tk.UploadID)
				if err != nil {
					b.Error(err)
					return
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				if r.Pending {
					pending++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	n := float64(clients * perClient)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(n/elapsed.Seconds(), "completes/s")
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(float64(authority.Issued()-issued)/n, "tokens/receipt")
	b.ReportMetric(float64(rounds.Load())/n, "rounds/receipt")
	b.ReportMetric(float64(pending)/n, "pending/receipt")
}
