// Package vault is the domain of Evidence Vault: dossiers, evidence
// metadata and its validation, upload sessions, sealing into versioned,
// retention-locked objects, and the signed receipts that prove it.
//
// The Service depends on small interfaces it declares (Store, Presigner,
// receipt.Signer); adapters such as s3store implement them. It owns no
// database: every record is an object in the evidence bucket.
package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"golang.org/x/sync/errgroup"
)

// Config is the service's explicit configuration; main reads it from the
// environment, the library never does.
type Config struct {
	// Bucket is the evidence bucket's name, recorded in every receipt.
	Bucket string
	// LockMode is the Object Lock mode applied at sealing: Compliance in
	// production, Governance only where development asks for it.
	LockMode LockMode
	// UploadTTL is how long a presigned upload URL lives; 15 minutes if 0.
	UploadTTL time.Duration
	// MultipartTTL is how long a multipart upload may take from start to
	// complete, resumptions included; 7 days if 0 (the bucket's lifecycle
	// rule aborts incomplete multipart uploads after that).
	MultipartTTL time.Duration
	// SealBudget, when set, bounds the time one Complete call spends
	// hashing a multipart object before it returns SealPending; the
	// context's deadline bounds it too.
	SealBudget time.Duration
	// DownloadTTL is how long a presigned download URL lives; 5 minutes if 0.
	DownloadTTL time.Duration
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Logger receives structured logs and access events; slog.Default if nil.
	Logger *slog.Logger
}

// Service is the vault's application logic, shared by the Lambda functions
// and the local server.
type Service struct {
	store  Store
	ledger *ledger.Log
	signer receipt.Signer
	pre    Presigner
	cfg    Config
	log    *slog.Logger

	publishMu sync.Mutex
	published bool
}

// New returns a Service storing into store, presigning with pre and signing
// receipts with signer.
func New(store Store, pre Presigner, signer receipt.Signer, cfg Config) *Service {
	if cfg.LockMode == "" {
		cfg.LockMode = Compliance
	}
	if cfg.UploadTTL == 0 {
		cfg.UploadTTL = 15 * time.Minute
	}
	if cfg.MultipartTTL == 0 {
		cfg.MultipartTTL = 7 * 24 * time.Hour
	}
	if cfg.DownloadTTL == 0 {
		cfg.DownloadTTL = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{store: store, pre: pre, signer: signer, cfg: cfg, log: cfg.Logger}
	s.ledger = newLedger(store, signer, cfg, s.knownKeys)
	return s
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// CreateDossier creates a dossier for one device in the caller's tenant.
// A second dossier for the same Basic UDI-DI is a CodeConflict.
func (s *Service) CreateDossier(ctx context.Context, in DossierInput) (Dossier, error) {
	id, err := caller(ctx)
	if err != nil {
		return Dossier{}, err
	}
	if !id.CanWrite() {
		return Dossier{}, errorf(CodeForbidden, "role %s may not create dossiers", id.Role)
	}
	if fields := check(in); fields != nil {
		return Dossier{}, invalid(fields)
	}
	now := s.now()
	d := Dossier{
		ID:             dossierID(id.Tenant, in.BasicUDIDI),
		Tenant:         id.Tenant,
		Name:           in.Name,
		BasicUDIDI:     in.BasicUDIDI,
		Regulation:     in.Regulation,
		RiskClass:      in.RiskClass,
		Implantable:    *in.Implantable,
		HighRiskAI:     *in.HighRiskAI,
		NotifiedBody:   in.NotifiedBody,
		RetentionYears: retentionYears(*in.Implantable),
		CreatedAt:      now,
		CreatedBy:      id.Subject,
	}
	lock := &Lock{Mode: s.cfg.LockMode, Until: now.AddDate(d.RetentionYears, 0, 0)}
	err = s.createJSON(ctx, dossierKey(d.Tenant, d.ID), d, lock)
	if errors.Is(err, ErrExists) {
		return Dossier{}, &Error{Code: CodeConflict,
			Message: fmt.Sprintf("a dossier for Basic UDI-DI %s already exists: %s", in.BasicUDIDI, d.ID),
			Fields:  []FieldError{{Pointer: "/basicUdiDi", Detail: "already has dossier " + d.ID}}}
	}
	if err != nil {
		return Dossier{}, fmt.Errorf("vault: create dossier: %w", err)
	}
	s.log.InfoContext(ctx, "dossier created", "tenant", d.Tenant, "dossier", d.ID, "subject", id.Subject)
	return d, nil
}

// ListDossiers returns the dossiers of the caller's tenant it may read.
func (s *Service) ListDossiers(ctx context.Context) ([]Dossier, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := s.store.List(ctx, dossiersPrefix(id.Tenant))
	if err != nil {
		return nil, fmt.Errorf("vault: list dossiers: %w", err)
	}
	keys = slices.DeleteFunc(keys, func(k string) bool {
		d := strings.TrimSuffix(strings.TrimPrefix(k, dossiersPrefix(id.Tenant)), ".json")
		return !id.CanRead(id.Tenant, d)
	})
	dossiers, err := getAllJSON[Dossier](ctx, s.store, keys)
	if err != nil {
		return nil, fmt.Errorf("vault: list dossiers: %w", err)
	}
	return dossiers, nil
}

// Dossier returns one dossier the caller may read; any other is
// CodeNotFound, whether or not it exists.
func (s *Service) Dossier(ctx context.Context, dossier string) (Dossier, error) {
	id, err := caller(ctx)
	if err != nil {
		return Dossier{}, err
	}
	return s.readableDossier(ctx, id, dossier)
}

func (s *Service) readableDossier(ctx context.Context, id Identity, dossier string) (Dossier, error) {
	if !dossierIDPattern.MatchString(dossier) || !id.CanRead(id.Tenant, dossier) {
		return Dossier{}, errDossierNotFound(dossier)
	}
	var d Dossier
	err := s.getJSON(ctx, dossierKey(id.Tenant, dossier), &d)
	if errors.Is(err, ErrNotFound) {
		return Dossier{}, errDossierNotFound(dossier)
	}
	if err != nil {
		return Dossier{}, fmt.Errorf("vault: read dossier: %w", err)
	}
	return d, nil
}

func errDossierNotFound(dossier string) *Error {
	return errorf(CodeNotFound, "no dossier %q", dossier)
}

// getJSON reads the JSON object at key into v.
func (s *Service) getJSON(ctx context.Context, key string, v any) error {
	return getJSONFrom(ctx, s.store, key, v)
}

func getJSONFrom(ctx context.Context, store Store, key string, v any) error {
	data, err := store.Get(ctx, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("vault: %s: %w", key, err)
	}
	return nil
}

// createJSON writes v at key with a conditional create.
func (s *Service) createJSON(ctx context.Context, key string, v any, lock *Lock) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("vault: %s: %w", key, err)
	}
	return s.store.Create(ctx, key, data, lock)
}

// putJSON overwrites key with v: only for progress the vault re-checks.
func (s *Service) putJSON(ctx context.Context, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("vault: %s: %w", key, err)
	}
	return s.store.Put(ctx, key, data)
}

// fetchConcurrency bounds parallel GETs when a listing needs the bodies.
const fetchConcurrency = 16

// getAllJSON reads the JSON objects at keys, in order, a few at a time.
func getAllJSON[T any](ctx context.Context, store Store, keys []string) ([]T, error) {
	out := make([]T, len(keys))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchConcurrency)
	for i, key := range keys {
		g.Go(func() error { return getJSONFrom(ctx, store, key, &out[i]) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
