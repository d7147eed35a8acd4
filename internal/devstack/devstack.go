// Package devstack runs the whole vault on one machine for `make run`: a
// real MinIO with its data under a git-ignored folder, the evidence bucket
// with versioning, Object Lock and a webhook notification, a dev signing
// key, a dev token issuer, and the same HTTP handler and sealing code the
// Lambda functions run.
package devstack

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/evidencevault/vault/internal/assembly"
	"github.com/evidencevault/vault/internal/devoidc"
	"github.com/evidencevault/vault/internal/devtsa"
	"github.com/evidencevault/vault/internal/devwitness"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/minioserver"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/s3event"
	"github.com/evidencevault/vault/internal/s3store"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/evidencevault/vault/internal/witnessing"
)

// Options configure the local stack.
type Options struct {
	// Dir holds everything the stack keeps between runs (.local).
	Dir string
	// Addr is where the API listens, 127.0.0.1:8787 by default.
	Addr string
	// MinIOBinary is the minio executable; minioserver.Find() when empty.
	MinIOBinary string
	// LockMode for sealed evidence; COMPLIANCE unless development asks.
	LockMode vault.LockMode
	// CORSOrigins may call the API and the bucket's presigned URLs from
	// browser scripts; none by default.
	CORSOrigins []string
	// Out receives the banner and walkthrough.
	Out io.Writer
	// Log receives the structured logs.
	Log *slog.Logger
}

// Sign-in: the stack's own OpenID Connect provider (internal/devoidc),
// whose tokens the API verifies through discovery and JWKS exactly as a
// deployed vault verifies Cognito's or an organisation's.
const (
	Bucket = "evidence"
	// ScratchBucket keeps transient state, without Object Lock.
	ScratchBucket = "evidence-scratch"
	// sequencerLinger: the local server is one long-lived process, which
	// keeps a log's lease between bursts.
	sequencerLinger = 250 * time.Millisecond
	ClientID        = "evidence-vault"
	tokenTTL        = 12 * time.Hour
	webhook         = "/internal/minio-events"
	// IssuerPath is where the dev provider lives on the API's address.
	IssuerPath = "/dev-issuer"
	// PortalPath is where the web portal is served.
	PortalPath = assembly.PortalPath
	// TSAPath is where the development timestamp authority answers RFC
	// 3161 requests (internal/devtsa).
	TSAPath = "/dev-tsa"
	// WitnessPath is where the development witness answers C2SP
	// tlog-witness requests (internal/devwitness), as WitnessName.
	WitnessPath = "/dev-witness"
	WitnessName = "witness.evidencevault.dev"
)

// Demo users: an uploader and an admin of tenant demo, a notified body's
// auditor who belongs to no tenant (grants give them access), and an
// uploader of another tenant to show that tenants cannot see each other.
var (
	Uploader = devoidc.User{Subject: "alice@demo.example", Name: "Alice", Email: "alice@demo.example", Tenant: "demo", Role: vault.RoleUploader}
	Admin    = devoidc.User{Subject: "dana@demo.example", Name: "Dana", Email: "dana@demo.example", Tenant: "demo", Role: vault.RoleAdmin}
	Auditor  = devoidc.User{Subject: "auditor@nb0197.example", Name: "Nora (NB 0197)", Email: "auditor@nb0197.example", Role: vault.RoleAuditor}
	Other    = devoidc.User{Subject: "mallory@other.example", Name: "Mallory", Email: "mallory@other.example", Tenant: "other", Role: vault.RoleUploader}
)

//go:embed walkthrough.sh
var walkthrough string

// Run starts the stack, writes Dir/env when it is ready, and serves until
// ctx ends; then it stops everything and removes Dir/env, whose tokens die
// with the run's token key.
func Run(ctx context.Context, o Options) error {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8787"
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	switch o.LockMode {
	case "":
		o.LockMode = vault.Compliance
	case vault.Compliance, vault.Governance:
	default:
		return fmt.Errorf("devstack: lock mode %q: want COMPLIANCE or GOVERNANCE", o.LockMode)
	}
	// MinIO wants absolute paths, for its event queue among others.
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	o.Dir = dir
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	user, pass, err := credentials(filepath.Join(o.Dir, "minio-credentials"))
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("devstack: listen on %s (set VAULT_ADDR to use another address): %w", o.Addr, err)
	}
	defer l.Close()
	baseURL := "http://" + l.Addr().String()

	hookToken := randomHex(16)
	fmt.Fprintf(o.Out, "Starting MinIO (data in %s)...\n", filepath.Join(o.Dir, "minio"))
	mlog, err := os.OpenFile(filepath.Join(o.Dir, "minio.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	defer mlog.Close()
	mcfg := minioserver.Config{
		Binary:       o.MinIOBinary,
		Dir:          filepath.Join(o.Dir, "minio"),
		RootUser:     user,
		RootPassword: pass,
		Log:          mlog,
		Env: append(minioserver.WebhookEnv(baseURL+webhook, hookToken),
			// Events wait on disk while the API is down, and are delivered
			// on the next run.
			"MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_PRIMARY="+filepath.Join(o.Dir, "minio-events"),
			// MinIO's CORS is server-wide (its community edition has no
			// bucket CORS), and allows every origin unless told: allow
			// the configured ones, or only the API's own.
			"MINIO_API_CORS_ALLOW_ORIGIN="+strings.Join(append([]string{baseURL}, o.CORSOrigins...), ",")),
	}
	srv, err := minioserver.Start(ctx, mcfg)
	if err != nil {
		return err
	}
	// MinIO is restarted on the same port if it dies (supervise), so the
	// stack's Stop must stop whichever runs.
	defer func() { srv.Stop() }()
	mcfg.Port = srv.Port()

	s3cfg := assembly.S3{Endpoint: srv.Endpoint, Region: "us-east-1", AccessKey: user, SecretKey: pass, PathStyle: true}
	client, err := assembly.NewS3Client(ctx, s3cfg)
	if err != nil {
		return err
	}
	if err := s3store.New(client, Bucket, o.Log).EnsureBucket(ctx, s3store.BucketOptions{NotifyQueueARN: minioserver.WebhookARN}); err != nil {
		return err
	}
	if err := s3store.NewScratch(client, ScratchBucket).EnsureBucket(ctx); err != nil {
		return err
	}
	signingKey, err := loadOrCreateKey(filepath.Join(o.Dir, "signing-key.pem"))
	if err != nil {
		return err
	}
	stamps, err := devtsa.New(devtsa.Options{Dir: o.Dir})
	if err != nil {
		return err
	}
	rootFile := filepath.Join(o.Dir, "tsa-root.pem")
	if err := os.WriteFile(rootFile, stamps.RootPEM(), 0o644); err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	tsaURL := baseURL + TSAPath
	logKey, err := receipt.NewLocalSigner(signingKey)
	if err != nil {
		return err
	}
	witness, err := devwitness.New(ctx, devwitness.Options{Name: WitnessName, Dir: o.Dir, LogKey: func(origin string) (string, bool) {
		if !strings.HasPrefix(origin, vault.LogOrigin(Bucket, "")) {
			return "", false
		}
		vkey, err := ledger.VerifierKey(origin, logKey.Public().(*ecdsa.PublicKey))
		return vkey, err == nil
	}})
	if err != nil {
		return err
	}
	defer witness.Close()
	witnessURL := baseURL + WitnessPath
	witnesses, err := witnessing.Parse(witnessURL + " " + witness.VKey())
	if err != nil {
		return err
	}
	v, err := assembly.New(ctx, assembly.Config{Bucket: Bucket, ScratchBucket: ScratchBucket, SequencerLinger: sequencerLinger, LockMode: o.LockMode, SigningKeyPEM: signingKey, S3: s3cfg,
		TSA:       assembly.TSA{URL: tsaURL, RootsPEM: stamps.RootPEM(), Policy: devtsa.Policy.String(), Timeout: 5 * time.Second},
		Witnesses: []witnessing.Witness{witnesses}, WitnessTimeout: 5 * time.Second}, o.Log)
	if err != nil {
		return err
	}

	issuer := baseURL + IssuerPath
	idp, err := devoidc.New(issuer, ClientID, []devoidc.User{Uploader, Admin, Auditor, Other}, baseURL+PortalPath+"callback")
	if err != nil {
		return err
	}
	cfg := assembly.Config{CORSOrigins: o.CORSOrigins, OIDC: assembly.OIDC{Issuer: issuer, ClientID: ClientID, Scopes: []string{"openid", "email", "profile", "offline_access"}}}
	api := assembly.API(v, cfg, assembly.Verifier(cfg.OIDC), o.Log)
	mux := http.NewServeMux()
	mux.Handle(webhook, s3event.Webhook(hookToken, s3event.Handler(v.Service, Bucket, o.Log), o.Log))
	mux.Handle(IssuerPath+"/", idp.Handler())
	mux.Handle(TSAPath, stamps)
	mux.Handle(WitnessPath+"/", http.StripPrefix(WitnessPath, witness))
	cfg.PortalConnect = []string{srv.Endpoint}
	mux.Handle("/", assembly.Web(api.Handler(), cfg))
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(l) }()
	// Nothing the stack started runs on once Run returns (its caller, a
	// test's logger or a terminal, may be gone): the scheduler is stopped
	// and waited for on every way out, before the vault closes.
	schedCtx, stopSchedule := context.WithCancel(ctx)
	scheduled := make(chan struct{})
	go func() { schedule(schedCtx, v.Service, o.Log); close(scheduled) }()
	stopScheduler := func() { stopSchedule(); <-scheduled }
	defer stopScheduler()

	env := map[string]string{"VAULT_URL": baseURL, "VAULT_BUCKET": Bucket, "VAULT_SCRATCH_BUCKET": ScratchBucket, "VAULT_S3_ENDPOINT": srv.Endpoint}

	for name, u := range map[string]devoidc.User{"VAULT_UPLOADER_TOKEN": Uploader, "VAULT_ADMIN_TOKEN": Admin, "VAULT_AUDITOR_TOKEN": Auditor, "VAULT_OTHER_TOKEN": Other} {
		if env[name], err = idp.Token(u, tokenTTL); err != nil {
			return err
		}
	}
	env["VAULT_OIDC_ISSUER"] = issuer
	env["VAULT_TSA_URL"], env["VAULT_TSA_ROOTS_FILE"] = tsaURL, rootFile
	env["VAULT_TSA_CHAIN_FILE"] = filepath.Join(o.Dir, "tsa-chain.pem")
	env["VAULT_WITNESS_KEY"] = witness.VKey()
	env["VAULT_TENANT"] = Uploader.Tenant
	if err := banner(o.Out, env, v.Signer, o.LockMode); err != nil {
		return err
	}
	// The env file is the signal that everything is up: write it last.
	envFile := filepath.Join(o.Dir, "env")
	if err := writeEnv(envFile, env); err != nil {
		return err
	}
	defer os.Remove(envFile)

wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case err := <-serveErr:
			return fmt.Errorf("devstack: api server: %w", err)
		case <-srv.Exited():
			// The API stays up, answering storage-unavailable, while
			// MinIO comes back on its port over the same data.
			fmt.Fprintln(o.Out, "MinIO exited; restarting it (see "+filepath.Join(o.Dir, "minio.log")+")")
			next, err := restartMinIO(ctx, mcfg, o.Log)
			if err != nil {
				return err
			}
			srv = next
			fmt.Fprintln(o.Out, "MinIO is back at "+srv.Endpoint)
		}
	}
	fmt.Fprintln(o.Out, "\nStopping: API, then MinIO. The data stays in "+o.Dir+" for the next run.")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdown); err != nil {
		return err
	}
	stopScheduler()
	return v.Service.Close(shutdown)
}

// restartMinIO starts MinIO again with cfg, trying every second until it
// answers or ctx ends.
func restartMinIO(ctx context.Context, cfg minioserver.Config, log *slog.Logger) (*minioserver.Server, error) {
	for {
		srv, err := minioserver.Start(ctx, cfg)
		if err == nil {
			return srv, nil
		}
		log.WarnContext(ctx, "devstack: restart MinIO", "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// credentials returns MinIO's root credentials, made on the first run and
// kept, since MinIO encrypts its own configuration with them.
func credentials(path string) (user, pass string, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		user, pass = "vault-dev", randomHex(20)
		return user, pass, os.WriteFile(path, []byte(user+"\n"+pass+"\n"), 0o600)
	}
	if err != nil {
		return "", "", fmt.Errorf("devstack: %w", err)
	}
	fields := strings.Fields(string(data))
	if len(fields) != 2 {
		return "", "", fmt.Errorf("devstack: %s: want a user and a password", path)
	}
	return fields[0], fields[1], nil
}

// loadOrCreateKey keeps the dev signing key between runs, so that earlier
// receipts keep verifying with the current key too.
func loadOrCreateKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		return data, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("devstack: %w", err)
	}
	if data, err = receipt.GenerateKey(); err != nil {
		return nil, err
	}
	return data, os.WriteFile(path, data, 0o600)
}

// writeEnv writes the stack's coordinates in shell syntax, atomically, so
// that a reader never sees half a file.
func writeEnv(path string, env map[string]string) error {
	var b strings.Builder
	for _, k := range []string{"VAULT_URL", "VAULT_OIDC_ISSUER", "VAULT_UPLOADER_TOKEN", "VAULT_ADMIN_TOKEN", "VAULT_AUDITOR_TOKEN", "VAULT_OTHER_TOKEN", "VAULT_TENANT", "VAULT_BUCKET", "VAULT_SCRATCH_BUCKET", "VAULT_S3_ENDPOINT", "VAULT_TSA_URL", "VAULT_TSA_ROOTS_FILE", "VAULT_TSA_CHAIN_FILE", "VAULT_WITNESS_KEY"} {
		fmt.Fprintf(&b, "%s=%s\n", k, env[k])
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	return os.Rename(tmp, path)
}

var bannerTemplate = template.Must(template.New("banner").Parse(`
Evidence Vault is running.

  API            {{.url}}
  Portal         {{.url}}/portal/
  Sign-in        {{.issuer}} (development provider: pick a demo user; evault login)
  Signing key    {{.keyID}} (ECDSA P-256)
  Object Lock    {{.lock}} mode
  Timestamps     {{.tsa}} (development RFC 3161 authority; its root: {{.tsaRoot}})
  Witness        {{.witness}} (development witness; its key: {{.witnessKey}})
  Coordinates    .local/env (shell syntax; removed when the stack stops)

Demo tokens (ID tokens of the sign-in above), valid 12 hours:

  VAULT_UPLOADER_TOKEN  alice@demo.example, uploader of tenant demo
{{.uploader}}

  VAULT_ADMIN_TOKEN     dana@demo.example, admin of tenant demo (reads the access trail)
{{.admin}}

  VAULT_AUDITOR_TOKEN   auditor@nb0197.example, auditor of a notified body: reads what
                        tenants grant (POST /v1/grants), sending Vault-Tenant: demo
{{.auditor}}

  VAULT_OTHER_TOKEN     mallory@other.example, uploader of tenant other
{{.other}}

Walkthrough: paste into another shell in this folder (needs curl and jq).

{{.walkthrough}}
Press Ctrl-C to stop.
`))

func banner(w io.Writer, env map[string]string, signer receipt.Signer, mode vault.LockMode) error {
	keyID, err := receipt.KeyID(signer.Public())
	if err != nil {
		return err
	}
	return bannerTemplate.Execute(w, map[string]string{
		"url": env["VAULT_URL"], "keyID": keyID, "lock": string(mode), "walkthrough": walkthrough,
		"uploader": env["VAULT_UPLOADER_TOKEN"], "admin": env["VAULT_ADMIN_TOKEN"], "auditor": env["VAULT_AUDITOR_TOKEN"], "other": env["VAULT_OTHER_TOKEN"],
		"issuer": env["VAULT_OIDC_ISSUER"], "tsa": env["VAULT_TSA_URL"], "tsaRoot": env["VAULT_TSA_ROOTS_FILE"],
		"witness": env["VAULT_URL"] + WitnessPath, "witnessKey": env["VAULT_WITNESS_KEY"],
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// schedule runs, every minute, what the deployed stack's EventBridge
// schedule runs: lock extensions ahead of the market and the timestamps
// the authority could not give when receipts were sealed.
func schedule(ctx context.Context, svc *vault.Service, log *slog.Logger) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		run, err := svc.RunSchedule(ctx)
		if run == nil {
			run = &vault.ScheduleRun{}
		}
		if err != nil || run.Stamped+run.Pending+len(run.Extended) > 0 {
			log.InfoContext(ctx, "schedule", "extendedTenants", len(run.Extended), "stamped", run.Stamped, "pending", run.Pending, "err", err)
		}
	}
}
