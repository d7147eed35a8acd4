package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/evidencevault/vault/internal/assembly"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// invoke sends an API Gateway event through the handler main gives
// lambda.Start, the way the Lambda runtime does: JSON in, JSON out.
func invoke(t *testing.T, h lambda.Handler, payload []byte) events.APIGatewayV2HTTPResponse {
	t.Helper()
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// placeholder is the bearer token the recorded events carry; tests put a
// token of the provider the function discovers in its place.
const placeholder = "eyJhbGciOiJSUzI1NiJ9.e30.sig"

// signed is the event with its caller's token: alice, uploader of demo.
func signed(t *testing.T, iss *testenv.Issuer, event []byte) []byte {
	t.Helper()
	tok := iss.Token(t, vault.Identity{Tenant: "demo", Subject: "alice@demo.example", Role: vault.RoleUploader})
	return bytes.ReplaceAll(event, []byte(placeholder), []byte(tok))
}

func TestAPIFunction(t *testing.T) {
	env := testenv.Get(t)
	store := env.Bucket(t, false)
	iss := env.SetFunctionEnv(t, store.Bucket())
	fn, err := assembly.APIHandler(context.Background(), os.Getenv, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	h := lambda.NewHandler(fn)

	// The recorded token is no token of the provider: refused.
	if resp := invoke(t, h, testdata(t, "create-dossier.json")); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the recorded event's own token: got %d %s, want 401", resp.StatusCode, resp.Body)
	}
	resp := invoke(t, h, signed(t, iss, testdata(t, "create-dossier.json")))
	var d vault.Dossier
	json.Unmarshal([]byte(resp.Body), &d)
	if resp.StatusCode != http.StatusCreated || d.ID != "dos_f62rtken3pg7wzh3" || d.CreatedBy != "alice@demo.example" {
		t.Fatalf("create dossier: %d %s", resp.StatusCode, resp.Body)
	}
	if resp.Headers["X-Request-Id"] != "Jx2hQiX0FiAEMBQ=" {
		t.Errorf("request id: got %q, want API Gateway's", resp.Headers["X-Request-Id"])
	}

	resp = invoke(t, h, signed(t, iss, testdata(t, "start-upload.json")))
	var tk struct {
		vault.Ticket
		Complete string
	}
	json.Unmarshal([]byte(resp.Body), &tk)
	if resp.StatusCode != http.StatusCreated || tk.UploadID == "" {
		t.Fatalf("start upload: %d %s", resp.StatusCode, resp.Body)
	}
	content := testdata(t, "software-validation.txt")
	if got := testenv.Curl(t, tk.Upload.Method, tk.Upload.URL, tk.Upload.Headers, content); got.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", got.Status, got.Body)
	}

	complete := bytes.ReplaceAll(signed(t, iss, testdata(t, "complete.json")), []byte("UPLOAD_ID"), []byte(tk.UploadID))
	resp = invoke(t, h, complete)
	var rb struct {
		ReceiptID string
		Predicate vault.ReceiptPredicate
	}
	json.Unmarshal([]byte(resp.Body), &rb)
	if resp.StatusCode != http.StatusOK || rb.Predicate.Uploader.Subject != "alice@demo.example" || rb.Predicate.Storage.Bucket != store.Bucket() {
		t.Fatalf("complete: %d %s", resp.StatusCode, resp.Body)
	}

	resp = invoke(t, h, testdata(t, "get-keys.json"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "BEGIN PUBLIC KEY") {
		t.Errorf("keys: %d %s", resp.StatusCode, resp.Body)
	}

	// Without the authorizer's claims the API refuses, whatever the headers say.
	var ev events.APIGatewayV2HTTPRequest
	json.Unmarshal(testdata(t, "create-dossier.json"), &ev)
	ev.RequestContext.Authorizer = nil
	payload, _ := json.Marshal(ev)
	resp = invoke(t, h, payload)
	if resp.StatusCode != http.StatusUnauthorized || resp.Headers["Content-Type"] != "application/problem+json" {
		t.Errorf("no authorizer: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestAPIFunctionRefusesIncompleteConfiguration(t *testing.T) {
	t.Setenv("VAULT_BUCKET", "")
	t.Setenv("VAULT_SIGNING_KEY", "")
	t.Setenv("VAULT_SIGNING_KEY_FILE", "")
	_, err := assembly.APIHandler(context.Background(), os.Getenv, testenv.Logger(t))
	if err == nil || !strings.Contains(err.Error(), "VAULT_BUCKET") || !strings.Contains(err.Error(), "VAULT_SIGNING_KEY") {
		t.Errorf("got %v, want both missing settings named", err)
	}
}
