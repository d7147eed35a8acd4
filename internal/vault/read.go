package vault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"
)

// Documents returns the latest sealed version of every document in a
// dossier, ordered by path.
func (s *Service) Documents(ctx context.Context, dossier string) ([]Version, error) {
	vs, _, err := s.DocumentsPage(ctx, dossier, Page{})
	return vs, err
}

// DocumentsPage is one page of Documents, in the order of the documents'
// keys; next names the last document's path when more follow.
func (s *Service) DocumentsPage(ctx context.Context, dossier string, page Page) (versions []Version, next string, err error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, "", err
	}
	if _, err := s.readableDossier(ctx, id, dossier); err != nil {
		return nil, "", err
	}
	prefix := versionsPrefix(id.Tenant, dossier)
	objs, err := s.records.List(ctx, prefix)
	if err != nil {
		return nil, "", fmt.Errorf("vault: list documents: %w", err)
	}
	// Keys sort by escaped path, then by zero-padded version number: each
	// path's run of entries is its chain.
	var chains []chain
	for _, o := range objs {
		p, ok := chainPath(prefix, o.Key)
		if !ok {
			continue
		}
		if len(chains) == 0 || chains[len(chains)-1].path != p {
			chains = append(chains, chain{path: p})
		}
		c := &chains[len(chains)-1]
		if n, ok := entryNumber(chainPrefix(id.Tenant, dossier, p), o.Key); ok && n == len(c.entries)+1 {
			c.entries = append(c.entries, o)
		}
	}
	// A page's place is a chain's key prefix: the keys' order.
	if page.After != "" {
		page.After = chainPrefix(id.Tenant, dossier, page.After)
	}
	chains, next = cut(chains, func(c chain) string { return chainPrefix(id.Tenant, dossier, c.path) }, page)
	if next != "" {
		next = chains[len(chains)-1].path
	}
	versions = make([]Version, len(chains))
	listed := make([]bool, len(chains))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchConcurrency)
	for i, c := range chains {
		g.Go(func() (err error) {
			versions[i], _, err = s.latest(gctx, c)
			listed[i] = err == nil
			if ErrorCode(err) == CodeTampered {
				// An entry that is not the vault's on top.
				versions[i], listed[i], err = s.latestSealed(gctx, id.Tenant, dossier, c.path)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, "", fmt.Errorf("vault: list documents: %w", err)
	}
	versions = kept(versions, listed)
	if err := s.withState(ctx, id.Tenant, dossier, versions, func(v Version) int { return v.Version }); err != nil {
		return nil, "", err
	}
	return versions, next, nil
}

// sealedDocuments is Documents with each document at the latest version
// whose receipt the log holds: what the vault signs a statement about (a
// submission, a status mark, an export snapshot) or reports as evidence
// (completeness) is never an entry someone planted on a chain.
func (s *Service) sealedDocuments(ctx context.Context, tenant, dossier string) ([]Version, error) {
	docs, err := s.Documents(ctx, dossier)
	if err != nil {
		return nil, err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchConcurrency)
	sealed := make([]bool, len(docs))
	for i, listed := range docs {
		g.Go(func() (err error) {
			if _, ok := s.signedEntries.Load(signedEntryKey(tenant, listed)); ok {
				sealed[i] = true
				return nil
			}
			docs[i], _, err = s.signedVersion(gctx, tenant, listed)
			sealed[i] = err == nil
			if ErrorCode(err) == CodeTampered {
				docs[i], sealed[i], err = s.latestSealed(gctx, tenant, dossier, listed.Document.Path)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	docs = kept(docs, sealed)
	if err := s.withState(ctx, tenant, dossier, docs, func(v Version) int { return v.Version }); err != nil {
		return nil, err
	}
	return docs, nil
}

// Versions returns every sealed version of one document, oldest first.
func (s *Service) Versions(ctx context.Context, dossier, path string) ([]Version, error) {
	vs, _, err := s.VersionsPage(ctx, dossier, path, Page{})
	return vs, err
}

// VersionsPage is one page of Versions; After and next are version
// numbers.
func (s *Service) VersionsPage(ctx context.Context, dossier, path string, page Page) (versions []Version, next string, err error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, "", err
	}
	if _, err := s.readableDossier(ctx, id, dossier); err != nil {
		return nil, "", err
	}
	c, err := s.listChain(ctx, id.Tenant, dossier, path)
	if err != nil {
		return nil, "", err
	}
	if len(c.entries) == 0 {
		return nil, "", errorf(CodeNotFound, "no document %q in dossier %s", path, dossier)
	}
	start := 0
	if page.After != "" {
		n, err := strconv.Atoi(page.After)
		if err != nil || n < 0 {
			return nil, "", invalid([]FieldError{{"/cursor", "is not a place in this list"}})
		}
		start = min(n, len(c.entries))
	}
	end := len(c.entries)
	if page.Limit > 0 && start+page.Limit < end {
		end = start + page.Limit
		next = strconv.Itoa(end)
	}
	versions = make([]Version, end-start)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchConcurrency)
	for i, o := range c.entries[start:end] {
		g.Go(func() (err error) {
			versions[i], err = s.readEntry(gctx, o, path, start+i+1)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, "", fmt.Errorf("vault: list versions: %w", err)
	}
	if err := s.withState(ctx, id.Tenant, dossier, versions, func(Version) int { return len(c.entries) }); err != nil {
		return nil, "", err
	}
	return versions, next, nil
}

// Version returns one sealed version's record.
func (s *Service) Version(ctx context.Context, dossier, path string, n int) (Version, error) {
	id, err := caller(ctx)
	if err != nil {
		return Version{}, err
	}
	if _, err := s.readableDossier(ctx, id, dossier); err != nil {
		return Version{}, err
	}
	if n < 1 {
		return Version{}, errorf(CodeNotFound, "document %q in dossier %s has no version %d", path, dossier, n)
	}
	v, err := s.version(ctx, id.Tenant, dossier, path, n)
	if err != nil {
		return Version{}, err
	}
	// The entry as its signed receipt says, not as storage last had it
	// written.
	if v, _, err = s.signedVersion(ctx, id.Tenant, v); err != nil {
		return Version{}, err
	}
	return s.stated(ctx, id.Tenant, v)
}

// stated returns v with its State, reading how many versions its document
// has.
func (s *Service) stated(ctx context.Context, tenant string, v Version) (Version, error) {
	c, err := s.listChain(ctx, tenant, v.Dossier, v.Document.Path)
	if err != nil {
		return Version{}, err
	}
	vs := []Version{v}
	if err := s.withState(ctx, tenant, v.Dossier, vs, func(Version) int { return len(c.entries) }); err != nil {
		return Version{}, err
	}
	return vs[0], nil
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
	var v Version
	var r *Receipt
	if version > 0 {
		if v, err = s.version(ctx, id.Tenant, dossier, path, version); err == nil {
			v, r, err = s.receiptOfVersion(ctx, id.Tenant, v)
		}
	} else {
		v, r, err = s.latestSigned(ctx, id.Tenant, dossier, path)
	}
	if err != nil {
		return nil, err
	}
	if v, err = s.stated(ctx, id.Tenant, v); err != nil {
		return nil, err
	}
	ttl, err := s.downloadTTL(id, dossier)
	if err != nil {
		return nil, err
	}
	get, err := s.urls.PresignGet(ctx, GetRequest{
		Key: v.Key, VersionID: v.VersionID, FileName: v.Document.File.Name,
		ContentType: v.ContentType, TTL: ttl,
	})
	if err != nil {
		return nil, fmt.Errorf("vault: presign download: %w", err)
	}
	// No download without its entry in the access trail.
	ev := AccessEvent{Event: "download", At: s.now().UTC(), Tenant: id.Tenant, Who: Principal{Tenant: id.Home, Subject: id.Subject, Role: id.Role},
		Email: id.Email, Grants: id.grantsFor(dossier), Dossier: dossier, Path: v.Document.Path, Version: v.Version, VersionID: v.VersionID,
		ReceiptID: v.ReceiptID, SHA256: v.SHA256, ExpiresAt: get.ExpiresAt}
	if err := s.recordAccess(ctx, ev); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "access",
		slog.String("event", "download"),
		slog.Group("who", "tenant", id.Tenant, "subject", id.Subject, "role", string(id.Role)),
		slog.Group("what", "dossier", dossier, "path", v.Document.Path, "version", v.Version,
			"versionId", v.VersionID, "receiptId", v.ReceiptID, "sha256", v.SHA256),
		slog.Time("when", ev.At),
		slog.Time("urlExpiresAt", get.ExpiresAt),
	)
	return &Download{Version: v, Download: get, Receipt: r}, nil
}

// downloadTTL is how long a download URL lasts: DownloadTTL, and for an
// auditor never past the end of the grants that let them read the
// dossier (a URL cannot be recalled once given; docs/grants.md). Storage
// counts whole seconds: with less than one left, no URL.
func (s *Service) downloadTTL(id Identity, dossier string) (time.Duration, error) {
	ttl := s.cfg.DownloadTTL
	if end, ok := id.accessEnds(dossier); ok {
		ttl = min(ttl, end.Sub(s.now()).Truncate(time.Second))
		if ttl < time.Second {
			return 0, errorf(CodeForbidden, "your access to dossier %s ends at %s: too soon for a download", dossier, end.UTC().Format(time.RFC3339))
		}
	}
	return ttl, nil
}

// receiptOfVersion reads a chain entry's signed receipt, with its
// timestamps and witness cosignatures, and checks that they agree; an
// entry someone wrote over the vault's gives way to the vault's own.
func (s *Service) receiptOfVersion(ctx context.Context, tenant string, v Version) (Version, *Receipt, error) {
	v, r, err := s.signedVersion(ctx, tenant, v)
	if err != nil {
		return Version{}, nil, err
	}
	s.attachStamps(ctx, tenant, r)
	s.attachWitness(ctx, tenant, r, false)
	return v, r, nil
}

// signedVersion is receiptOfVersion without the receipt's timestamps and
// cosignatures: for views that show the version, not its receipt.
func (s *Service) signedVersion(ctx context.Context, tenant string, v Version) (Version, *Receipt, error) {
	r, err := s.storedReceipt(ctx, tenant, v.ReceiptID)
	if errors.Is(err, ErrNotFound) {
		return Version{}, nil, &Error{Code: CodeTampered, Message: fmt.Sprintf("version %d of %q has no receipt %s in storage", v.Version, v.Document.Path, v.ReceiptID)}
	}
	if err != nil {
		return Version{}, nil, fmt.Errorf("vault: download: receipt %s: %w", v.ReceiptID, err)
	}
	if err := sameVersion(v, r); err != nil {
		orig, oerr := s.originalEntry(ctx, tenant, v.Dossier, v.Document.Path, v.Version)
		if oerr != nil || sameVersion(orig, r) != nil {
			return Version{}, nil, err
		}
		s.log.WarnContext(ctx, "a version chain entry was written over; reading the vault's own", "dossier", v.Dossier, "path", v.Document.Path, "version", v.Version)
		v = orig
	}
	s.signedEntries.Store(signedEntryKey(tenant, v), true)
	return v, r, nil
}

// signedEntryKey is what sameVersion compares of an entry, in its tenant.
func signedEntryKey(tenant string, v Version) string {
	return fmt.Sprintf("%s %s %s %d %q %q %q %s %d", tenant, v.Dossier, v.ReceiptID, v.Version, v.Document.Path, v.Key, v.VersionID, v.SHA256, v.Size)
}

// latestSigned returns a document's latest version whose receipt the log's
// keys signed: entries on top of it that someone else wrote (their
// receipts are not the vault's) are passed over, with a warning, since the
// log, not the chain, says what was sealed.
func (s *Service) latestSigned(ctx context.Context, tenant, dossier, path string) (Version, *Receipt, error) {
	c, err := s.listChain(ctx, tenant, dossier, path)
	if err != nil {
		return Version{}, nil, err
	}
	var first error
	for n := len(c.entries); n >= 1; n-- {
		v, err := s.readEntry(ctx, c.entries[n-1], c.path, n)
		var r *Receipt
		if err == nil {
			v, r, err = s.receiptOfVersion(ctx, tenant, v)
		}
		switch {
		case err == nil:
			if first != nil {
				s.log.WarnContext(ctx, "download: the chain's latest entries are not the vault's; serving the latest it sealed", "dossier", dossier, "path", path, "version", n, "err", first)
			}
			return v, r, nil
		case ErrorCode(err) != CodeTampered:
			return Version{}, nil, err
		case first == nil:
			first = err
		}
	}
	if first == nil {
		first = errorf(CodeNotFound, "no document %q in dossier %s", path, dossier)
	}
	return Version{}, nil, first
}

// latestSealed is latestSigned for listings: a chain that holds no
// version the vault sealed is no document (ok false), left out with a
// warning and named by the audit.
func (s *Service) latestSealed(ctx context.Context, tenant, dossier, path string) (v Version, ok bool, err error) {
	v, _, err = s.latestSigned(ctx, tenant, dossier, path)
	if ErrorCode(err) == CodeTampered {
		s.log.WarnContext(ctx, "a document's chain holds no version the vault sealed", "dossier", dossier, "path", path, "err", err)
		return Version{}, false, nil
	}
	return v, err == nil, err
}

// kept returns the versions whose keep is true, in order.
func kept(vs []Version, keep []bool) []Version {
	n := 0
	for i := range vs {
		if keep[i] {
			vs[n] = vs[i]
			n++
		}
	}
	return vs[:n]
}

// version reads one entry of a document's chain, the latest when n is 0:
// one GET for a given version, a LIST and a GET for the latest.
func (s *Service) version(ctx context.Context, tenant, dossier, path string, n int) (Version, error) {
	if n > 0 {
		v, err := s.entry(ctx, tenant, dossier, path, n)
		if errors.Is(err, ErrNotFound) {
			return Version{}, errorf(CodeNotFound, "document %q in dossier %s has no version %d", path, dossier, n)
		}
		if err != nil && ErrorCode(err) == CodeInternal {
			return Version{}, fmt.Errorf("vault: read version: %w", err)
		}
		return v, err
	}
	c, err := s.listChain(ctx, tenant, dossier, path)
	if err != nil {
		return Version{}, err
	}
	v, ok, err := s.latest(ctx, c)
	if err == nil && !ok {
		err = errorf(CodeNotFound, "no document %q in dossier %s", path, dossier)
	}
	return v, err
}

// sameVersion checks a chain entry against its receipt, which is signed:
// an entry that disagrees with it was not written by the vault.
func sameVersion(v Version, r *Receipt) error {
	p := r.Predicate
	if p.ReceiptID != v.ReceiptID || p.Dossier.ID != v.Dossier || p.Version != v.Version || p.Document.Path != v.Document.Path || p.Storage.Key != v.Key ||
		p.Storage.VersionID != v.VersionID || r.Subject.Digest["sha256"] != v.SHA256 || p.Storage.Size != v.Size {
		return &Error{Code: CodeTampered, Message: fmt.Sprintf("version %d of %q does not match its signed receipt %s: the version chain was written over", v.Version, v.Document.Path, v.ReceiptID)}
	}
	return nil
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
	s.attachStamps(ctx, id.Tenant, r)
	s.attachWitness(ctx, id.Tenant, r, false)
	return r, nil
}
