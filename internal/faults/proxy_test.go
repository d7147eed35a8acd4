package faults_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/evidencevault/vault/internal/vault"
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

// stallingProxy forwards connections to MinIO on a free loopback port,
// but the first of every every new connections it accepts and never
// answers, until the test ends; stalled says how many it has stalled.
func (w *world) stallingProxy(every int) (addr string, stalled func() int) {
	w.t.Helper()
	u, err := url.Parse(w.env.Endpoint)
	if err != nil {
		w.t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		w.t.Fatal(err)
	}
	var mu sync.Mutex
	var open []net.Conn
	n, stalls := 0, 0
	w.t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range open {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open = append(open, c)
			stall := n%every == 0
			n++
			if stall {
				stalls++
			}
			mu.Unlock()
			if stall {
				go io.Copy(io.Discard, c) // read, never answer
				continue
			}
			go func() {
				up, err := net.Dial("tcp", u.Host)
				if err != nil {
					c.Close()
					return
				}
				mu.Lock()
				open = append(open, up)
				mu.Unlock()
				go io.Copy(up, c)
				io.Copy(c, up)
				c.Close()
			}()
		}
	}()
	return l.Addr().String(), func() int { mu.Lock(); defer mu.Unlock(); return stalls }
}

// TestFaultsBetweenVaultAndStorage completes a burst of uploads from six
// clients through a vault whose every storage request passes a proxy
// adding one fault, each attempt within the API's deadline of 25 s; the
// clients then retry through a vault without it. No attempt may reach its
// deadline: the S3 client's own bounds answer first (a stalled connection
// costs 5 s, not the request), and every failure is retryable.
func TestFaultsBetweenVaultAndStorage(t *testing.T) {
	for _, tc := range []struct {
		name, toxic string
		// window, when set, is how long the fault lasts from the start
		// of the burst: every connection meanwhile has it.
		window time.Duration
		// stallEvery, when set, replaces the toxic: a proxy of the test's
		// own stalls the first new connection of every stallEvery.
		stallEvery int
	}{
		{name: "latency", toxic: `{"name":"f","type":"latency","stream":"downstream","toxicity":1,"attributes":{"latency":40,"jitter":20}}`},
		{name: "resets", toxic: `{"name":"f","type":"reset_peer","stream":"downstream","toxicity":0.3,"attributes":{"timeout":0}}`},
		// Every fourth new connection, the first among them, answers
		// nothing ever: with toxiproxy's random choice, a burst on a few
		// pooled connections could meet none.
		{name: "stalled connections", stallEvery: 4},
		{name: "everything stalled for 2 s", toxic: `{"name":"f","type":"timeout","stream":"downstream","toxicity":1,"attributes":{"timeout":0}}`, window: 2 * time.Second},
		{name: "cut mid-answer", toxic: `{"name":"f","type":"limit_data","stream":"downstream","toxicity":0.2,"attributes":{"bytes":400}}`},
		{name: "half-open after a while", toxic: `{"name":"f","type":"timeout","stream":"upstream","toxicity":0.15,"attributes":{"timeout":500}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.t = t
			tks := w.uploads(strings.ReplaceAll(tc.name, " ", "-"), 24)
			var p *toxiproxy.Proxy
			var faulty *vault.Service
			var stalled func() int
			if tc.stallEvery > 0 {
				var addr string
				addr, stalled = w.stallingProxy(tc.stallEvery)
				faulty = w.vault("http://" + addr)
			} else {
				p = w.proxy()
				faulty = w.vault("http://" + p.Listen)
				if _, err := p.Toxics.AddToxicJson(strings.NewReader(tc.toxic)); err != nil {
					t.Fatal(err)
				}
			}
			o := newOutcome()
			start := time.Now()
			if tc.window > 0 {
				go func() {
					time.Sleep(tc.window)
					p.Toxics.RemoveToxic(context.Background(), "f")
				}()
			}
			const deadline = 25 * time.Second
			complete(faulty, tks, 6, deadline, o)
			t.Logf("%s: %s in %s", tc.name, o, time.Since(start).Round(time.Millisecond))
			o.mu.Lock()
			for kind, n := range o.errors {
				if kind != "storage-unavailable" {
					t.Errorf("%d attempts failed with %s, want storage-unavailable alone", n, kind)
				}
			}
			if o.slowest >= deadline {
				t.Errorf("an attempt took %s, its whole deadline: the vault waited on storage unbounded", o.slowest)
			}
			o.mu.Unlock()
			if tc.window > 0 && o.slowest < tc.window {
				t.Errorf("slowest attempt %s, shorter than the fault's %s: it did not happen", o.slowest, tc.window)
			}
			if stalled != nil && stalled() == 0 {
				t.Error("no connection was stalled: the fault did not happen")
			}
			if tc.window == 0 && p != nil {
				if err := p.Toxics.RemoveToxic(context.Background(), "f"); err != nil {
					t.Fatal(err)
				}
			}
			w.holds(tks, o)
		})
	}
}
