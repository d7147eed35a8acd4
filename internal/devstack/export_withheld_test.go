package devstack_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/evidencevault/vault/client"
	"github.com/evidencevault/vault/internal/bundle"
	"github.com/evidencevault/vault/internal/testenv"
)

// TestExportRefusesWithheldVersion: evault's export, through an API that
// gives the log's entry of a document's newest version as its leaf hash
// alone (as it gives another dossier's), is refused, not written with the
// older version; through the API as it is, it holds the newest.
func TestExportRefusesWithheldVersion(t *testing.T) {
	env, _, stop := testenv.LocalStack(t, t.TempDir())
	defer stop()
	ctx := context.Background()
	c, d, doc := sealOne(t, env)
	vs := sealAgain(t, c, d, doc)

	api, _ := url.Parse(env["VAULT_URL"])
	var withheld atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(api)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.URL.Path != "/v1/log/entries" || resp.StatusCode != http.StatusOK {
			return nil
		}
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		var page map[string]any
		if err := json.Unmarshal(data, &page); err != nil {
			return err
		}
		entries, _ := page["entries"].([]any)
		for _, e := range entries {
			if m, ok := e.(map[string]any); ok && m["id"] == vs[1].ReceiptID && m["envelope"] != nil {
				delete(m, "envelope")
				withheld.Add(1)
			}
		}
		data, _ = json.Marshal(page)
		resp.Body = io.NopCloser(strings.NewReader(string(data)))
		resp.ContentLength = int64(len(data))
		resp.Header.Del("Content-Length")
		return nil
	}
	srv := httptest.NewServer(proxy)
	defer srv.Close()

	export := func(base string) (*bundle.Manifest, error) {
		cl, err := client.New(base, env["VAULT_UPLOADER_TOKEN"], nil)
		if err != nil {
			t.Fatal(err)
		}
		view, err := cl.Open(ctx, memPins{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		w, err := bundle.Create(filepath.Join(t.TempDir(), "bundle"))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		return cl.Export(ctx, d.ID, 0, w, view, nil)
	}
	_, err := export(srv.URL)
	var te *client.TrustError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "leave out version 2 of tests/validation.pdf") {
		t.Errorf("export through the withholding API: got %v, want it refused naming version 2", err)
	}
	if withheld.Load() == 0 {
		t.Error("no entry was withheld: the test proves nothing")
	}
	m, err := export(env["VAULT_URL"])
	if err != nil || len(m.Documents) != 1 || m.Documents[0].Version != 2 {
		t.Errorf("export through the API as it is: %+v, %v; want version 2", m, err)
	}
}

// memPins keeps pins in memory, for one test.
type memPins map[string]client.Pin

func (m memPins) Pin(origin string) (*client.Pin, error) {
	if p, ok := m[origin]; ok {
		return &p, nil
	}
	return nil, nil
}
func (m memPins) Keep(p client.Pin) error    { m[p.Origin] = p; return nil }
func (m memPins) All() ([]client.Pin, error) { return slices.Collect(maps.Values(m)), nil }
func (m memPins) Where() string              { return "memory" }
