package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// session is an upload in progress, stored at uploadKey: the record of what
// the uploader declared. It carries a copy of the (immutable) dossier, so
// that sealing need not read it again.
type session struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant"`
	Dossier   Dossier   `json:"dossier"`
	Document  Document  `json:"document"`
	Key       string    `json:"key"`
	Uploader  Principal `json:"uploader"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	// LogFrom is a size the tenant's log had when the session began: its
	// receipt, appended later by whichever sealer, lands at or after it.
	// A retried seal gives it to the ledger to find an earlier append.
	// (Sessions of earlier versions lack it: 0, the log's start.)
	LogFrom int64 `json:"logFrom,omitempty"`
	// NewVersion is the uploader's ask for a new version even of bytes
	// the document already holds; without it, an upload whose bytes and
	// metadata were sealed while it was in flight is that version
	// (claim.go).
	NewVersion bool `json:"newVersion,omitempty"`
	// Head is the document's latest sealed version when the session
	// began, which BeginUpload compared the upload with: neither it nor
	// an earlier one is the session's "same" version (a revert to older
	// bytes is a new version); only later ones, in flight then, may be.
	Head int `json:"head,omitempty"`
	// Multipart is set for uploads sent in parts.
	Multipart *multipartSession `json:"multipart,omitempty"`
}

// Ticket tells a client how to send the bytes of an upload.
type Ticket struct {
	UploadID string `json:"uploadId"`
	Dossier  string `json:"dossier"`
	Path     string `json:"path"`
	// Upload is the presigned PUT of a single-PUT upload.
	Upload Presigned `json:"upload,omitzero"`
	// Multipart is the part plan of a multipart upload; PresignParts
	// gives the part URLs.
	Multipart *Multipart `json:"multipart,omitempty"`
	ExpiresAt time.Time  `json:"expiresAt"`
}

// UploadOptions say how an upload's bytes are sent.
type UploadOptions struct {
	// Multipart sends them in parts of PartSize bytes (0 for the vault's
	// choice).
	Multipart bool
	PartSize  int64
	// NewVersion seals a new version even when the document's latest
	// version has the same SHA-256; without it, such an upload is
	// *Unchanged.
	NewVersion bool
}

// Unchanged is returned instead of a Ticket when the document's latest
// sealed version already holds the declared bytes: sending them again
// would lock an identical copy for years. It is not a failure.
type Unchanged struct {
	Version Version
	Receipt *Receipt
}

func (e *Unchanged) Error() string {
	return fmt.Sprintf("vault: %q is unchanged: version %d has SHA-256 %s", e.Version.Document.Path, e.Version.Version, e.Version.SHA256)
}

// StartUpload validates a document's metadata for the dossier, records the
// upload session and returns a presigned PUT bound to the declared length
// and SHA-256.
func (s *Service) StartUpload(ctx context.Context, dossier string, doc Document) (Ticket, error) {
	return s.BeginUpload(ctx, dossier, doc, UploadOptions{})
}

// BeginUpload is StartUpload or StartMultipartUpload as opts say; it
// answers *Unchanged when the document's latest version has doc's bytes,
// unless opts.NewVersion.
func (s *Service) BeginUpload(ctx context.Context, dossier string, doc Document, opts UploadOptions) (Ticket, error) {
	multipart, partSize := opts.Multipart, opts.PartSize
	id, err := caller(ctx)
	if err != nil {
		return Ticket{}, err
	}
	d, err := s.readableDossier(ctx, id, dossier)
	if err != nil {
		return Ticket{}, err
	}
	if !id.CanWrite() {
		return Ticket{}, errorf(CodeForbidden, "role %s may not upload", id.Role)
	}
	if r, err := s.dossierVersions(ctx, id.Tenant, dossier); err != nil {
		return Ticket{}, fmt.Errorf("vault: read dossier: %w", err)
	} else if r.writtenOver {
		return Ticket{}, errorf(CodeTampered, "dossier record %s holds versions the vault did not write; nothing is sealed into it until that is looked into", dossierKey(id.Tenant, dossier))
	}
	fields := ValidateDocument(&doc, d)
	var plan Multipart
	switch {
	case multipart:
		var pf []FieldError
		plan, pf = PlanParts(doc.File.Size, partSize)
		fields = append(fields, pf...)
	case doc.File.Size > MaxSinglePutSize:
		fields = append(fields, FieldError{"/file/size", "is more than 5 GiB, the most one PUT may send: upload it in parts (multipart)"})
	}
	if fields != nil {
		return Ticket{}, invalid(fields)
	}
	var head int
	if !opts.NewVersion {
		if head, err = s.unchanged(ctx, id.Tenant, d.ID, doc); err != nil {
			return Ticket{}, err
		}
	}
	logFrom, err := s.ledger.Size(ctx, id.Tenant)
	if err != nil {
		return Ticket{}, fmt.Errorf("vault: start upload: %w", ledgerError(err))
	}
	now := s.now()
	ttl := s.cfg.UploadTTL
	if multipart {
		ttl = s.cfg.MultipartTTL
	}
	sess := session{
		ID:         newUploadID(),
		Tenant:     id.Tenant,
		Dossier:    d,
		Document:   doc,
		Key:        evidenceKey(id.Tenant, d.ID, doc.Path),
		Uploader:   principal(id),
		CreatedAt:  now,
		ExpiresAt:  now.Add(ttl),
		LogFrom:    logFrom,
		NewVersion: opts.NewVersion,
		Head:       head,
	}
	req := PutRequest{
		Key:         sess.Key,
		Size:        doc.File.Size,
		SHA256:      doc.File.SHA256,
		ContentType: doc.File.ContentType,
		Metadata:    map[string]string{uploadIDMeta: sess.ID},
		// Retained from arrival for the dossier's period and a day, so
		// that sealing within a day of the upload need not extend the
		// lock (one request fewer); later sealing extends it.
		Lock: &Lock{Mode: s.cfg.LockMode, Until: now.Truncate(time.Second).AddDate(d.retentionYears(), 0, 1)},
		TTL:  s.cfg.UploadTTL,
	}
	ticket := Ticket{UploadID: sess.ID, Dossier: d.ID, Path: doc.Path, ExpiresAt: sess.ExpiresAt}
	if multipart {
		storageID, err := s.uploads.CreateMultipart(ctx, req)
		if err != nil {
			return Ticket{}, fmt.Errorf("vault: start multipart upload: %w", err)
		}
		sess.Multipart = &multipartSession{Multipart: plan, StorageUploadID: storageID}
		ticket.Multipart = &plan
	}
	signed, err := s.signedJSON(ctx, sessionType, sess)
	if err == nil {
		// Kept a month past the upload's expiry, not the bucket's default
		// retention of years: sealing and its retries need it until then.
		err = s.records.Create(ctx, uploadKey(sess.Tenant, sess.ID), signed, &Lock{Mode: s.cfg.LockMode, Until: sess.ExpiresAt.Add(sessionKept)})
	}
	if err != nil {
		if sess.Multipart != nil {
			s.uploads.AbortMultipart(ctx, sess.Key, sess.Multipart.StorageUploadID)
		}
		return Ticket{}, fmt.Errorf("vault: record upload session: %w", err)
	}
	if !multipart {
		if ticket.Upload, err = s.urls.PresignPut(ctx, req); err != nil {
			return Ticket{}, fmt.Errorf("vault: presign upload: %w", err)
		}
	}
	s.log.InfoContext(ctx, "upload started", "tenant", sess.Tenant, "dossier", d.ID,
		"upload", sess.ID, "path", doc.Path, "size", doc.File.Size, "parts", plan.Parts, "subject", id.Subject)
	return ticket, nil
}

// unchanged returns *Unchanged when the latest version the vault sealed of
// doc's path has doc's bytes, and else that version's number (0: none). A
// latest version that is not the vault's (tampering) does not stop an
// upload: the audit reports it.
func (s *Service) unchanged(ctx context.Context, tenant, dossier string, doc Document) (head int, err error) {
	v, r, err := s.latestSigned(ctx, tenant, dossier, doc.Path)
	switch code := ErrorCode(err); {
	case err == nil && v.SHA256 == doc.File.SHA256 && v.Size == doc.File.Size:
		if fields := metadataChanges(v.Document, doc); fields != nil {
			// The same bytes under new metadata: neither a copy nor
			// "unchanged" (which would drop the change) without asking.
			return 0, &Error{Code: CodeConflict, Fields: fields, Message: fmt.Sprintf(
				"version %d of %q has these bytes with other metadata; to seal the new metadata as version %d, send the upload again with newVersion=true",
				v.Version, doc.Path, v.Version+1)}
		}
		return 0, &Unchanged{Version: v, Receipt: r}
	case err == nil:
		return v.Version, nil
	case code == CodeNotFound, code == CodeTampered:
		return 0, nil
	}
	return 0, fmt.Errorf("vault: start upload: %w", err)
}

// metadataChanges lists the fields in which doc differs from the sealed
// version's document, by JSON pointer; nil if none.
func metadataChanges(sealed, doc Document) []FieldError {
	was, _ := json.Marshal(sealed)
	now, _ := json.Marshal(doc)
	var a, b map[string]json.RawMessage
	if json.Unmarshal(was, &a) != nil || json.Unmarshal(now, &b) != nil {
		return nil
	}
	var fields []FieldError
	for _, name := range slices.Sorted(maps.Keys(b)) {
		if !bytes.Equal(a[name], b[name]) {
			fields = append(fields, FieldError{Pointer: "/" + name, Detail: "differs from the sealed version's " + string(a[name])})
		}
	}
	for name := range a {
		if _, ok := b[name]; !ok {
			fields = append(fields, FieldError{Pointer: "/" + name, Detail: "is absent; the sealed version has " + string(a[name])})
		}
	}
	return fields
}

// session reads an upload session of tenant: the record the vault signed
// when it accepted the upload, which nobody else can write.
func (s *Service) session(ctx context.Context, tenant, uploadID string) (session, error) {
	if !uploadIDPattern.MatchString(uploadID) {
		return session{}, errUploadNotFound(uploadID)
	}
	key := uploadKey(tenant, uploadID)
	data, err := s.records.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return session{}, errUploadNotFound(uploadID)
	}
	if err != nil {
		return session{}, fmt.Errorf("vault: read upload session: %w", err)
	}
	var sess session
	if err := s.openSignedJSON(ctx, sessionType, data, &sess); err != nil || sess.ID != uploadID || sess.Tenant != tenant {
		return session{}, &Error{Code: CodeTampered, Message: fmt.Sprintf("upload session %s is not one the vault signed; nothing was sealed", key),
			Err: fmt.Errorf("session %s: %v", key, err)}
	}
	return sess, nil
}

// writableSession reads an upload session the caller may write.
func (s *Service) writableSession(ctx context.Context, uploadID string) (session, error) {
	id, err := caller(ctx)
	if err != nil {
		return session{}, err
	}
	sess, err := s.session(ctx, id.Tenant, uploadID)
	if err != nil {
		return session{}, err
	}
	if !id.CanRead(sess.Tenant, sess.Dossier.ID) {
		return session{}, errUploadNotFound(uploadID)
	}
	if !id.CanWrite() {
		return session{}, errorf(CodeForbidden, "role %s may not upload", id.Role)
	}
	return sess, nil
}

// sessionKept is how long an upload session is retained after the upload
// expires.
const sessionKept = 30 * 24 * time.Hour

func errUploadNotFound(id string) *Error { return errorf(CodeNotFound, "no upload %q", id) }
