package bench_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/devtsa"
	"github.com/evidencevault/vault/internal/devwitness"
	"github.com/evidencevault/vault/internal/ledger"
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
		cfg.Witnesses = witnessing.New([]witnessing.Witness{{URL: u, Verifier: v}}, 0, 5*time.Second)
	}
	svc := vault.New(x.storage(), x.signer, cfg)

	_, tickets := x.tickets(b, svc, clients, perClient)
	rounds.Store(0)
	issued := authority.Issued()
	b.StartTimer()
	pending := 0
	lat, elapsed := completeAll(b, x.ctx, tickets, func(int) *vault.Service { return svc }, func(r *vault.Receipt) {
		if r.Pending {
			pending++
		}
	})
	n := float64(clients * perClient)
	reportCompletes(b, lat, elapsed)
	b.ReportMetric(float64(authority.Issued()-issued)/n, "tokens/receipt")
	b.ReportMetric(float64(rounds.Load())/n, "rounds/receipt")
	b.ReportMetric(float64(pending)/n, "pending/receipt")
}
