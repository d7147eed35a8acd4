package ledger

import (
	"bytes"
	"context"
	"fmt"
)

// Store is the object storage a log lives in. The caller adapts its own
// storage to it, retaining what Create writes for as long as the log is
// kept (Object Lock, in the vault).
type Store interface {
	// Create writes body at key unless key exists (If-None-Match: *);
	// created is false when it did, and nothing was written.
	Create(ctx context.Context, key string, body []byte) (created bool, err error)
	// Get returns key's latest body; found is false when there is none.
	Get(ctx context.Context, key string) (body []byte, found bool, err error)
	// Put overwrites key: only the head hint, which readers never trust.
	Put(ctx context.Context, key string, body []byte) error
	// List returns the keys under prefix in lexical order.
	List(ctx context.Context, prefix string) ([]string, error)
}

// createOrMatch writes an object derived from a commit: one that exists
// with the same bytes counts as written (another writer finished the
// commit first), one with other bytes is a *ConflictError.
func createOrMatch(ctx context.Context, s Store, key string, body []byte) error {
	created, err := s.Create(ctx, key, body)
	if err != nil || created {
		return err
	}
	have, found, err := s.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("ledger: read %s: %w", key, err)
	}
	if !found || !bytes.Equal(have, body) {
		return &ConflictError{Key: key}
	}
	return nil
}
