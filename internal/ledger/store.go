package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Store is the object storage a log lives in. The caller adapts its own
// storage to it, retaining what Create writes for as long as the log is
// kept (Object Lock, in the vault).
type Store interface {
	// Create writes body at key unless key exists (If-None-Match: *);
	// created is false when it did, and nothing was written.
	Create(ctx context.Context, key string, body []byte) (created bool, err error)
	// Get returns the body of key's newest version that is not a delete
	// marker; found is false when there is none.
	Get(ctx context.Context, key string) (body []byte, found bool, err error)
	// Versions returns the body of every version of key, delete markers
	// left out, in storage's order, which readers do not trust: objects
	// are written once, other versions are someone else's, and readers
	// pick the log's by what it signed (choose.go).
	Versions(ctx context.Context, key string) ([][]byte, error)
	// VersionCount returns how many versions key holds, delete markers
	// left out: Create cannot tell a key whose versions hide under a
	// delete marker (S3's If-None-Match takes that for no object) from
	// one never written.
	VersionCount(ctx context.Context, key string) (int, error)
	// Put overwrites key: only the head hint of a log without Scratch,
	// which readers never trust.
	Put(ctx context.Context, key string, body []byte) error
	// List returns the keys under prefix in lexical order.
	List(ctx context.Context, prefix string) ([]string, error)
}

// Scratch is storage for what the log may lose: the sequencer's lease,
// entries waiting for it, and the head hint. Nothing in it is trusted: a
// lease only saves writers from racing (the commit's conditional creation
// still decides the order), a pending entry is checked like any input, a
// hint is verified. It can be overwritten and expire (a bucket without
// Object Lock), so that transient state leaves no locked versions behind.
type Scratch interface {
	// Get returns key's body and a tag that changes with every write of
	// it; found is false when there is none.
	Get(ctx context.Context, key string) (body []byte, tag string, found bool, err error)
	// Swap writes body at key if its tag is still tag (If-Match), or, with
	// tag "", if key does not exist (If-None-Match: *). swapped is false,
	// and nothing written, when another write came first.
	Swap(ctx context.Context, key string, body []byte, tag string) (newTag string, swapped bool, err error)
	// Put writes body at key.
	Put(ctx context.Context, key string, body []byte) error
	// List returns the keys under prefix in lexical order.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes keys; a key that does not exist is no error.
	Delete(ctx context.Context, keys []string) error
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

// createOrSupersede is createOrMatch for an object at a place anyone can
// compute ahead of the log (the checkpoint of a size the log has not
// reached): one already there with other content is someone else's, so
// the log writes its own as a new version over it, which readers pick out
// by its signature, and the audit reports the other. The log
// keeps growing.
func createOrSupersede(ctx context.Context, s Store, key string, body []byte, log *slog.Logger) error {
	err := createOrMatch(ctx, s, key, body)
	var conflict *ConflictError
	if !errors.As(err, &conflict) {
		return err
	}
	log.WarnContext(ctx, "ledger: an object the log did not write holds its place; writing the log's over it", "key", key)
	return s.Put(ctx, key, body)
}

// firstValid reads the version of key that open accepts: the newest one
// (a Get) in the common case; when that one is refused, every version from
// the oldest, since anyone with the bucket's credentials can write over an
// object the log wrote once. It returns the accepted body, why the newest
// was refused (nil when it was accepted: no tampering seen), and that
// refusal again as err if no version is accepted.
func firstValid(ctx context.Context, s Store, key string, open func([]byte) error) (body []byte, refused, err error) {
	data, found, err := s.Get(ctx, key)
	if err != nil || !found {
		return nil, nil, err
	}
	refused = open(data)
	if refused == nil {
		return data, nil, nil
	}
	versions, err := s.Versions(ctx, key)
	if err != nil {
		return nil, refused, fmt.Errorf("ledger: read versions of %s: %w", key, err)
	}
	for _, v := range versions {
		if open(v) == nil {
			return v, refused, nil
		}
	}
	return nil, refused, refused
}
