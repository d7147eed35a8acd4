package bench_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/vault"
)

// trailRecords is how many access-trail records the tenant of
// BenchmarkExtendRetention holds: a notified body's downloads over years.
const trailRecords = 3000

// BenchmarkExtendRetention times the extension a market status starts
// (the schedule's run does the same work) over a tenant whose access trail
// holds trailRecords locked records, beside the least storage work it
// needs in the same run: one HeadObject and one PutObjectRetention per
// version, made directly with the SDK, by one client and by eight.
//
// It reports versions extended per second, and how many one run of the
// schedule function (15 minutes) extends at that rate: a tenant with more
// finishes over several runs (docs/lifecycle.md).
func BenchmarkExtendRetention(b *testing.B) {
	x := setup(b)
	var vaultRate, serialRate, parallelRate float64
	round := 0
	for b.Loop() {
		b.StopTimer()
		tenant := fmt.Sprintf("bench-extend-%d", round)
		round++
		admin := vault.NewContext(context.Background(), vault.Identity{Tenant: tenant, Subject: "admin@bench.example", Role: vault.RoleAdmin})
		implantable, ai := false, true
		d, err := x.svc.CreateDossier(admin, vault.DossierInput{Name: "Bench device", BasicUDIDI: "1987654Ad4X4bL5ttr2310c2K",
			Regulation: regulation.MDR, RiskClass: "IIa", Implantable: &implantable, HighRiskAI: &ai, NotifiedBody: "0197"})
		if err != nil {
			b.Fatal(err)
		}
		lock := &vault.Lock{Mode: vault.Compliance, Until: time.Now().Add(24 * time.Hour)}
		trail := plant(b, x, func(i int) string {
			return fmt.Sprintf("vault/%s/access/2026-11-23/%020d-bench.json", tenant, i)
		}, lock)
		serial := plant(b, x, func(i int) string { return fmt.Sprintf("baseline/%s/serial/%d.json", tenant, i) }, lock)
		parallel := plant(b, x, func(i int) string { return fmt.Sprintf("baseline/%s/parallel/%d.json", tenant, i) }, lock)
		until := time.Now().Add(vault.ExtendAhead).AddDate(10, 0, 0).Truncate(time.Second)
		b.StartTimer()

		start := time.Now()
		st, err := x.svc.SetMarket(admin, d.ID, vault.MarketInput{FirstPlaced: time.Now().UTC().Format(time.DateOnly)})
		took := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if st.LastExtension == nil || st.LastExtension.Extension.Failed != 0 || st.LastExtension.Extension.Objects < len(trail) {
			b.Fatalf("got extension %+v, want at least the %d trail records extended and none failed", st.LastExtension, len(trail))
		}
		for _, i := range []int{0, len(trail) - 1} {
			info, err := x.store.Stat(context.Background(), trail[i].key, trail[i].version)
			if err != nil || info.RetainUntil.Before(until) {
				b.Fatalf("%s: got locked until %v (%v), want at least %v", trail[i].key, info.RetainUntil, err, until)
			}
		}
		vaultRate = float64(st.LastExtension.Extension.Objects) / took.Seconds()
		serialRate = float64(len(serial)) / direct(b, x, serial, until, 1).Seconds()
		parallelRate = float64(len(parallel)) / direct(b, x, parallel, until, 8).Seconds()
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(vaultRate, "vault-versions/s")
	b.ReportMetric(serialRate, "direct-1-versions/s")
	b.ReportMetric(parallelRate, "direct-8-versions/s")
	b.ReportMetric(vaultRate/parallelRate, "vault/direct-8")
	b.ReportMetric(vaultRate*15*60, "versions-per-15min")
}

type planted struct{ key, version string }

// plant writes trailRecords small locked records at the keys key names.
func plant(b *testing.B, x bench, key func(int) string, lock *vault.Lock) []planted {
	b.Helper()
	out := make([]planted, trailRecords)
	var failed atomic.Value
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(out); i = int(next.Add(1) - 1) {
				k := key(i)
				o, err := x.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &x.bucket, Key: &k, Body: nil,
					ObjectLockMode: types.ObjectLockMode(lock.Mode), ObjectLockRetainUntilDate: aws.Time(lock.Until)})
				if err != nil {
					failed.Store(err)
					return
				}
				out[i] = planted{k, aws.ToString(o.VersionId)}
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	return out
}

// direct extends the planted versions to until as the least work does,
// with clients goroutines, and returns how long it took.
func direct(b *testing.B, x bench, versions []planted, until time.Time, clients int) time.Duration {
	b.Helper()
	start := time.Now()
	var failed atomic.Value
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range clients {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(versions); i = int(next.Add(1) - 1) {
				v := versions[i]
				if _, err := x.client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &x.bucket, Key: &v.key, VersionId: &v.version}); err != nil {
					failed.Store(err)
					return
				}
				if _, err := x.client.PutObjectRetention(context.Background(), &s3.PutObjectRetentionInput{Bucket: &x.bucket, Key: &v.key, VersionId: &v.version,
					Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(until)}}); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	return took
}
