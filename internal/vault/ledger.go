package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
)

// ledgerStore adapts the vault's Store to the ledger's: every object the
// ledger creates is locked for as long as the longest-kept evidence, since
// one log covers every dossier of a tenant.
type ledgerStore struct {
	store Store
	lock  func() *Lock
}

func (l ledgerStore) Create(ctx context.Context, key string, body []byte) (bool, error) {
	err := l.store.Create(ctx, key, body, l.lock())
	if errors.Is(err, ErrExists) {
		return false, nil
	}
	return err == nil, err
}

func (l ledgerStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	data, err := l.store.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	return data, err == nil, err
}

func (l ledgerStore) Put(ctx context.Context, key string, body []byte) error {
	return l.store.Put(ctx, key, body)
}

func (l ledgerStore) List(ctx context.Context, prefix string) ([]string, error) {
	return l.store.List(ctx, prefix)
}

// LogOrigin names a tenant's log in this vault: the checkpoints' origin
// line and their signature's key name.
func LogOrigin(bucket, tenant string) string {
	return "evidencevault.dev/ledger/" + bucket + "/" + tenant
}

func newLedger(store Store, signer receipt.Signer, cfg Config, keys func(context.Context) ([]receipt.Key, error)) *ledger.Log {
	lock := func() *Lock {
		return &Lock{Mode: cfg.LockMode, Until: cfg.Now().UTC().AddDate(RetentionYearsImplantable+1, 0, 0)}
	}
	return ledger.New(ledgerStore{store: store, lock: lock}, signer, ledger.Config{
		Origin:       func(tenant string) string { return LogOrigin(cfg.Bucket, tenant) },
		Prefix:       ledgerPrefix,
		BundlePrefix: receiptsPrefix,
		Keys:         keys,
		Now:          cfg.Now,
		Logger:       cfg.Logger,
	})
}

// LogCheckpoint is a signed checkpoint of the caller's tenant's log.
type LogCheckpoint struct {
	Origin string
	Size   int64
	Signed []byte // the C2SP signed note
}

// Checkpoint returns the latest signed checkpoint of the caller's tenant's
// log, or the one at size when size > 0.
func (s *Service) Checkpoint(ctx context.Context, size int64) (*LogCheckpoint, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var cp ledger.Checkpoint
	var signed []byte
	if size > 0 {
		cp, signed, err = s.ledger.CheckpointAt(ctx, id.Tenant, size)
	} else {
		cp, signed, err = s.ledger.Latest(ctx, id.Tenant)
	}
	if err != nil {
		return nil, ledgerError(err)
	}
	return &LogCheckpoint{Origin: cp.Origin, Size: cp.Size, Signed: signed}, nil
}

// LogProof is an inclusion or consistency proof in the caller's tenant's
// log, with the checkpoint it leads to.
type LogProof struct {
	Origin     string        `json:"origin"`
	Index      *int64        `json:"index,omitempty"`
	From       *int64        `json:"from,omitempty"`
	Size       int64         `json:"size"`
	Checkpoint string        `json:"checkpoint"`
	Hashes     ledger.Hashes `json:"proof"`
}

// InclusionProof proves entry index in the tree of the checkpoint at size.
func (s *Service) InclusionProof(ctx context.Context, index, size int64) (*LogProof, error) {
	return s.logProof(ctx, size, func(tenant string) (ledger.Hashes, error) {
		return s.ledger.InclusionProof(ctx, tenant, index, size)
	}, &LogProof{Index: &index})
}

// ConsistencyProof proves that the log's tree of size from is a prefix of
// its tree at size to: nothing before from was changed or removed.
func (s *Service) ConsistencyProof(ctx context.Context, from, to int64) (*LogProof, error) {
	return s.logProof(ctx, to, func(tenant string) (ledger.Hashes, error) {
		return s.ledger.ConsistencyProof(ctx, tenant, from, to)
	}, &LogProof{From: &from})
}

func (s *Service) logProof(ctx context.Context, size int64, prove func(tenant string) (ledger.Hashes, error), out *LogProof) (*LogProof, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	_, signed, err := s.ledger.CheckpointAt(ctx, id.Tenant, size)
	if err != nil {
		return nil, ledgerError(err)
	}
	hashes, err := prove(id.Tenant)
	if err != nil {
		return nil, ledgerError(err)
	}
	out.Origin, out.Size, out.Checkpoint, out.Hashes = s.ledger.Origin(id.Tenant), size, string(signed), hashes
	return out, nil
}

// Audit walks the caller's tenant's whole log (docs/ledger.md). Only
// admins may run it: it reads every receipt of the tenant.
func (s *Service) Audit(ctx context.Context, trusted ...[]byte) (*ledger.Report, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if id.Role != RoleAdmin {
		return nil, errorf(CodeForbidden, "role %s may not audit the log", id.Role)
	}
	return s.ledger.Audit(ctx, id.Tenant, trusted...)
}

// AuditLog audits a tenant's log with read access to storage and the
// published keys only, no signing key: what cmd/vault-audit runs.
func AuditLog(ctx context.Context, store Store, bucket, tenant string, trusted ...[]byte) (*ledger.Report, error) {
	cfg := Config{Bucket: bucket, Now: time.Now}
	l := newLedger(store, nil, cfg, func(ctx context.Context) ([]receipt.Key, error) { return publishedKeys(ctx, store) })
	return l.Audit(ctx, tenant, trusted...)
}

func ledgerError(err error) error {
	if errors.Is(err, ledger.ErrNotFound) {
		return &Error{Code: CodeNotFound, Message: strings.TrimPrefix(err.Error(), ledger.ErrNotFound.Error()+": "), Err: err}
	}
	return fmt.Errorf("vault: ledger: %w", err)
}
