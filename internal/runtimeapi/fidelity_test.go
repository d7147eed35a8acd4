package runtimeapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/evidencevault/vault/internal/assembly"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/runtimeapi"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// build compiles a function's bootstrap for this host the way make build
// does for Lambda (static, lambda.norpc, stripped) and returns its path.
func build(t testing.TB, name string) string {
	t.Helper()
	return buildPackage(t, "../../functions/"+name)
}

func buildPackage(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

// boot starts a bootstrap against a Runtime API with Lambda's environment
// (the function's own configuration is in the process environment).
func boot(t testing.TB, bin string, api *runtimeapi.Server, name string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Dir = filepath.Dir(bin)
	// Lambda's environment: the function's configuration and Lambda's
	// own variables, nothing else of this machine's (AWS_CA_BUNDLE, set
	// here, alone costs every cold start milliseconds of certificate
	// parsing that Lambda does not do).
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=en_US.UTF-8", "TZ=:UTC",
		"AWS_LAMBDA_RUNTIME_API=" + api.Addr(), "_HANDLER=bootstrap", "LAMBDA_TASK_ROOT=" + cmd.Dir,
		"AWS_LAMBDA_FUNCTION_NAME=evidence-vault-" + name, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", "AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023"}
	for _, kv := range os.Environ() {
		if (strings.HasPrefix(kv, "VAULT_") || strings.HasPrefix(kv, "AWS_")) && !strings.HasPrefix(kv, "AWS_CA_BUNDLE=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdout, cmd.Stderr = testWriter{t}, testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func invoke(t testing.TB, api *runtimeapi.Server, payload []byte) runtimeapi.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := api.Invoke(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestFunctionsUnderTheRuntimeAPI runs each function's real binary as Lambda
// does and delivers it an API Gateway v2 event and an S3 event.
func TestFunctionsUnderTheRuntimeAPI(t *testing.T) {
	env := testenv.Get(t)
	store := env.Bucket(t, false)
	iss := env.SetFunctionEnv(t, store.Bucket())
	dirs, _ := os.ReadDir("../../functions")
	var names []string
	for _, d := range dirs {
		if d.IsDir() {
			names = append(names, d.Name())
		}
	}
	if !slices.Equal(names, []string{"api", "schedule", "seal"}) {
		t.Fatalf("functions/ holds %v; this test delivers events to api, schedule and seal", names)
	}

	api, err := runtimeapi.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	boot(t, build(t, "api"), api, "api")
	for _, tt := range []struct {
		event  string
		status int
		want   string
	}{
		{"create-dossier.json", http.StatusCreated, `dos_f62rtken3pg7wzh3`},
		{"get-keys.json", http.StatusOK, `"keys"`},
	} {
		// The caller's token is one of the provider the function
		// discovers, in place of the recorded one.
		tok := iss.Token(t, vault.Identity{Tenant: "demo", Subject: "alice@demo.example", Role: vault.RoleUploader})
		event := bytes.ReplaceAll(readFile(t, "../../functions/api/testdata/"+tt.event), []byte("eyJhbGciOiJSUzI1NiJ9.e30.sig"), []byte(tok))
		r := invoke(t, api, event)
		var resp events.APIGatewayV2HTTPResponse
		if r.Error != nil || json.Unmarshal(r.Body, &resp) != nil {
			t.Fatalf("%s: got error %s, body %s", tt.event, r.Error, r.Body)
		}
		if resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.want) || resp.Headers["X-Request-Id"] == "" {
			t.Errorf("%s: got %d %v %s, want %d with %s", tt.event, resp.StatusCode, resp.Headers, resp.Body, tt.status, tt.want)
		}
	}

	// An upload whose client never calls complete, sealed by the seal
	// function from the S3 event AWS would send.
	ctx := context.Background()
	c, err := assembly.FromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	v, err := assembly.New(ctx, c, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	alice := vault.NewContext(ctx, vault.Identity{Tenant: "demo", Subject: "alice@demo.example", Role: vault.RoleUploader})
	body := []byte("usability test protocol\n")
	sum := sha256.Sum256(body)
	tk, err := v.Service.StartUpload(alice, "dos_f62rtken3pg7wzh3", vault.Document{Path: "usability/protocol.txt", Title: "Usability protocol",
		Kind: regulation.KindTestReport, Section: "MDR-II-6.1", Revision: "1", Language: "en", EffectiveDate: "2026-11-23", Author: "UX",
		File: vault.File{Name: "protocol.txt", Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), ContentType: "text/plain"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := testenv.Curl(t, tk.Upload.Method, tk.Upload.URL, tk.Upload.Headers, body); got.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", got.Status, got.Body)
	}
	key := "evidence/demo/dos_f62rtken3pg7wzh3/usability/protocol.txt"
	versions, err := store.Versions(ctx, key)
	if err != nil || len(versions) != 1 {
		t.Fatalf("versions %v, %v", versions, err)
	}
	var ev events.S3Event
	if err := json.Unmarshal(readFile(t, "../../functions/seal/testdata/s3-put.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev.Records[0].S3.Bucket.Name = store.Bucket()
	ev.Records[0].S3.Object.Key = strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
	ev.Records[0].S3.Object.VersionID = versions[0]
	ev.Records[0].S3.Object.Size = int64(len(body))
	payload, _ := json.Marshal(ev)

	sealAPI, err := runtimeapi.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer sealAPI.Close()
	boot(t, build(t, "seal"), sealAPI, "seal")
	if r := invoke(t, sealAPI, payload); r.Error != nil || string(r.Body) != "null" {
		t.Fatalf("seal: got error %s, body %s; want null", r.Error, r.Body)
	}
	got, err := v.Service.Versions(alice, "dos_f62rtken3pg7wzh3", "usability/protocol.txt")
	if err != nil || len(got) != 1 || got[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("after the seal function: got %+v, %v; want version 1 sealed", got, err)
	}

	// A bad event is reported through the Runtime API's error endpoint.
	if r := invoke(t, sealAPI, []byte(`{"Records": "not a list"}`)); r.Error == nil || !strings.Contains(string(r.Error), "errorMessage") {
		t.Errorf("malformed event: got body %s error %s, want an error report", r.Body, r.Error)
	}

	// The schedule, on EventBridge's scheduled event: the dossier just
	// placed on the market was extended at once, so nothing is due.
	admin := vault.NewContext(ctx, vault.Identity{Tenant: "demo", Subject: "dana@demo.example", Role: vault.RoleAdmin})
	if _, err := v.Service.SetMarket(admin, "dos_f62rtken3pg7wzh3", vault.MarketInput{FirstPlaced: time.Now().UTC().Format(time.DateOnly)}); err != nil {
		t.Fatal(err)
	}
	schedAPI, err := runtimeapi.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer schedAPI.Close()
	boot(t, build(t, "schedule"), schedAPI, "schedule")
	r := invoke(t, schedAPI, readFile(t, "../../functions/schedule/testdata/scheduled-event.json"))
	var run vault.ScheduleRun
	if r.Error != nil || json.Unmarshal(r.Body, &run) != nil || run.Extended == nil || len(run.Extended) != 0 {
		t.Errorf("schedule: got error %s, body %s; want a run with nothing due", r.Error, r.Body)
	}
	if r := invoke(t, schedAPI, []byte(`{"detail-type": 7}`)); r.Error == nil {
		t.Errorf("malformed scheduled event: got body %s, want an error report", r.Body)
	}
}
