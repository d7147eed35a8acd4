package httpapi_test

import (
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/vault"
)

// A grant's until is its last moment of access (docs/grants.md), for the
// download URLs it gave too: one handed out just before until expires
// with the grant, not DownloadTTL (5 minutes) after it.
func TestDownloadURLEndsWithTheGrant(t *testing.T) {
	a := newAPI(t, vault.Config{})
	up, nora := a.token(t, uploader), a.token(t, outsider)
	d := a.createDossier(t)
	a.upload(t, d, "a.txt", []byte("secret bytes"))
	until := time.Now().Add(3 * time.Second).UTC().Truncate(time.Second)
	a.grantFor(t, up, map[string]any{"email": outsider.Subject}, []string{d}, until)
	demo := []string{"Vault-Tenant", "demo"}
	r := a.call(t, "GET", "/v1/dossiers/"+d+"/download?path="+url.QueryEscape("a.txt"), nora, nil, demo...)
	if r.status != http.StatusOK {
		t.Fatalf("download while granted: %d %s", r.status, r.body)
	}
	var dl struct {
		Download vault.Presigned `json:"download"`
	}
	r.json(t, &dl)
	if dl.Download.ExpiresAt.After(until) {
		t.Errorf("download URL expires at %s, after the grant's until %s", dl.Download.ExpiresAt, until)
	}
	// Wait past until: the grant has ended, the API refuses...
	time.Sleep(time.Until(until) + 1500*time.Millisecond)
	if r := a.call(t, "GET", "/v1/dossiers/"+d, nora, nil, demo...); r.status != http.StatusForbidden {
		t.Fatalf("after until: got %d, want 403", r.status)
	}
	// ...but the URL handed out before still gives the bytes.
	resp, err := http.Get(dl.Download.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Errorf("after the grant's until (%s) the auditor still fetched %q with the URL issued before it", until, body)
	}
}
