package vault

import (
	"context"
	"errors"
	"fmt"
	"time"
)

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
	info, err := s.objects.Stat(ctx, key, versionID)
	if err != nil {
		return nil, fmt.Errorf("vault: seal %s@%s: %w", key, versionID, err)
	}
	uploadID := info.Metadata[uploadIDMeta]
	if uploadIDPattern.MatchString(uploadID) {
		// Sealed by this process already, to the end (the client's
		// complete came first, as it usually does): the event costs the
		// receipt's read, not a seal's reads.
		if _, ok := s.finished.Load(receiptIDFor(uploadID)); ok {
			if r, err := s.storedReceipt(ctx, tenant, receiptIDFor(uploadID)); err == nil {
				return r, nil
			}
		}
	}
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

// uploadedVersion finds the object version a session's PUT created: the
// newest version of the key carrying the session's upload id.
func (s *Service) uploadedVersion(ctx context.Context, sess session) (ObjectInfo, error) {
	// Usually the newest version is the upload's: one HEAD, no listing.
	switch latest, err := s.objects.Stat(ctx, sess.Key, ""); {
	case err == nil && latest.Metadata[uploadIDMeta] == sess.ID:
		return latest, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return ObjectInfo{}, fmt.Errorf("vault: find upload: %w", err)
	}
	versions, err := s.objects.Versions(ctx, sess.Key)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("vault: find upload: %w", err)
	}
	for _, v := range versions {
		info, err := s.objects.Stat(ctx, sess.Key, v)
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
