package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A document's version chain is one record per version, written once each
// (claim.go). Storage may hold more than the vault wrote there: versions
// over an entry, delete markers hiding one. The chain is read from a
// listing of every version, and each entry from the version written first,
// so that neither hides a version nor puts an older one in its place; what
// was written over the chain is the audit's to report.

// chain is one document's version chain as storage lists it.
type chain struct {
	path    string
	entries []Object // in version order: entries[i] holds version i+1
}

// listChain lists the chain of one document.
func (s *Service) listChain(ctx context.Context, tenant, dossier, path string) (chain, error) {
	prefix := chainPrefix(tenant, dossier, path)
	objs, err := s.records.List(ctx, prefix)
	if err != nil {
		return chain{}, fmt.Errorf("vault: read version chain: %w", err)
	}
	c := chain{path: path}
	for _, o := range objs {
		if n, ok := entryNumber(prefix, o.Key); ok && n == len(c.entries)+1 {
			c.entries = append(c.entries, o)
		}
	}
	return c, nil
}

// entryNumber reads the version number from an entry's key.
func entryNumber(prefix, key string) (int, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok || len(rest) != len("0000000001.json") || !strings.HasSuffix(rest, ".json") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(rest, ".json"))
	return n, err == nil && n > 0
}

// readEntry reads the version an entry was first written as, and checks
// that it is the entry its key says.
func (s *Service) readEntry(ctx context.Context, o Object, path string, n int) (Version, error) {
	orig, ok := o.Original()
	if !ok {
		return Version{}, errTamperedEntry(o.Key, "storage holds no version of it but delete markers")
	}
	data, err := s.records.GetVersion(ctx, o.Key, orig.ID)
	if err != nil {
		return Version{}, fmt.Errorf("vault: read version chain: %w", err)
	}
	return entryOf(data, o.Key, path, n)
}

// entryOf decodes a chain entry and checks it against its key.
func entryOf(data []byte, key, path string, n int) (Version, error) {
	var v Version
	if err := json.Unmarshal(data, &v); err != nil {
		return Version{}, errTamperedEntry(key, "it is not a version record")
	}
	// The key is vault/{tenant}/versions/{dossier}/…: an entry copied from
	// another dossier says that dossier.
	if parts := strings.SplitN(key, "/", 5); len(parts) < 5 || parts[3] != v.Dossier {
		return Version{}, errTamperedEntry(key, fmt.Sprintf("it is an entry of dossier %q", v.Dossier))
	}
	if v.Version != n || v.Document.Path != path || v.ReceiptID != receiptIDFor(v.UploadID) {
		return Version{}, errTamperedEntry(key, fmt.Sprintf("it says version %d of %q, receipt %s", v.Version, v.Document.Path, v.ReceiptID))
	}
	v.State = nil // the events', not the entry's, to say
	return v, nil
}

func errTamperedEntry(key, detail string) *Error {
	return &Error{Code: CodeTampered, Message: fmt.Sprintf("version chain entry %s is not what the vault wrote: %s", key, detail)}
}

// latest reads the chain's last entry; ok is false for an empty chain.
func (s *Service) latest(ctx context.Context, c chain) (v Version, ok bool, err error) {
	if len(c.entries) == 0 {
		return Version{}, false, nil
	}
	n := len(c.entries)
	v, err = s.readEntry(ctx, c.entries[n-1], c.path, n)
	return v, err == nil, err
}

// entry reads version n of a document by its key, as written: the newest
// version of the entry when it is the entry its key says, else the one
// first written.
func (s *Service) entry(ctx context.Context, tenant, dossier, path string, n int) (Version, error) {
	key := versionKey(chainPrefix(tenant, dossier, path), n)
	data, err := s.records.Get(ctx, key)
	if err != nil {
		return Version{}, err
	}
	if v, err := entryOf(data, key, path, n); err == nil {
		return v, nil
	}
	return s.originalEntry(ctx, tenant, dossier, path, n)
}

// originalEntry reads version n of a document as the vault first wrote it,
// whatever was written over it since.
func (s *Service) originalEntry(ctx context.Context, tenant, dossier, path string, n int) (Version, error) {
	key := versionKey(chainPrefix(tenant, dossier, path), n)
	objs, err := s.records.List(ctx, key)
	if err != nil {
		return Version{}, fmt.Errorf("vault: read version chain: %w", err)
	}
	for _, o := range objs {
		if o.Key == key {
			return s.readEntry(ctx, o, path, n)
		}
	}
	return Version{}, ErrNotFound
}

// sessionStarted returns when storage recorded an upload session: storage's
// clock, the one the chain's entries are stamped by, so that no instance's
// clock decides which entries came after the session.
func (s *Service) sessionStarted(ctx context.Context, sess session) (time.Time, error) {
	objs, err := s.records.List(ctx, uploadKey(sess.Tenant, sess.ID))
	if err != nil {
		return time.Time{}, fmt.Errorf("vault: read upload session: %w", err)
	}
	for _, o := range objs {
		if o.Key != uploadKey(sess.Tenant, sess.ID) {
			continue
		}
		if v, ok := o.Original(); ok {
			return v.LastModified, nil
		}
	}
	return time.Time{}, errors.New("vault: the upload session is not in storage")
}
