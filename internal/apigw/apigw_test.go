package apigw_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/evidencevault/vault/internal/apigw"
	"github.com/evidencevault/vault/internal/logging"
)

func event(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestRequest(t *testing.T) {
	r, err := apigw.Request(context.Background(), event(t, "post-jwt.json"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	checks := []struct{ name, got, want string }{
		{"method", r.Method, "POST"},
		{"path", r.URL.Path, "/v1/dossiers/dos_abc/download"},
		{"query path", r.URL.Query().Get("path"), "test reports/validation.pdf"},
		{"query version", r.URL.Query().Get("version"), "2"},
		{"body", string(body), `{"path":"a.txt"}`},
		{"content type", r.Header.Get("Content-Type"), "application/json"},
		{"forwarded for", r.Header.Get("X-Forwarded-For"), "203.0.113.10, 198.51.100.7"},
		{"cookies", r.Header.Get("Cookie"), "session=abc; theme=dark"},
		{"host", r.Host, "api.evidencevault.example"},
		{"remote", r.RemoteAddr, "203.0.113.10"},
		{"request id", logging.RequestID(r.Context()), "Jx2hQiX0FiAEMBQ="},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}

// The function verifies the caller's token itself (internal/oidcauth),
// behind API Gateway's authorizer too: the adapter must hand the header
// over as sent.
func TestAuthorizationHeaderPassesThrough(t *testing.T) {
	ev := event(t, "post-jwt.json")
	r, err := apigw.Request(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Header.Get("Authorization"), ev.Headers["authorization"]; got == "" || got != want {
		t.Errorf("Authorization: got %q, want %q", got, want)
	}
}

func TestHandlerResponse(t *testing.T) {
	h := apigw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Vary", "Accept")
		w.Header().Add("Vary", "Authorization")
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte(`{"ok":true}`))
	}))
	resp, err := h(context.Background(), event(t, "get-no-authorizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusTeapot || resp.Body != `{"ok":true}` || resp.IsBase64Encoded {
		t.Errorf("got %d %q base64=%v", resp.StatusCode, resp.Body, resp.IsBase64Encoded)
	}
	if resp.Headers["Vary"] != "Accept,Authorization" || resp.Headers["Content-Type"] != "application/json" || !slices.Equal(resp.Cookies, []string{"a=1"}) {
		t.Errorf("got headers %v cookies %v", resp.Headers, resp.Cookies)
	}

	binary := apigw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte{0xff, 0x00}) }))
	resp, _ = binary(context.Background(), event(t, "get-no-authorizer.json"))
	if resp.StatusCode != http.StatusOK || !resp.IsBase64Encoded || resp.Body != "/wA=" {
		t.Errorf("binary body: got %d %q base64=%v", resp.StatusCode, resp.Body, resp.IsBase64Encoded)
	}

	ev := event(t, "post-jwt.json")
	ev.Body = "%%%"
	resp, err = h(context.Background(), ev)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("undecodable body: got %d %v, want 400", resp.StatusCode, err)
	}
}
