package vault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Documents returns the latest sealed version of every document in a
// dossier, ordered by path.
func (s *Service) Documents(ctx context.Context, dossier string) ([]Version, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.readableDossier(ctx, id, dossier); err != nil {
		return nil, err
	}
	prefix := versionsPrefix(id.Tenant, dossier)
	keys, err := s.records.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("vault: list documents: %w", err)
	}
	// Keys sort by escaped path, then by zero-padded version number, so the
	// last key of each path's run is its latest version.
	var latest []string
	for i, key := range keys {
		p, ok := chainPath(prefix, key)
		if !ok {
			continue
		}
		if next := i + 1; next < len(keys) {
			if q, ok := chainPath(prefix, keys[next]); ok && q == p {
				continue
			}
		}
		latest = append(latest, key)
	}
	versions, err := getAllJSON[Version](ctx, s.records, latest)
	if err != nil {
		return nil, fmt.Errorf("vault: list documents: %w", err)
	}
	return versions, nil
}

// Versions returns every sealed version of one document, oldest first.
func (s *Service) Versions(ctx context.Context, dossier, path string) ([]Version, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.readableDossier(ctx, id, dossier); err != nil {
		return nil, err
	}
	keys, err := s.records.List(ctx, chainPrefix(id.Tenant, dossier, path))
	if err != nil {
		return nil, fmt.Errorf("vault: list versions: %w", err)
	}
	if len(keys) == 0 {
		return nil, errorf(CodeNotFound, "no document %q in dossier %s", path, dossier)
	}
	versions, err := getAllJSON[Version](ctx, s.records, keys)
	if err != nil {
		return nil, fmt.Errorf("vault: list versions: %w", err)
	}
	return versions, nil
}

// Download is an exact version, its receipt and a short-lived URL for its
// bytes.
type Download struct {
	Version  Version   `json:"version"`
	Download Presigned `json:"download"`
	Receipt  *Receipt  `json:"-"`
}

// Download returns a presigned GET for one sealed version of a document
// (the latest when version is 0) with its receipt, and logs the access.
func (s *Service) Download(ctx context.Context, dossier, path string, version int) (*Download, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.readableDossier(ctx, id, dossier); err != nil {
		return nil, err
	}
	v, err := s.version(ctx, id.Tenant, dossier, path, version)
	if err != nil {
		return nil, err
	}
	r, err := s.storedReceipt(ctx, id.Tenant, v.ReceiptID)
	if err != nil {
		return nil, fmt.Errorf("vault: download: receipt %s: %w", v.ReceiptID, err)
	}
	get, err := s.urls.PresignGet(ctx, GetRequest{
		Key: v.Key, VersionID: v.VersionID, FileName: v.Document.File.Name,
		ContentType: v.ContentType, TTL: s.cfg.DownloadTTL,
	})
	if err != nil {
		return nil, fmt.Errorf("vault: presign download: %w", err)
	}
	s.log.InfoContext(ctx, "access",
		slog.String("event", "download"),
		slog.Group("who", "tenant", id.Tenant, "subject", id.Subject, "role", string(id.Role)),
		slog.Group("what", "dossier", dossier, "path", v.Document.Path, "version", v.Version,
			"versionId", v.VersionID, "receiptId", v.ReceiptID, "sha256", v.SHA256),
		slog.Time("when", s.now()),
		slog.Time("urlExpiresAt", get.ExpiresAt),
	)
	return &Download{Version: v, Download: get, Receipt: r}, nil
}

// version reads one entry of a document's chain, the latest when n is 0:
// one GET for a given version, a LIST and a GET for the latest.
func (s *Service) version(ctx context.Context, tenant, dossier, path string, n int) (Version, error) {
	prefix := chainPrefix(tenant, dossier, path)
	key := versionKey(prefix, n)
	if n == 0 {
		keys, err := s.records.List(ctx, prefix)
		if err != nil {
			return Version{}, fmt.Errorf("vault: read version: %w", err)
		}
		if len(keys) == 0 {
			return Version{}, errorf(CodeNotFound, "no document %q in dossier %s", path, dossier)
		}
		key = keys[len(keys)-1]
	}
	var v Version
	err := getJSON(ctx, s.records, key, &v)
	if errors.Is(err, ErrNotFound) {
		return Version{}, errorf(CodeNotFound, "document %q in dossier %s has no version %d", path, dossier, n)
	}
	if err != nil {
		return Version{}, fmt.Errorf("vault: read version: %w", err)
	}
	return v, nil
}

// Receipt returns a receipt the caller may read.
func (s *Service) Receipt(ctx context.Context, receiptID string) (*Receipt, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	notFound := errorf(CodeNotFound, "no receipt %q", receiptID)
	if !receiptIDPattern.MatchString(receiptID) {
		return nil, notFound
	}
	r, err := s.storedReceipt(ctx, id.Tenant, receiptID)
	if errors.Is(err, ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if !id.CanRead(r.Predicate.Tenant, r.Predicate.Dossier.ID) {
		return nil, notFound
	}
	return r, nil
}
