package faults_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// proxy starts toxiproxy on a free loopback port in front of MinIO and
// returns it; it stops with the test.
func (w *world) proxy() *toxiproxy.Proxy {
	w.t.Helper()
	u, err := url.Parse(w.env.Endpoint)
	if err != nil {
		w.t.Fatal(err)
	}
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(server, "minio", "127.0.0.1:0", u.Host)
	if err := p.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(p.Stop)
	return p
}

// TestFaultsBetweenVaultAndStorage completes a burst of uploads from six
// clients through a vault whose every storage request passes a proxy
// adding one fault, each attempt within a deadline of 10 s (the API's
// requests have 25 s); the clients then retry through a vault without it.
func TestFaultsBetweenVaultAndStorage(t *testing.T) {
	for _, tc := range []struct {
		name, toxic string
		// window, when set, is how long the fault lasts from the start
		// of the burst: every connection meanwhile has it.
		window time.Duration
	}{
		{name: "latency", toxic: `{"name":"f","type":"latency","stream":"downstream","toxicity":1,"attributes":{"latency":40,"jitter":20}}`},
		{name: "resets", toxic: `{"name":"f","type":"reset_peer","stream":"downstream","toxicity":0.3,"attributes":{"timeout":0}}`},
		{name: "stalled connections", toxic: `{"name":"f","type":"timeout","stream":"downstream","toxicity":0.15,"attributes":{"timeout":0}}`},
		{name: "everything stalled for 2 s", toxic: `{"name":"f","type":"timeout","stream":"downstream","toxicity":1,"attributes":{"timeout":0}}`, window: 2 * time.Second},
		{name: "cut mid-answer", toxic: `{"name":"f","type":"limit_data","stream":"downstream","toxicity":0.2,"attributes":{"bytes":400}}`},
		{name: "half-open after a while", toxic: `{"name":"f","type":"timeout","stream":"upstream","toxicity":0.15,"attributes":{"timeout":500}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.t = t
			tks := w.uploads(strings.ReplaceAll(tc.name, " ", "-"), 24)
			p := w.proxy()
			faulty := w.vault("http://" + p.Listen)
			if _, err := p.Toxics.AddToxicJson(strings.NewReader(tc.toxic)); err != nil {
				t.Fatal(err)
			}
			o := newOutcome()
			start := time.Now()
			if tc.window > 0 {
				go func() {
					time.Sleep(tc.window)
					p.Toxics.RemoveToxic(context.Background(), "f")
				}()
			}
			complete(faulty, tks, 6, 10*time.Second, o)
			t.Logf("%s: %s in %s", tc.name, o, time.Since(start).Round(time.Millisecond))
			if tc.window > 0 && o.slowest < tc.window {
				t.Errorf("slowest attempt %s, shorter than the fault's %s: it did not happen", o.slowest, tc.window)
			}
			if tc.window == 0 {
				if err := p.Toxics.RemoveToxic(context.Background(), "f"); err != nil {
					t.Fatal(err)
				}
			}
			w.holds(tks, o)
		})
	}
}
