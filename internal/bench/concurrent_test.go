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
	body, tickets := x.tickets(b, x.svc, clients)
	b.StartTimer()
	lat, elapsed := completeAll(b, x.ctx, tickets, func(int) *vault.Service {
		if mode == "instances" {
			return x.newInstance(b)
		}
		return x.svc
	}, nil)

	var wg sync.WaitGroup
	start := time.Now()
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

	reportCompletes(b, lat, elapsed)
	b.ReportMetric(float64(clients*perClient)/raw.Seconds(), "raw-1KiB-puts/s")
}

// tickets starts perClient 1 KiB uploads for each client through svc and
// sends their bytes, with the timer stopped: what a run then completes.
func (x bench) tickets(b *testing.B, svc *vault.Service, clients int) ([]byte, [][]vault.Ticket) {
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
	return body, tickets
}

// completeAll completes each client's tickets, client c through svcFor(c),
// all clients at once, and returns each complete's latency and the time
// they all took; seen, when set, gets each receipt.
func completeAll(b *testing.B, ctx context.Context, tickets [][]vault.Ticket, svcFor func(c int) *vault.Service, seen func(*vault.Receipt)) ([]time.Duration, time.Duration) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var lat []time.Duration
	start := time.Now()
	for c := range tickets {
		svc := svcFor(c)
		wg.Go(func() {
			for _, tk := range tickets[c] {
				t0 := time.Now()
				r, err := svc.Complete(ctx, tk.UploadID)
				if err != nil {
					b.Error(err)
					return
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				if seen != nil {
					seen(r)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return lat, time.Since(start)
}

// reportCompletes reports completes per second and the p50 and p99
// latencies of a run.
func reportCompletes(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "completes/s")
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
}
