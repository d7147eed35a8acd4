package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// flaky answers each request with the next status of its script (the last
// one repeated), and records what it was sent.
type flaky struct {
	mu         sync.Mutex
	script     []int
	retryAfter string
	slug       string // the problems' type, "unavailable" if ""
	calls      int
	keys, uas  []string
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	status := f.script[min(f.calls, len(f.script)-1)]
	f.calls++
	f.keys = append(f.keys, r.Header.Get("Idempotency-Key"))
	f.uas = append(f.uas, r.Header.Get("User-Agent"))
	if status >= 400 {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		slug := f.slug
		if slug == "" {
			slug = "unavailable"
		}
		w.Write([]byte(`{"type":"https://evidencevault.dev/problems/` + slug + `","title":"` + slug + `","status":` + strconv.Itoa(status) + `}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(`{"id":"dos_x","dossiers":[]}`))
}

func newFlaky(t *testing.T, f *flaky, opts Options) *Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "token", srv.Client(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRetries: what may be repeated is, after 429 and 503, honouring
// Retry-After and the number of tries; what may not is sent once.
func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		slug      string
		script    []int
		call      func(*Client) error
		wantCalls int
		wantErr   int // status of the final problem, 0 for success
	}{
		{"a read after two 503s", "", []int{503, 503, 200}, func(c *Client) error { _, err := c.Dossiers(context.Background()); return err }, 3, 0},
		{"a read after a 429", "", []int{429, 200}, func(c *Client) error { _, err := c.Dossiers(context.Background()); return err }, 2, 0},
		{"a read that stays unavailable", "", []int{503}, func(c *Client) error { _, err := c.Dossiers(context.Background()); return err }, 5, 503},
		{"a 502 (tampered) is not retried", "tampered", []int{502, 200}, func(c *Client) error { _, err := c.Dossiers(context.Background()); return err }, 1, 502},
		{"a create, with its Idempotency-Key", "", []int{503, 201}, func(c *Client) error {
			_, err := c.CreateDossier(context.Background(), DossierInput{Name: "x"})
			return err
		}, 2, 0},
		{"a create whose first attempt is still answered elsewhere", "idempotency-in-progress", []int{409, 201}, func(c *Client) error {
			_, err := c.CreateDossier(context.Background(), DossierInput{Name: "x"})
			return err
		}, 2, 0},
		{"another conflict is not retried", "conflict", []int{409, 201}, func(c *Client) error {
			_, err := c.CreateDossier(context.Background(), DossierInput{Name: "x"})
			return err
		}, 1, 409},
		{"a POST that may not be repeated", "", []int{503, 201}, func(c *Client) error {
			_, err := c.do(context.Background(), "POST", "/v1/other", nil, map[string]string{}, nil)
			return err
		}, 1, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &flaky{script: tt.script, retryAfter: "0", slug: tt.slug}
			c := newFlaky(t, f, Options{UserAgent: "evault/test"})
			err := tt.call(c)
			var p *Problem
			switch {
			case tt.wantErr == 0 && err != nil:
				t.Errorf("got %v, want success", err)
			case tt.wantErr != 0 && (!errors.As(err, &p) || p.Status != tt.wantErr):
				t.Errorf("got %v, want a %d problem", err, tt.wantErr)
			}
			if f.calls != tt.wantCalls {
				t.Errorf("got %d requests, want %d", f.calls, tt.wantCalls)
			}
			for i, k := range f.keys {
				if k != f.keys[0] {
					t.Errorf("request %d carried Idempotency-Key %q, the first %q: a retry must repeat it", i, k, f.keys[0])
				}
			}
			if !strings.HasPrefix(f.uas[0], "evault/test evidencevault-client-go") {
				t.Errorf("got User-Agent %q", f.uas[0])
			}
		})
	}
}

// TestRetryHonoursContext: a long Retry-After does not outlive the
// caller's context (Ctrl-C) or the call's timeout.
func TestRetryHonoursContext(t *testing.T) {
	f := &flaky{script: []int{503}, retryAfter: "30"}
	c := newFlaky(t, f, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := c.Dossiers(ctx)
	if !errors.Is(err, context.Canceled) || f.calls != 1 {
		t.Errorf("cancelled while waiting to retry: got %v after %d requests, want context.Canceled after 1", err, f.calls)
	}
	c = newFlaky(t, &flaky{script: []int{503}, retryAfter: "30"}, Options{Timeout: 50 * time.Millisecond})
	if _, err := c.Dossiers(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("past the call's timeout: got %v, want context.DeadlineExceeded", err)
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		status int
		header string
		want   time.Duration
	}{
		{503, "2", 2 * time.Second},
		{429, "", 0},
		{503, "3600", retryAfterMax},
		{503, "soon", 0},
		{500, "1", -1},
		{404, "", -1},
	} {
		resp := &http.Response{StatusCode: tt.status, Header: http.Header{"Retry-After": {tt.header}}}
		if got := retryAfter(resp); got != tt.want {
			t.Errorf("retryAfter(%d, %q): got %v, want %v", tt.status, tt.header, got, tt.want)
		}
	}
}
