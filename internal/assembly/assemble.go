package assembly

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/evidencevault/vault/internal/kmssign"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/s3store"
	"github.com/evidencevault/vault/internal/tsa"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/evidencevault/vault/internal/witnessing"
)

// NewS3Client returns an S3 client for c.
func NewS3Client(ctx context.Context, c S3) (*s3.Client, error) {
	cfg, err := loadAWS(ctx, c)
	if err != nil {
		return nil, err
	}
	return newS3Client(cfg, c), nil
}

// loadAWS reads the SDK's standard configuration once; loading it costs
// milliseconds of every Lambda cold start.
func loadAWS(ctx context.Context, c S3) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if c.Region != "" {
		opts = append(opts, awsconfig.WithRegion(c.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("assembly: aws: %w", err)
	}
	return cfg, nil
}

func newS3Client(cfg aws.Config, c S3) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if c.AccessKey != "" {
			o.Credentials = credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, "")
		}
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = c.PathStyle
		o.HTTPClient = c.HTTPClient
		if o.HTTPClient == nil {
			o.HTTPClient = s3HTTPClient()
		}
		// The vault checks SHA-256 itself where it matters (sealing
		// streams the object); the SDK need not checksum every read nor
		// warn that a multipart object has no full-object checksum.
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}

// s3HTTPClient bounds each S3 request's wait for a connection and for
// its answer's headers, so that a storage that stops answering fails the
// attempt rather than hanging: the SDK takes that for a connection error
// and tries again on another connection (a stalled connection costs 5 s,
// not the request), and a storage that stays silent fails the request
// with a retryable problem. Bodies are not bounded: a seal streams GiB.
// S3 answers CompleteMultipartUpload at once and keeps the connection
// alive while it joins.
func s3HTTPClient() aws.HTTPClient {
	return awshttp.NewBuildableClient().WithDialerOptions(func(d *net.Dialer) {
		d.Timeout = 5 * time.Second
	}).WithTransportOptions(func(t *http.Transport) {
		t.TLSHandshakeTimeout = 5 * time.Second
		t.ResponseHeaderTimeout = 5 * time.Second
	})
}

// Vault is the assembled application: the service and the store it uses.
type Vault struct {
	Service *vault.Service
	Store   *s3store.Store
	Signer  receipt.Signer
}

// New assembles the vault from c.
func New(ctx context.Context, c Config, logger *slog.Logger) (*Vault, error) {
	awsCfg, err := loadAWS(ctx, c.S3)
	if err != nil {
		return nil, err
	}
	signer, err := newSigner(ctx, awsCfg, c.SigningKeyPEM, c.KMSKeyID)
	if err != nil {
		return nil, err
	}
	var previous receipt.Signer
	if c.PreviousKeyPEM != nil || c.PreviousKMSKeyID != "" {
		if previous, err = newSigner(ctx, awsCfg, c.PreviousKeyPEM, c.PreviousKMSKeyID); err != nil {
			return nil, fmt.Errorf("assembly: the previous signing key: %w", err)
		}
	}
	stamps, err := newTimestamper(ctx, c.TSA, secretsmanager.NewFromConfig(awsCfg))
	if err != nil {
		return nil, err
	}
	var witnesses vault.Cosigner
	if len(c.Witnesses) > 0 {
		witnesses = witnessing.New(c.Witnesses, c.WitnessQuorum, c.WitnessTimeout)
	}
	client := newS3Client(awsCfg, c.S3)
	store := s3store.New(client, c.Bucket, logger)
	st := store.Storage()
	if c.ScratchBucket != "" {
		st.Scratch = s3store.NewScratch(client, c.ScratchBucket)
	}
	svc := vault.New(st, signer, vault.Config{
		Timestamps:  stamps,
		Witnesses:   witnesses,
		Bucket:      c.Bucket,
		LockMode:    c.LockMode,
		UploadTTL:   c.UploadTTL,
		DownloadTTL: c.DownloadTTL,
		Previous:    previous,
		Sequencing:  ledger.Sequencing{Linger: c.SequencerLinger},
		Logger:      logger,
	})
	return &Vault{Service: svc, Store: store, Signer: signer}, nil
}

// newSigner returns the KMS signer when a KMS key is named, else the
// local one.
func newSigner(ctx context.Context, awsCfg aws.Config, keyPEM []byte, kmsKeyID string) (receipt.Signer, error) {
	if kmsKeyID == "" {
		s, err := receipt.NewLocalSigner(keyPEM)
		if err != nil {
			return nil, fmt.Errorf("assembly: %w", err)
		}
		return s, nil
	}
	s, err := kmssign.New(ctx, kms.NewFromConfig(awsCfg), kmsKeyID)
	if err != nil {
		return nil, fmt.Errorf("assembly: %w", err)
	}
	return s, nil
}

// StoreFromEnv opens the evidence bucket named by VAULT_BUCKET with the
// SDK's standard credentials and endpoint settings, for tools that only
// read (cmd/vault-audit): no signing key is needed.
func StoreFromEnv(ctx context.Context, getenv func(string) string, logger *slog.Logger) (*s3store.Store, error) {
	bucket, s3c, errs := storageFromEnv(getenv)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("assembly: %w", err)
	}
	client, err := NewS3Client(ctx, s3c)
	if err != nil {
		return nil, err
	}
	return s3store.New(client, bucket, logger), nil
}

// secretValues is the part of Secrets Manager that reads a secret.
type secretValues interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// authHeader returns the header the authority's authentication wants:
// as configured, or read from the secret that holds it.
func authHeader(ctx context.Context, c TSA, secrets secretValues) (string, error) {
	if c.AuthSecret == "" {
		return c.AuthHeader, nil
	}
	out, err := secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(c.AuthSecret)})
	if err != nil {
		return "", fmt.Errorf("assembly: VAULT_TSA_AUTH_SECRET %s: %v", c.AuthSecret, err)
	}
	h := strings.TrimSpace(aws.ToString(out.SecretString))
	if name, value, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(name) == "" || strings.TrimSpace(value) == "" || strings.ContainsAny(h, "\r\n") {
		// The value is a credential: the error does not repeat it.
		return "", fmt.Errorf("assembly: VAULT_TSA_AUTH_SECRET %s: its value is not one header, \"Name: value\"", c.AuthSecret)
	}
	return h, nil
}

// newTimestamper returns the client of the configured timestamp
// authority, nil when none is.
func newTimestamper(ctx context.Context, c TSA, secrets secretValues) (vault.Timestamper, error) {
	if c.URL == "" {
		return nil, nil
	}
	auth, err := authHeader(ctx, c, secrets)
	if err != nil {
		return nil, err
	}
	trust := tsa.Trust{Qualified: c.Qualified}
	if trust.Roots, err = tsa.ParseCertificates(c.RootsPEM); err != nil {
		return nil, fmt.Errorf("assembly: VAULT_TSA_ROOTS: %w", err)
	}
	if c.IntermediatesPEM != nil {
		if trust.Intermediates, err = tsa.ParseCertificates(c.IntermediatesPEM); err != nil {
			return nil, fmt.Errorf("assembly: VAULT_TSA_INTERMEDIATES: %w", err)
		}
	}
	if c.Policy != "" {
		if trust.Policy, err = tsa.ParsePolicy(c.Policy); err != nil {
			return nil, fmt.Errorf("assembly: VAULT_TSA_POLICY: %w", err)
		}
	}
	header := http.Header{}
	if name, value, ok := strings.Cut(auth, ":"); ok {
		header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	cl, err := tsa.New(tsa.Config{URL: c.URL, Header: header, Trust: trust, Timeout: c.Timeout})
	if err != nil {
		return nil, fmt.Errorf("assembly: %w", err)
	}
	return cl, nil
}
