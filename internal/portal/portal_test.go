package portal_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/evidencevault/vault/internal/portal"
)

// TestHandlerServesFilesNotFolders: the page for the portal's paths and
// its callback, its files as they are, and no listing of a folder; every
// answer with the portal's Content-Security-Policy.
func TestHandlerServesFilesNotFolders(t *testing.T) {
	srv := httptest.NewServer(portal.Handler("/portal/", "http://127.0.0.1:9000"))
	defer srv.Close()
	for _, tc := range []struct {
		path   string
		status int
		has    string
	}{
		{"/portal/", 200, "<title>Evidence Vault</title>"},
		{"/portal/callback", 200, "<title>Evidence Vault</title>"},
		{"/portal/verify.js", 200, "export async function verifyReceipt"},
		{"/portal/vendor/", 404, ""},
		{"/portal/vendor", 404, ""},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.has) {
			t.Errorf("GET %s: got %d %.80q, want %d with %q", tc.path, resp.StatusCode, body, tc.status, tc.has)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); tc.status == 200 && (!strings.Contains(csp, "connect-src 'self' http://127.0.0.1:9000;") || !strings.Contains(csp, "frame-ancestors 'none'")) {
			t.Errorf("GET %s: CSP %q", tc.path, csp)
		}
	}
}
