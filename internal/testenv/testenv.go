// Package testenv gives integration tests the real parts they need: a MinIO
// server started for the test binary on free ports over a temporary
// directory, a bucket per test with Object Lock, and the vault assembled the
// way production assembles it.
//
// A test binary that needs MinIO calls Main from TestMain. When MinIO cannot
// be found or started the binary fails; it never skips.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/evidencevault/vault/internal/assembly"
	"github.com/evidencevault/vault/internal/logging"
	"github.com/evidencevault/vault/internal/minioserver"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/s3store"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Env is the MinIO a test binary runs against.
type Env struct {
	*minioserver.Server
	// Webhook receives MinIO's bucket notifications for buckets made with
	// notifications on; tests route it with SetWebhook.
	webhookURL   string
	WebhookToken string
	webhook      atomic.Pointer[http.Handler]
}

var current *Env

// Main starts MinIO (with its webhook target pointing at a listener of this
// process), runs the tests and stops MinIO. Use it as
// func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }.
func Main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "vault-minio-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	env := &Env{WebhookToken: randomHex(16)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv: webhook listener:", err)
		return 1
	}
	hook := &http.Server{Handler: http.HandlerFunc(env.serveWebhook), ReadHeaderTimeout: 5 * time.Second}
	go hook.Serve(l)
	defer hook.Close()
	env.webhookURL = "http://" + l.Addr().String() + "/minio-events"

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	srv, err := minioserver.Start(ctx, minioserver.Config{Dir: dir, Env: minioserver.WebhookEnv(env.webhookURL, env.WebhookToken)})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv: MinIO is required for these tests and did not start:", err)
		return 1
	}
	defer srv.Stop()
	env.Server = srv
	current = env
	return m.Run()
}

func (e *Env) serveWebhook(w http.ResponseWriter, r *http.Request) {
	if h := e.webhook.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	io.Copy(io.Discard, r.Body)
}

// SetWebhook routes MinIO's event deliveries to h until the test ends.
func (e *Env) SetWebhook(t testing.TB, h http.Handler) {
	e.webhook.Store(&h)
	t.Cleanup(func() { e.webhook.Store(nil) })
}

// Get returns the running environment; it fails the test when Main did not
// start one.
func Get(t testing.TB) *Env {
	t.Helper()
	if current == nil {
		t.Fatal("testenv: no MinIO: call testenv.Main from TestMain")
	}
	return current
}

// S3Config is the client configuration for the root user.
func (e *Env) S3Config() assembly.S3 {
	return assembly.S3{Endpoint: e.Endpoint, Region: "us-east-1", AccessKey: e.RootUser, SecretKey: e.RootPassword, PathStyle: true}
}

// Client returns an S3 client for the root user.
func (e *Env) Client(t testing.TB) *s3.Client {
	t.Helper()
	c, err := assembly.NewS3Client(context.Background(), e.S3Config())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Root returns a MinIO client with the root user's credentials: what an
// operator with full access to the bucket holds, for tests that play one.
func (e *Env) Root(t testing.TB) *minio.Client {
	t.Helper()
	u, err := url.Parse(e.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(e.RootUser, e.RootPassword, ""), Secure: u.Scheme == "https", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Bucket creates a fresh bucket with Object Lock and returns a Store on it.
// With notify, its ObjectCreated events go to the webhook.
func (e *Env) Bucket(t testing.TB, notify bool) *s3store.Store {
	t.Helper()
	name := "t-" + strings.ToLower(randomHex(6))
	store := s3store.New(e.Client(t), name, Logger(t))
	opts := s3store.BucketOptions{}
	if notify {
		opts.NotifyQueueARN = minioserver.WebhookARN
	}
	if err := store.EnsureBucket(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	return store
}

// Scratch creates a fresh bucket without Object Lock for the vault's
// transient state and returns the store on it.
func (e *Env) Scratch(t testing.TB) *s3store.Scratch {
	t.Helper()
	sc := s3store.NewScratch(e.Client(t), "s-"+strings.ToLower(randomHex(6)))
	if err := sc.EnsureBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sc
}

// Signer returns a fresh local signing key.
func Signer(t testing.TB) *receipt.LocalSigner {
	t.Helper()
	s, err := receipt.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Logger returns a JSON logger into the test's log.
func Logger(t testing.TB) *slog.Logger {
	return logging.New(testWriter{t}, slog.LevelDebug)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// Service assembles a vault on a fresh bucket and scratch bucket with a
// fresh key.
func (e *Env) Service(t testing.TB, cfg vault.Config) (*vault.Service, *s3store.Store) {
	t.Helper()
	store := e.Bucket(t, false)
	cfg.Bucket = store.Bucket()
	if cfg.Logger == nil {
		cfg.Logger = Logger(t)
	}
	st := store.Storage()
	st.Scratch = e.Scratch(t)
	return vault.New(st, Signer(t), cfg), store
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// SetFunctionEnv sets the environment a Lambda function reads, with a
// sign-in provider it discovers (whose tokens the returned Issuer signs),
// pointing it
// at bucket on this MinIO through the SDK's standard variables (including
// AWS_ENDPOINT_URL_S3), with a fresh signing key.
func (e *Env) SetFunctionEnv(t testing.TB, bucket string) *Issuer {
	t.Helper()
	key, err := receipt.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"VAULT_BUCKET":                bucket,
		"VAULT_SIGNING_KEY":           string(key),
		"VAULT_S3_PATH_STYLE":         "true",
		"AWS_ENDPOINT_URL_S3":         e.Endpoint,
		"AWS_REGION":                  "us-east-1",
		"AWS_ACCESS_KEY_ID":           e.RootUser,
		"AWS_SECRET_ACCESS_KEY":       e.RootPassword,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		t.Setenv(k, v)
	}
	iss := ServeIssuer(t)
	t.Setenv("VAULT_OIDC_ISSUER", iss.URL())
	t.Setenv("VAULT_OIDC_CLIENT_ID", ClientID)
	return iss
}

// Put sends size bytes from body to a presigned PUT with the headers it
// was signed with, the way a Go client of the vault would, and fails the
// test unless storage takes them.
func Put(t testing.TB, p vault.Presigned, body io.Reader, size int64) {
	t.Helper()
	if err := Send(p, body, size); err != nil {
		t.Fatal(err)
	}
}

// Send is Put returning storage's refusal as an error.
func Send(p vault.Presigned, body io.Reader, size int64) error {
	req, err := http.NewRequest(p.Method, p.URL, body)
	if err != nil {
		return err
	}
	req.ContentLength = size
	for k, v := range p.Headers {
		if k != "Content-Length" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("presigned %s: storage answered %d: %s", p.Method, resp.StatusCode, msg)
	}
	return nil
}
