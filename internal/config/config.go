// Package config reads the vault's configuration from the environment and
// assembles the service from it, the same way for every Lambda function and
// for the local server. Libraries never read the environment; this package
// is what main calls to do it.
package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/evidencevault/vault/internal/kmssign"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/s3store"
	"github.com/evidencevault/vault/internal/vault"
)

// Config is everything the vault needs to run.
type Config struct {
	// Bucket is the evidence bucket (VAULT_BUCKET).
	Bucket string
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
	// S3 says how to reach storage.
	S3 S3
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
}

// FromEnv reads the configuration with getenv (os.Getenv in main).
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Bucket:   getenv("VAULT_BUCKET"),
		LockMode: vault.Compliance,
		S3:       S3{PathStyle: getenv("VAULT_S3_PATH_STYLE") == "true"},
	}
	var errs []error
	if c.Bucket == "" {
		errs = append(errs, errors.New("VAULT_BUCKET is not set"))
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
	switch key, file, kmsKey := getenv("VAULT_SIGNING_KEY"), getenv("VAULT_SIGNING_KEY_FILE"), getenv("VAULT_SIGNING_KMS_KEY"); {
	case kmsKey != "" && (key != "" || file != ""):
		errs = append(errs, errors.New("VAULT_SIGNING_KMS_KEY and VAULT_SIGNING_KEY(_FILE) are both set: receipts have one signer"))
	case kmsKey != "":
		c.KMSKeyID = kmsKey
	case key != "":
		c.SigningKeyPEM = []byte(key)
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("VAULT_SIGNING_KEY_FILE: %w", err))
		}
		c.SigningKeyPEM = data
	default:
		errs = append(errs, errors.New("VAULT_SIGNING_KMS_KEY, VAULT_SIGNING_KEY or VAULT_SIGNING_KEY_FILE must name the receipt signing key"))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

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
		return aws.Config{}, fmt.Errorf("config: aws: %w", err)
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
		// The vault checks SHA-256 itself where it matters (sealing
		// streams the object); the SDK need not checksum every read nor
		// warn that a multipart object has no full-object checksum.
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.DisableLogOutputChecksumValidationSkipped = true
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
	signer, err := newSigner(ctx, awsCfg, c)
	if err != nil {
		return nil, err
	}
	client := newS3Client(awsCfg, c.S3)
	store := s3store.New(client, c.Bucket)
	svc := vault.New(store, store, signer, vault.Config{
		Bucket:      c.Bucket,
		LockMode:    c.LockMode,
		UploadTTL:   c.UploadTTL,
		DownloadTTL: c.DownloadTTL,
		Logger:      logger,
	})
	return &Vault{Service: svc, Store: store, Signer: signer}, nil
}

// newSigner returns the KMS signer when a KMS key is configured, else the
// local one.
func newSigner(ctx context.Context, awsCfg aws.Config, c Config) (receipt.Signer, error) {
	if c.KMSKeyID == "" {
		s, err := receipt.NewLocalSigner(c.SigningKeyPEM)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		return s, nil
	}
	s, err := kmssign.New(ctx, kms.NewFromConfig(awsCfg), c.KMSKeyID)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return s, nil
}

// StoreFromEnv opens the evidence bucket named by VAULT_BUCKET with the
// SDK's standard credentials and endpoint settings, for tools that only
// read (cmd/vault-audit): no signing key is needed.
func StoreFromEnv(ctx context.Context, getenv func(string) string) (*s3store.Store, error) {
	bucket := getenv("VAULT_BUCKET")
	if bucket == "" {
		return nil, errors.New("config: VAULT_BUCKET is not set")
	}
	client, err := NewS3Client(ctx, S3{PathStyle: getenv("VAULT_S3_PATH_STYLE") == "true"})
	if err != nil {
		return nil, err
	}
	return s3store.New(client, bucket), nil
}
