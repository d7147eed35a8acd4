// Package assembly builds the vault from its configuration, the same way
// for both Lambda functions, the local stack and the audit command: it
// reads the environment into a Config (config.go), makes the S3 client,
// the store and the signer and assembles the service (assemble.go), and
// wraps it in the functions' handlers (handlers.go). It is the
// composition root; libraries never read the environment.
package assembly

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/evidencevault/vault/internal/witnessing"
	"golang.org/x/mod/sumdb/note"
)

// Config is everything the vault needs to run.
type Config struct {
	// Bucket is the evidence bucket (VAULT_BUCKET).
	Bucket string
	// ScratchBucket keeps transient state, without Object Lock
	// (VAULT_SCRATCH_BUCKET): the logs' sequencer and head hints. Without
	// it each process commits on its own and hints go to Bucket.
	ScratchBucket string
	// SequencerLinger keeps a log's sequencer lease that long after the
	// process's last append (VAULT_SEQUENCER_LINGER): for long-lived
	// processes such as the local server; 0 (Lambda) lets it go at once.
	SequencerLinger time.Duration
	// LockMode is COMPLIANCE unless VAULT_LOCK_MODE=GOVERNANCE, which only
	// development should set.
	LockMode vault.LockMode
	// UploadTTL and DownloadTTL bound presigned URLs (VAULT_UPLOAD_TTL,
	// VAULT_DOWNLOAD_TTL, Go durations such as 15m).
	UploadTTL, DownloadTTL time.Duration
	// SigningKeyPEM is the receipt signing key (VAULT_SIGNING_KEY, or the
	// file named by VAULT_SIGNING_KEY_FILE): for development and tests.
	SigningKeyPEM []byte
	// KMSKeyID names the KMS key that signs receipts and checkpoints in
	// production (VAULT_SIGNING_KMS_KEY: key id, ARN or alias/...). The
	// SDK's standard settings reach KMS (AWS_REGION, AWS_ENDPOINT_URL_KMS).
	KMSKeyID string
	// PreviousKeyPEM and PreviousKMSKeyID name the key the signing key
	// replaces, set only while a rotation is under way
	// (VAULT_PREVIOUS_SIGNING_KEY, _KEY_FILE or _KMS_KEY): the vault signs
	// each log's rotation entry with both keys (docs/deploy.md).
	PreviousKeyPEM   []byte
	PreviousKMSKeyID string
	// S3 says how to reach storage.
	S3 S3
	// CORSOrigins may call the API from browser scripts
	// (VAULT_CORS_ORIGINS, comma-separated; none by default).
	CORSOrigins []string
	// PortalConnect are the origins the web portal calls besides the
	// API's own (VAULT_PORTAL_CONNECT, comma-separated): the storage
	// endpoint of its presigned URLs, and the sign-in provider's.
	PortalConnect []string
	// OIDC is the sign-in provider whose tokens the API accepts.
	OIDC OIDC
	// TSA is the Time-Stamping Authority that timestamps every receipt;
	// none when its URL is empty.
	TSA TSA
	// Witnesses cosign every log checkpoint (VAULT_WITNESSES: one witness
	// per line or separated by ";", each "URL VKEY"; docs/ledger.md), each
	// request waiting at most WitnessTimeout (VAULT_WITNESS_TIMEOUT, 5s);
	// a checkpoint is witnessed once WitnessQuorum of them cosigned it
	// (VAULT_WITNESS_QUORUM, all of them by default).
	Witnesses      []witnessing.Witness
	WitnessTimeout time.Duration
	WitnessQuorum  int
}

// TSA configures timestamps (docs/receipt.md): the authority's RFC 3161
// endpoint (VAULT_TSA_URL), a header its authentication wants
// (VAULT_TSA_AUTH_HEADER, "Name: value", or, deployed, the name or ARN of
// a Secrets Manager secret holding it, VAULT_TSA_AUTH_SECRET, read once at
// start so that the credential is in no function's configuration), its
// trust anchors and any
// intermediates, PEM (VAULT_TSA_ROOTS or VAULT_TSA_ROOTS_FILE,
// VAULT_TSA_INTERMEDIATES or _FILE), the policy requested and required
// (VAULT_TSA_POLICY, dotted OID), whether tokens must be qualified
// electronic timestamps per ETSI EN 319 422 (VAULT_TSA_QUALIFIED=true),
// and how long one request may take (VAULT_TSA_TIMEOUT, 5s by default).
type TSA struct {
	URL                        string
	AuthHeader, AuthSecret     string
	RootsPEM, IntermediatesPEM []byte
	Policy                     string
	Qualified                  bool
	Timeout                    time.Duration
}

// OIDC configures sign-in (docs/identity.md): the provider's issuer
// (VAULT_OIDC_ISSUER), the vault's client id there (VAULT_OIDC_CLIENT_ID),
// the claims that name tenant, role and e-mail (VAULT_OIDC_TENANT_CLAIM,
// VAULT_OIDC_ROLE_CLAIM, VAULT_OIDC_EMAIL_CLAIM) and the scopes clients
// ask for (VAULT_OIDC_SCOPES, space-separated), and the CLI's loopback
// callback where the provider takes registered ones only
// (VAULT_OIDC_REDIRECT_URI).
type OIDC struct {
	Issuer, ClientID                   string
	TenantClaim, RoleClaim, EmailClaim string
	Scopes                             []string
	RedirectURI                        string
}

// S3 configures the S3 client. Empty fields fall back to the SDK's standard
// configuration: AWS_REGION, the credential chain and AWS_ENDPOINT_URL_S3.
type S3 struct {
	Endpoint  string // a non-AWS endpoint such as MinIO's
	Region    string
	AccessKey string
	SecretKey string
	// PathStyle addresses the bucket in the path rather than the host name,
	// as MinIO needs (VAULT_S3_PATH_STYLE=true).
	PathStyle bool
	// HTTPClient, when set, sends the client's requests (tests count
	// them); the SDK's own otherwise.
	HTTPClient aws.HTTPClient `json:"-"`
}

// FromEnv reads the configuration with getenv (os.Getenv in main).
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{LockMode: vault.Compliance}
	var errs []error
	c.Bucket, c.S3, errs = storageFromEnv(getenv)
	c.ScratchBucket = getenv("VAULT_SCRATCH_BUCKET")
	if v := getenv("VAULT_SEQUENCER_LINGER"); v != "" {
		var err error
		if c.SequencerLinger, err = time.ParseDuration(v); err != nil || c.SequencerLinger < 0 || c.SequencerLinger > time.Second {
			errs = append(errs, fmt.Errorf("VAULT_SEQUENCER_LINGER=%q: want a duration up to 1s, such as 200ms", v))
		}
	}
	if c.ScratchBucket != "" && c.ScratchBucket == c.Bucket {
		errs = append(errs, errors.New("VAULT_SCRATCH_BUCKET names the evidence bucket: transient state needs a bucket without Object Lock"))
	}
	switch m := getenv("VAULT_LOCK_MODE"); m {
	case "", string(vault.Compliance):
	case string(vault.Governance):
		c.LockMode = vault.Governance
	default:
		errs = append(errs, fmt.Errorf("VAULT_LOCK_MODE=%q: want COMPLIANCE or GOVERNANCE", m))
	}
	for name, d := range map[string]*time.Duration{"VAULT_UPLOAD_TTL": &c.UploadTTL, "VAULT_DOWNLOAD_TTL": &c.DownloadTTL} {
		if v := getenv(name); v != "" {
			var err error
			if *d, err = time.ParseDuration(v); err != nil || *d <= 0 || *d > 7*24*time.Hour {
				errs = append(errs, fmt.Errorf("%s=%q: want a duration up to 168h, such as 15m", name, v))
			}
		}
	}
	var set bool
	c.SigningKeyPEM, c.KMSKeyID, set, errs = signingFromEnv(getenv, "VAULT_SIGNING", errs)
	if !set {
		errs = append(errs, errors.New("VAULT_SIGNING_KMS_KEY, VAULT_SIGNING_KEY or VAULT_SIGNING_KEY_FILE must name the receipt signing key"))
	}
	c.PreviousKeyPEM, c.PreviousKMSKeyID, _, errs = signingFromEnv(getenv, "VAULT_PREVIOUS_SIGNING", errs)
	origins, err := httpapi.ParseOrigins(getenv("VAULT_CORS_ORIGINS"))
	if err != nil {
		errs = append(errs, fmt.Errorf("VAULT_CORS_ORIGINS: %w", err))
	}
	c.CORSOrigins = origins
	if c.PortalConnect, err = httpapi.ParseOrigins(getenv("VAULT_PORTAL_CONNECT")); err != nil {
		errs = append(errs, fmt.Errorf("VAULT_PORTAL_CONNECT: %w", err))
	}
	c.OIDC, errs = oidcFromEnv(getenv, errs)
	c.TSA, errs = tsaFromEnv(getenv, errs)
	c.Witnesses, c.WitnessTimeout, c.WitnessQuorum, errs = witnessesFromEnv(getenv, errs)
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("assembly: %w", err)
	}
	return c, nil
}

// signingFromEnv reads one signing key named by prefix+"_KMS_KEY",
// prefix+"_KEY" or prefix+"_KEY_FILE"; set is false when none is given.
func signingFromEnv(getenv func(string) string, prefix string, errs []error) (pem []byte, kmsKey string, set bool, _ []error) {
	key, file, kmsKey := getenv(prefix+"_KEY"), getenv(prefix+"_KEY_FILE"), getenv(prefix+"_KMS_KEY")
	switch {
	case kmsKey != "" && (key != "" || file != ""):
		errs = append(errs, fmt.Errorf("%s_KMS_KEY and %s_KEY(_FILE) are both set: one key has one source", prefix, prefix))
	case kmsKey != "":
	case key != "":
		pem = []byte(key)
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s_KEY_FILE: %w", prefix, err))
		}
		pem = data
	default:
		return nil, "", false, errs
	}
	return pem, kmsKey, true, errs
}

// storageFromEnv reads where the evidence bucket is: what every entry
// point needs, the read-only audit among them.
func storageFromEnv(getenv func(string) string) (bucket string, s3 S3, errs []error) {
	bucket = getenv("VAULT_BUCKET")
	if bucket == "" {
		errs = append(errs, errors.New("VAULT_BUCKET is not set"))
	}
	return bucket, S3{PathStyle: getenv("VAULT_S3_PATH_STYLE") == "true"}, errs
}

// oidcFromEnv reads the sign-in provider; the API needs one.
func oidcFromEnv(getenv func(string) string, errs []error) (OIDC, []error) {
	o := OIDC{Issuer: getenv("VAULT_OIDC_ISSUER"), ClientID: getenv("VAULT_OIDC_CLIENT_ID"),
		TenantClaim: getenv("VAULT_OIDC_TENANT_CLAIM"), RoleClaim: getenv("VAULT_OIDC_ROLE_CLAIM"), EmailClaim: getenv("VAULT_OIDC_EMAIL_CLAIM"),
		Scopes: strings.Fields(getenv("VAULT_OIDC_SCOPES")), RedirectURI: getenv("VAULT_OIDC_REDIRECT_URI")}
	if o.Issuer != "" {
		if u, err := url.Parse(o.Issuer); err != nil || u.Scheme != "https" && u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" || u.Host == "" {
			errs = append(errs, fmt.Errorf("VAULT_OIDC_ISSUER=%q: want the provider's https issuer URL", o.Issuer))
		}
		if o.ClientID == "" {
			errs = append(errs, errors.New("VAULT_OIDC_CLIENT_ID is not set: the vault's client id at the provider, which its tokens are issued to"))
		}
	}
	if len(o.Scopes) == 0 {
		o.Scopes = []string{"openid", "email", "profile"}
	}
	return o, errs
}

// tsaFromEnv reads the timestamp authority, if one is named.
func tsaFromEnv(getenv func(string) string, errs []error) (TSA, []error) {
	t := TSA{URL: getenv("VAULT_TSA_URL"), AuthHeader: getenv("VAULT_TSA_AUTH_HEADER"), AuthSecret: getenv("VAULT_TSA_AUTH_SECRET"), Policy: getenv("VAULT_TSA_POLICY"), Timeout: 5 * time.Second}
	pemOf := func(name string) []byte {
		if v := getenv(name); v != "" {
			return []byte(v)
		}
		if f := getenv(name + "_FILE"); f != "" {
			data, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: %w", name, err))
			}
			return data
		}
		return nil
	}
	t.RootsPEM, t.IntermediatesPEM = pemOf("VAULT_TSA_ROOTS"), pemOf("VAULT_TSA_INTERMEDIATES")
	switch q := getenv("VAULT_TSA_QUALIFIED"); q {
	case "", "false":
	case "true":
		t.Qualified = true
	default:
		errs = append(errs, fmt.Errorf("VAULT_TSA_QUALIFIED=%q: want true or false", q))
	}
	if v := getenv("VAULT_TSA_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > time.Minute {
			errs = append(errs, fmt.Errorf("VAULT_TSA_TIMEOUT=%q: want a duration up to 1m, such as 5s", v))
		}
		t.Timeout = d
	}
	if t.URL == "" {
		if t.RootsPEM != nil || t.Policy != "" || t.Qualified || t.AuthHeader != "" || t.AuthSecret != "" {
			errs = append(errs, errors.New("VAULT_TSA_URL is not set, but other VAULT_TSA_ settings are: name the authority"))
		}
		return t, errs
	}
	if t.RootsPEM == nil {
		errs = append(errs, errors.New("VAULT_TSA_ROOTS or VAULT_TSA_ROOTS_FILE must give the authority's trust anchors (PEM)"))
	}
	if t.AuthHeader != "" && t.AuthSecret != "" {
		errs = append(errs, errors.New("VAULT_TSA_AUTH_HEADER and VAULT_TSA_AUTH_SECRET are both set: give the header or the secret holding it"))
	}
	if t.AuthHeader != "" && !strings.Contains(t.AuthHeader, ":") {
		errs = append(errs, errors.New("VAULT_TSA_AUTH_HEADER: want \"Name: value\""))
	}
	return t, errs
}

// witnessesFromEnv reads the witnesses, if any are named.
func witnessesFromEnv(getenv func(string) string, errs []error) ([]witnessing.Witness, time.Duration, int, []error) {
	var ws []witnessing.Witness
	for _, line := range strings.FieldsFunc(getenv("VAULT_WITNESSES"), func(r rune) bool { return r == '\n' || r == ';' }) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		w, err := witnessing.Parse(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("VAULT_WITNESSES: %w", err))
			continue
		}
		if !witnessing.Ed25519(w.Key) {
			// Published by GET /v1/verification-policy, it would be a key
			// the portal cannot check: every receipt would fail there.
			errs = append(errs, fmt.Errorf("VAULT_WITNESSES: witness %s: its key is not Ed25519, the only kind the portal can verify (WebCrypto has no ML-DSA)", w.Verifier.Name()))
			continue
		}
		ws = append(ws, w)
	}
	// GET /v1/verification-policy asks for every one of them: one key
	// named twice is a policy no verifier takes.
	vs := make([]note.Verifier, len(ws))
	for i, w := range ws {
		vs[i] = w.Verifier
	}
	if err := (witnessing.Policy{Witnesses: vs, Quorum: len(vs)}).Distinct(); err != nil {
		errs = append(errs, fmt.Errorf("VAULT_WITNESSES: %w", err))
	}
	timeout := 5 * time.Second
	if v := getenv("VAULT_WITNESS_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > time.Minute {
			errs = append(errs, fmt.Errorf("VAULT_WITNESS_TIMEOUT=%q: want a duration up to 1m, such as 5s", v))
		}
		timeout = d
	}
	quorum := len(ws)
	if v := getenv("VAULT_WITNESS_QUORUM"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > len(ws) {
			errs = append(errs, fmt.Errorf("VAULT_WITNESS_QUORUM=%q: want how many of the %d witnesses VAULT_WITNESSES names must cosign, 1 to %d", v, len(ws), len(ws)))
		}
		quorum = n
	}
	return ws, timeout, quorum, errs
}
