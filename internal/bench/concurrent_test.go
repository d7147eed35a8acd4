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
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

func BenchmarkConcurrentComplete(b *testing.B) {
	for _, clients := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			x := setup(b)
			perClient := 40
			body := bytes.Repeat([]byte("e"), 1024)
			sum := sha256.Sum256(body)
			sha := hex.EncodeToString(sum[:])
			// tickets
			tks := make([][]vault.Ticket, clients)
			var wg sync.WaitGroup
			for c := range clients {
				wg.Go(func() {
					for i := range perClient {
						tk, err := x.svc.StartUpload(x.ctx, x.dossier, vault.Document{
							Path: fmt.Sprintf("c%d/doc-%d.zip", c, i), Title: "Benchmark", Kind: vault.KindTestReport, Section: "MDR-II-6.1", Revision: "1",
							Language: "en", EffectiveDate: "2026-11-23", Author: "bench",
							File: vault.File{Name: fmt.Sprintf("doc-%d.zip", i), Size: 1024, SHA256: sha, ContentType: "application/zip"},
						})
						if err != nil {
							b.Error(err)
							return
						}
						testenv.Put(b, tk.Upload, bytes.NewReader(body), 1024)
						tks[c] = append(tks[c], tk)
					}
				})
			}
			wg.Wait()
			var mu sync.Mutex
			var lat []time.Duration
			start := time.Now()
			for c := range clients {
				wg.Go(func() {
					svc := x.newInstance(b)
					for _, tk := range tks[c] {
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
			el := time.Since(start)
			slices.Sort(lat)
			b.ReportMetric(float64(len(lat))/el.Seconds(), "completes/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			// raw
			start = time.Now()
			for c := range clients {
				wg.Go(func() {
					for i := range perClient {
						k := fmt.Sprintf("raw/%d/%d", c, i)
						if _, err := x.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &x.bucket, Key: &k, Body: bytes.NewReader(body), ContentLength: aws.Int64(1024)}); err != nil {
							b.Error(err)
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(clients*perClient)/time.Since(start).Seconds(), "raw-puts/s")
		})
	}
}
