package vault

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
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

// StartUpload validates a document's metadata for the dossier, records the
// upload session and returns a presigned PUT bound to the declared length
// and SHA-256.
func (s *Service) StartUpload(ctx context.Context, dossier string, doc Document) (Ticket, error) {
	return s.startUpload(ctx, dossier, doc, false, 0)
}

func (s *Service) startUpload(ctx context.Context, dossier string, doc Document, multipart bool, partSize int64) (Ticket, error) {
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
	now := s.now()
	ttl := s.cfg.UploadTTL
	if multipart {
		ttl = s.cfg.MultipartTTL
	}
	sess := session{
		ID:        newUploadID(),
		Tenant:    id.Tenant,
		Dossier:   d,
		Document:  doc,
		Key:       evidenceKey(id.Tenant, d.ID, doc.Path),
		Uploader:  Principal{Tenant: id.Tenant, Subject: id.Subject, Role: id.Role},
		CreatedAt: now,
		ExpiresAt: now.Add(ttl),
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
		Lock: &Lock{Mode: s.cfg.LockMode, Until: now.Truncate(time.Second).AddDate(d.RetentionYears, 0, 1)},
		TTL:  s.cfg.UploadTTL,
	}
	ticket := Ticket{UploadID: sess.ID, Dossier: d.ID, Path: doc.Path, ExpiresAt: sess.ExpiresAt}
	if multipart {
		storageID, err := s.store.CreateMultipart(ctx, req)
		if err != nil {
			return Ticket{}, fmt.Errorf("vault: start multipart upload: %w", err)
		}
		sess.Multipart = &multipartSession{Multipart: plan, StorageUploadID: storageID}
		ticket.Multipart = &plan
	}
	if err := s.createJSON(ctx, uploadKey(sess.Tenant, sess.ID), sess, nil); err != nil {
		if sess.Multipart != nil {
			s.store.AbortMultipart(ctx, sess.Key, sess.Multipart.StorageUploadID)
		}
		return Ticket{}, fmt.Errorf("vault: record upload session: %w", err)
	}
	if !multipart {
		if ticket.Upload, err = s.pre.PresignPut(ctx, req); err != nil {
			return Ticket{}, fmt.Errorf("vault: presign upload: %w", err)
		}
	}
	s.log.InfoContext(ctx, "upload started", "tenant", sess.Tenant, "dossier", d.ID,
		"upload", sess.ID, "path", doc.Path, "size", doc.File.Size, "parts", plan.Parts, "subject", id.Subject)
	return ticket, nil
}

// ValidateDocument normalizes doc and returns every problem with it, alone
// and as a document of dossier d, one entry per field. Clients call it to
// refuse bad metadata before sending any byte; the service calls it again.
func ValidateDocument(doc *Document, d Dossier) []FieldError {
	doc.normalize()
	return append(check(*doc), fitsDossier(*doc, d)...)
}

// fitsDossier checks a document against its dossier: sections of the
// dossier's regulation only, and AI Act documentation only for high-risk AI
// systems.
func fitsDossier(doc Document, d Dossier) []FieldError {
	var fields []FieldError
	if sec, ok := section(doc.Section); ok {
		switch reg := sec.Regulation(); {
		case reg == "AIA" && !d.HighRiskAI:
			fields = append(fields, FieldError{"/section", sec.ID + " is AI Act documentation, but dossier " + d.ID + " is not a high-risk AI system"})
		case reg != "AIA" && reg != string(d.Regulation):
			fields = append(fields, FieldError{"/section", sec.ID + " belongs to the " + reg + ", but dossier " + d.ID + " is under the " + string(d.Regulation)})
		}
	}
	if doc.Kind == KindAIActTechnicalDocumentation && !d.HighRiskAI {
		fields = append(fields, FieldError{"/kind", "AI Act technical documentation needs a dossier for a high-risk AI system"})
	}
	return fields
}

// Complete seals an upload whose bytes have arrived and returns its receipt.
// It is idempotent: a retry, or a race with the seal trigger, returns the
// same receipt.
func (s *Service) Complete(ctx context.Context, uploadID string) (*Receipt, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	sess, err := s.session(ctx, id.Tenant, uploadID)
	if err != nil {
		return nil, err
	}
	if !id.CanRead(sess.Tenant, sess.Dossier.ID) {
		return nil, errUploadNotFound(uploadID)
	}
	if !id.CanWrite() {
		return nil, errorf(CodeForbidden, "role %s may not complete uploads", id.Role)
	}
	// A retry finds its version in the chain and its receipt after it:
	// the first attempt is not slowed by looking for a receipt first.
	var info ObjectInfo
	if sess.Multipart != nil {
		info, err = s.completeParts(ctx, sess)
	} else {
		info, err = s.uploadedVersion(ctx, sess)
	}
	if err != nil {
		return nil, err
	}
	return s.seal(ctx, sess, info)
}

// SealObject seals the upload an object version belongs to: the path of the
// S3 ObjectCreated trigger, so that an upload whose client never calls
// complete still gets its receipt. Objects outside the evidence prefix are
// ignored (nil, nil).
func (s *Service) SealObject(ctx context.Context, key, versionID string) (*Receipt, error) {
	tenant, _, _, ok := parseEvidenceKey(key)
	if !ok {
		return nil, nil
	}
	info, err := s.store.Stat(ctx, key, versionID)
	if err != nil {
		return nil, fmt.Errorf("vault: seal %s@%s: %w", key, versionID, err)
	}
	uploadID := info.Metadata[uploadIDMeta]
	sess, err := s.session(ctx, tenant, uploadID)
	if err != nil {
		return nil, fmt.Errorf("vault: seal %s@%s: %w", key, versionID, err)
	}
	if sess.Multipart != nil {
		// Only the uploader's complete call joins the parts, and that
		// call seals (hashing the whole object); a second hasher here
		// would only double the read.
		s.log.InfoContext(ctx, "seal left to complete", "upload", sess.ID, "key", key)
		return nil, nil
	}
	if sess.Key != key {
		return nil, &Error{Code: CodeIntegrity, Message: "object key does not match its upload session",
			Err: fmt.Errorf("session %s is for %s, object is %s", sess.ID, sess.Key, key)}
	}
	return s.seal(ctx, sess, info)
}

func (s *Service) session(ctx context.Context, tenant, uploadID string) (session, error) {
	if !uploadIDPattern.MatchString(uploadID) {
		return session{}, errUploadNotFound(uploadID)
	}
	var sess session
	err := s.getJSON(ctx, uploadKey(tenant, uploadID), &sess)
	if errors.Is(err, ErrNotFound) {
		return session{}, errUploadNotFound(uploadID)
	}
	if err != nil {
		return session{}, fmt.Errorf("vault: read upload session: %w", err)
	}
	return sess, nil
}

func errUploadNotFound(id string) *Error { return errorf(CodeNotFound, "no upload %q", id) }

// uploadedVersion finds the object version a session's PUT created: the
// newest version of the key carrying the session's upload id.
func (s *Service) uploadedVersion(ctx context.Context, sess session) (ObjectInfo, error) {
	// Usually the newest version is the upload's: one HEAD, no listing.
	switch latest, err := s.store.Stat(ctx, sess.Key, ""); {
	case err == nil && latest.Metadata[uploadIDMeta] == sess.ID:
		return latest, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return ObjectInfo{}, fmt.Errorf("vault: find upload: %w", err)
	}
	versions, err := s.store.Versions(ctx, sess.Key)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("vault: find upload: %w", err)
	}
	for _, v := range versions {
		info, err := s.store.Stat(ctx, sess.Key, v)
		if errors.Is(err, ErrNotFound) {
			continue // a delete marker
		}
		if err != nil {
			return ObjectInfo{}, fmt.Errorf("vault: find upload: %w", err)
		}
		if info.Metadata[uploadIDMeta] == sess.ID {
			return info, nil
		}
	}
	if s.now().After(sess.ExpiresAt) {
		return ObjectInfo{}, errorf(CodeExpired, "upload %s expired at %s before its bytes arrived; start a new upload", sess.ID, sess.ExpiresAt.Format(time.RFC3339))
	}
	return ObjectInfo{}, errorf(CodeNotUploaded, "upload %s has no bytes yet: PUT the file to the upload URL first", sess.ID)
}

// seal verifies the stored bytes against the declaration, takes the next
// place in the document's version chain, locks the version and writes the
// signed receipt. Each step is idempotent, so a crash anywhere is repaired
// by the next attempt.
func (s *Service) seal(ctx context.Context, sess session, info ObjectInfo) (*Receipt, error) {
	declared := sess.Document.File
	if info.SHA256 == "" && sess.Multipart != nil && info.Size == declared.Size {
		// Storage keeps no SHA-256 of a multipart object: stream it.
		sum, err := s.digest(ctx, sess, info)
		if err != nil {
			return nil, err
		}
		info.SHA256 = sum
	}
	switch {
	case info.SHA256 == "":
		return nil, &Error{Code: CodeIntegrity, Message: "storage holds no SHA-256 for the uploaded object",
			Err: fmt.Errorf("%s@%s", info.Key, info.VersionID)}
	case info.SHA256 != declared.SHA256:
		return nil, errorf(CodeIntegrity, "stored object's SHA-256 %s differs from the declared %s", info.SHA256, declared.SHA256)
	case info.Size != declared.Size:
		return nil, errorf(CodeIntegrity, "stored object is %d bytes, %d were declared", info.Size, declared.Size)
	}
	if err := s.publishKey(ctx); err != nil {
		return nil, err
	}
	d := sess.Dossier
	v, since, err := s.claimVersion(ctx, sess, d, info)
	if err != nil {
		return nil, err
	}
	if since.IsZero() {
		// An earlier attempt claimed the version: it may have finished.
		since = s.now()
		if r, err := s.storedReceipt(ctx, sess.Tenant, v.ReceiptID); err == nil || !errors.Is(err, ErrNotFound) {
			return r, err
		}
	}
	if info.LockMode == "" || info.RetainUntil.Before(v.Retention.RetainUntil) {
		if err := s.store.Retain(ctx, info.Key, info.VersionID, Lock{Mode: v.Retention.Mode, Until: v.Retention.RetainUntil}); err != nil {
			return nil, fmt.Errorf("vault: seal: lock version: %w", err)
		}
	}
	st, err := statementFor(s.cfg.Bucket, d, v)
	if err != nil {
		return nil, err
	}
	env, err := receipt.Sign(ctx, s.signer, st)
	if err != nil {
		return nil, fmt.Errorf("vault: seal: %w", err)
	}
	data, err := receipt.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("vault: seal: %w", err)
	}
	// The ledger integrates the statement into the tenant's log and stores
	// the receipt bundle; if another sealer of this upload got there first,
	// its receipt is returned.
	b, err := s.ledger.Append(ctx, sess.Tenant, ledger.Entry{ID: v.ReceiptID, Envelope: data}, since)
	if err != nil {
		return nil, fmt.Errorf("vault: seal: log receipt: %w", err)
	}
	r, err := OpenReceipt(b.Envelope)
	if err != nil {
		return nil, fmt.Errorf("vault: seal: %w", err)
	}
	r.Log = b.Log
	s.log.InfoContext(ctx, "sealed", "tenant", sess.Tenant, "dossier", d.ID, "upload", sess.ID,
		"receipt", v.ReceiptID, "path", v.Document.Path, "version", v.Version, "versionId", v.VersionID, "sha256", v.SHA256,
		"logIndex", b.Log.Index)
	return r, nil
}

// maxChainRetries bounds how often a sealer retries after losing the race
// for the next version number to another sealer of the same document.
const maxChainRetries = 50

// claimVersion returns the session's entry in the document's version chain,
// creating it as the next version if an earlier attempt has not already.
// The conditional create of entry n+1 lets exactly one sealer take each
// number; a loser re-reads the chain and tries n+2. When this call created
// the entry, since is a moment before it existed (so before anything about
// it could be in the log); when an earlier attempt had, since is zero.
func (s *Service) claimVersion(ctx context.Context, sess session, d Dossier, info ObjectInfo) (v Version, since time.Time, err error) {
	prefix := chainPrefix(sess.Tenant, d.ID, sess.Document.Path)
	var latest *Version
	for attempt := range maxChainRetries {
		// Most documents have one version: try to create it before
		// listing anything; a chain has no gaps, so if version 1 is free
		// the chain is empty and holds no earlier attempt of this session.
		if attempt > 0 {
			var mine *Version
			if latest, mine, err = s.chainHead(ctx, prefix, sess); err != nil {
				return Version{}, time.Time{}, err
			}
			if mine != nil {
				return *mine, time.Time{}, nil
			}
		}
		now := s.now()
		v := Version{
			Version:     1,
			Dossier:     d.ID,
			Document:    sess.Document,
			UploadID:    sess.ID,
			ReceiptID:   receiptIDFor(sess.ID),
			Key:         info.Key,
			VersionID:   info.VersionID,
			Size:        info.Size,
			SHA256:      info.SHA256,
			ContentType: info.ContentType,
			ReceivedAt:  info.LastModified.UTC(),
			SealedAt:    now,
			Uploader:    sess.Uploader,
			// Locked from the moment of sealing: the vault's
			// responsibility starts when it issues the receipt.
			Retention: Retention{Mode: s.cfg.LockMode, RetainUntil: now.Truncate(time.Second).AddDate(d.RetentionYears, 0, 0)},
		}
		if latest != nil {
			v.Version = latest.Version + 1
			v.Supersedes = latest.ref()
		}
		err = s.createJSON(ctx, versionKey(prefix, v.Version), v, &Lock{Mode: v.Retention.Mode, Until: v.Retention.RetainUntil})
		if err == nil {
			return v, now, nil
		}
		if !errors.Is(err, ErrExists) {
			return Version{}, time.Time{}, fmt.Errorf("vault: seal: append version: %w", err)
		}
	}
	return Version{}, time.Time{}, fmt.Errorf("vault: seal: version chain of %s stayed contended after %d attempts", sess.Document.Path, maxChainRetries)
}

// chainHead reads a version chain from its end: the latest entry, and the
// session's own entry if it has one. Only entries sealed after the session
// began can be the session's own; the minute allows for clock skew.
func (s *Service) chainHead(ctx context.Context, prefix string, sess session) (latest, mine *Version, err error) {
	keys, err := s.store.List(ctx, prefix)
	if err != nil {
		return nil, nil, fmt.Errorf("vault: seal: read version chain: %w", err)
	}
	for i := len(keys) - 1; i >= 0; i-- {
		var v Version
		if err := s.getJSON(ctx, keys[i], &v); err != nil {
			return nil, nil, fmt.Errorf("vault: seal: read version chain: %w", err)
		}
		if v.UploadID == sess.ID {
			return latest, &v, nil
		}
		if latest == nil {
			latest = &v
		}
		if v.SealedAt.Before(sess.CreatedAt.Add(-time.Minute)) {
			break
		}
	}
	return latest, nil, nil
}

func (s *Service) storedReceipt(ctx context.Context, tenant, id string) (*Receipt, error) {
	data, err := s.store.Get(ctx, receiptKey(tenant, id))
	if err != nil {
		return nil, err
	}
	r, err := OpenReceipt(data)
	if err != nil {
		return nil, fmt.Errorf("vault: stored receipt %s: %w", id, err)
	}
	return r, nil
}

// publishKey stores the signer's public key under keys/ before the first
// receipt it signs, so that every receipt's key can be found for as long as
// the receipt is kept. Keys are never removed: rotation adds one.
func (s *Service) publishKey(ctx context.Context) error {
	s.publishMu.Lock()
	defer s.publishMu.Unlock()
	if s.published {
		return nil
	}
	key, err := receipt.NewKey(s.signer.Public())
	if err != nil {
		return fmt.Errorf("vault: publish key: %w", err)
	}
	lock := &Lock{Mode: s.cfg.LockMode, Until: s.now().AddDate(RetentionYearsImplantable+1, 0, 0)}
	if err := s.store.Create(ctx, publicKeyKey(key.ID), key.PEM(), lock); err != nil && !errors.Is(err, ErrExists) {
		return fmt.Errorf("vault: publish key: %w", err)
	}
	s.published = true
	return nil
}
