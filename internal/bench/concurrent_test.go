package bench_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

// perClient is how many uploads each client completes per run.
const perClient = 40

// BenchmarkConcurrentComplete completes 1 KiB uploads from 1, 8 and 32
// clients at once, each complete appending to the tenant's log, and then
// times raw 1 KiB PutObjects at the same concurrency on the same MinIO.
//
// process: the clients share one vault process (the local server, or one
// API instance), so their appends share commits (group commit).
// instances: each client is its own vault process sharing only storage,
// as Lambda instances are; their commits race for the log's next position.
//
// Targets (issue 3): in one process, 32 clients complete at least as many
// uploads per second as one client (the single-writer rate), with p99 at
// most 250 ms.
func BenchmarkConcurrentComplete(b *testing.B) {
	for _, mode := range []string{"process", "instances"} {
		for _, clients := range []int{1, 8, 32} {
			if mode == "instances" && clients != 8 {
				continue // 1 is one process; 32 racing instances take minutes (docs/ledger.md)
			}
			b.Run(fmt.Sprintf("%s/clients=%d", mode, clients), func(b *testing.B) {
				for b.Loop() {
					runConcurrent(b, mode, clients)
				}
			})
		}
	}
}

func runConcurrent(b *testing.B, mode string, clients int) {
	x := setup(b)
	body := bytes.Repeat([]byte("e"), 1024)
	sum := sha256.Sum256(body)
	sha := hex.EncodeToString(sum[:])

	b.StopTimer()
	tickets := make([][]vault.Ticket, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				tk, err := x.svc.StartUpload(x.ctx, x.dossier, vault.Document{
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
	b.StartTimer()

	var mu sync.Mutex
	var lat []time.Duration
	start := time.Now()
	for c := range clients {
		svc := x.svc
		if mode == "instances" {
			svc = x.newInstance(b)
		}
		wg.Go(func() {
			for _, tk := range tickets[c] {
				t0 := time.Now()
				if _, err := svc.Complete(x.ctx, tk.UploadID); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	start = time.Now()
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				key := fmt.Sprintf("baseline/%02d/%03d", c, i)
				if _, err := x.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &x.bucket, Key: &key,
					Body: bytes.NewReader(body), ContentLength: aws.Int64(1024)}); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
	raw := time.Since(start)

	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	n := float64(clients * perClient)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(n/elapsed.Seconds(), "completes/s")
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(n/raw.Seconds(), "raw-1KiB-puts/s")
}
