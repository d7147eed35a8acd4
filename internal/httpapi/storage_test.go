package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

// A full storage answers 507 with a problem saying so, and nothing is
// stored.
func TestStorageFull(t *testing.T) {
	b := memstore.New("evidence")
	svc := vault.New(b.Storage(), testenv.Signer(t), vault.Config{Bucket: "evidence", Logger: slog.New(slog.DiscardHandler)})
	iss := testenv.NewIssuer(t)
	srv := httptest.NewServer(contract(t, httpapi.New(svc, iss.Verifier(), slog.New(slog.DiscardHandler)).Handler()))
	defer srv.Close()
	defer b.Inject(memstore.Fail("Create", "vault/", fmt.Errorf("memstore: disk full: %w", vault.ErrStorageFull)))()

	body, _ := json.Marshal(dossierBody())
	req, _ := http.NewRequest("POST", srv.URL+"/v1/dossiers", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+iss.Token(t, uploader))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p httpapi.Problem
	json.NewDecoder(resp.Body).Decode(&p)
	if resp.StatusCode != http.StatusInsufficientStorage || p.Type != httpapiProblem("storage-full") || resp.Header.Get("Retry-After") == "" {
		t.Errorf("got %d %+v (Retry-After %q), want 507 storage-full", resp.StatusCode, p, resp.Header.Get("Retry-After"))
	}
	for _, k := range b.Keys() {
		if k != "" {
			t.Errorf("storage holds %s after a refused request", k)
		}
	}
}

// A storage that stops answering is answered within the request's
// deadline with a retryable problem saying so, not left hanging.
func TestHungStorage(t *testing.T) {
	b := memstore.New("evidence")
	svc := vault.New(b.Storage(), testenv.Signer(t), vault.Config{Bucket: "evidence", Logger: slog.New(slog.DiscardHandler)})
	iss := testenv.NewIssuer(t)
	const deadline = 300 * time.Millisecond
	srv := httptest.NewServer(contract(t, httpapi.New(svc, iss.Verifier(), slog.New(slog.DiscardHandler), httpapi.WithRequestTimeout(deadline)).Handler()))
	defer srv.Close()
	defer b.Inject(memstore.Delay("Create", "vault/", time.Hour))()

	body, _ := json.Marshal(dossierBody())
	req, _ := http.NewRequest("POST", srv.URL+"/v1/dossiers", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+iss.Token(t, uploader))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	defer resp.Body.Close()
	var p httpapi.Problem
	json.NewDecoder(resp.Body).Decode(&p)
	if resp.StatusCode != http.StatusServiceUnavailable || p.Type != httpapiProblem("storage-unavailable") || resp.Header.Get("Retry-After") != "5" {
		t.Errorf("got %d %+v (Retry-After %q), want 503 storage-unavailable, Retry-After 5", resp.StatusCode, p, resp.Header.Get("Retry-After"))
	}
	if took > 10*deadline {
		t.Errorf("answered after %s, want about the %s deadline", took, deadline)
	}
}
