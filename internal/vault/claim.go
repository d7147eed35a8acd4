package vault

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// maxChainRetries bounds how often a sealer retries after losing the race
// for the next version number to another sealer of the same document.
const maxChainRetries = 50

// claimVersion returns the session's entry in the document's version chain,
// creating it as the next version unless an earlier attempt did; claimed
// says which. The conditional create of entry n+1 lets exactly one sealer
// take each number; a loser re-reads the chain and tries n+2. The entry
// fixes everything the receipt says, so that every attempt signs the same
// statement. The chain is listed first, versions and delete markers
// included: a create under a hidden entry would write a second version of
// it (S3's If-None-Match takes a delete marker for no object).
func (s *Service) claimVersion(ctx context.Context, sess session, info ObjectInfo, st *DossierState) (v Version, claimed bool, err error) {
	d := sess.Dossier
	prefix := chainPrefix(sess.Tenant, d.ID, sess.Document.Path)
	for range maxChainRetries {
		c, err := s.listChain(ctx, sess.Tenant, d.ID, sess.Document.Path)
		if err != nil {
			return Version{}, false, err
		}
		latest, mine, err := s.chainHead(ctx, c, sess)
		if err != nil {
			return Version{}, false, err
		}
		if mine != nil {
			return *mine, false, nil
		}
		now := s.now()
		v := Version{
			Version:     len(c.entries) + 1,
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
			// Locked from the moment of sealing (the vault's
			// responsibility starts when it issues the receipt), and
			// as far as the market status says (market.go).
			Retention: Retention{Mode: s.cfg.LockMode, RetainUntil: later(now.Truncate(time.Second).AddDate(d.retentionYears(), 0, 0),
				st.retentionFloor(now, d.retentionYears()))},
		}
		if latest != nil {
			if err := s.vouchFor(ctx, sess.Tenant, *latest); err != nil {
				return Version{}, false, err
			}
			v.Supersedes = latest.ref()
		}
		err = s.createJSON(ctx, versionKey(prefix, v.Version), v, &Lock{Mode: v.Retention.Mode, Until: v.Retention.RetainUntil})
		if err == nil {
			return v, true, nil
		}
		if !errors.Is(err, ErrExists) {
			return Version{}, false, fmt.Errorf("vault: seal: append version: %w", err)
		}
	}
	return Version{}, false, fmt.Errorf("vault: seal: version chain of %s stayed contended after %d attempts", sess.Document.Path, maxChainRetries)
}

// storageTick is the coarsest step of storage's clock (S3 stamps versions
// to the second).
const storageTick = 2 * time.Second

// chainHead reads a version chain from its end: the latest entry, and the
// session's own entry if it has one. Only entries storage stamped after it
// stored the session can be the session's own: one clock, storage's, so
// that instances whose clocks disagree agree on this.
//
// Without the session's own entry, the earliest entry of those that holds
// the session's bytes and metadata is its own too, unless the uploader
// asked for a new version: the same upload sent twice while the first was
// in flight (a re-run after a lost answer) is one version, as it is once
// sealed (BeginUpload's *Unchanged). The earliest, so that every attempt
// takes the same one however the chain grows.
func (s *Service) chainHead(ctx context.Context, c chain, sess session) (latest, mine *Version, err error) {
	if len(c.entries) == 0 {
		return nil, nil, nil
	}
	started, err := s.sessionStarted(ctx, sess)
	if err != nil {
		return nil, nil, err
	}
	var same *Version
	for i := len(c.entries) - 1; i >= 0; i-- {
		v, err := s.readEntry(ctx, c.entries[i], c.path, i+1)
		if err != nil {
			return nil, nil, err
		}
		if v.UploadID == sess.ID {
			return latest, &v, nil
		}
		if latest == nil {
			latest = &v
		}
		if orig, _ := c.entries[i].Original(); orig.LastModified.Before(started.Add(-storageTick)) {
			break
		}
		if !sess.NewVersion && v.Version > sess.Head && sameUpload(v, sess.Document) {
			same = &v
		}
	}
	return latest, same, nil
}

// checkOwnEntry checks a chain entry that names the session, claimed by
// an earlier attempt or planted, before the vault signs it: it must say
// what the session declared, name a version storage holds of the
// session's bytes, and hold the retention the vault gives. Anyone with
// bucket access can write an entry naming an upload in flight.
func (s *Service) checkOwnEntry(ctx context.Context, sess session, info ObjectInfo, v Version) error {
	key := versionKey(chainPrefix(sess.Tenant, v.Dossier, v.Document.Path), v.Version)
	years := sess.Dossier.retentionYears()
	switch {
	case v.Dossier != sess.Dossier.ID || v.Key != sess.Key || !sameUpload(v, sess.Document) || v.Uploader != sess.Uploader:
		return errTamperedEntry(key, fmt.Sprintf("it is not what upload %s declared", sess.ID))
	case v.SealedAt.Before(sess.CreatedAt.Add(-clockSkew)) || v.SealedAt.After(s.now().Add(clockSkew)):
		return errTamperedEntry(key, fmt.Sprintf("it says it was sealed at %s, outside upload %s's life", v.SealedAt.Format(time.RFC3339), sess.ID))
	case v.Retention.Mode != s.cfg.LockMode || v.Retention.RetainUntil.Before(v.SealedAt.Truncate(time.Second).AddDate(years, 0, 0)):
		return errTamperedEntry(key, fmt.Sprintf("it keeps the version %s until %s, less than the dossier's %d years", v.Retention.Mode, v.Retention.RetainUntil.Format(time.RFC3339), years))
	}
	if err := s.checkSupersedes(ctx, sess, v, key); err != nil {
		return err
	}
	if v.VersionID == info.VersionID {
		return nil // the version checkUpload checked
	}
	// Another version of the key: the upload sent twice, or a planted one.
	at, err := s.objects.Stat(ctx, v.Key, v.VersionID)
	if errors.Is(err, ErrNotFound) {
		return errTamperedEntry(key, fmt.Sprintf("it names version %s, which storage does not hold", v.VersionID))
	}
	if err != nil {
		return fmt.Errorf("vault: seal: %w", err)
	}
	if at.Metadata[uploadIDMeta] != sess.ID {
		return errTamperedEntry(key, fmt.Sprintf("it names version %s, which upload %s did not send", v.VersionID, sess.ID))
	}
	if err := s.checkUpload(ctx, sess, &at); err != nil {
		return errTamperedEntry(key, fmt.Sprintf("it names version %s, whose bytes are not the upload's: %v", v.VersionID, err))
	}
	return nil
}

// checkSupersedes checks that entry v supersedes the chain's entry before
// it, as a claim records it.
func (s *Service) checkSupersedes(ctx context.Context, sess session, v Version, key string) error {
	if v.Version == 1 {
		if v.Supersedes != nil {
			return errTamperedEntry(key, "it is version 1, yet says it supersedes another")
		}
		return nil
	}
	c, err := s.listChain(ctx, sess.Tenant, v.Dossier, v.Document.Path)
	if err != nil {
		return err
	}
	if len(c.entries) < v.Version-1 {
		return errTamperedEntry(key, "the chain holds no version before it")
	}
	prev, err := s.readEntry(ctx, c.entries[v.Version-2], c.path, v.Version-1)
	if err != nil {
		return err
	}
	if v.Supersedes == nil || *v.Supersedes != *prev.ref() {
		return errTamperedEntry(key, fmt.Sprintf("it does not say it supersedes version %d, the one before it", prev.Version))
	}
	return nil
}

// sameUpload says whether version v holds the bytes and metadata doc
// declares.
func sameUpload(v Version, doc Document) bool {
	return v.SHA256 == doc.File.SHA256 && v.Size == doc.File.Size && metadataChanges(v.Document, doc) == nil
}

// vouchFor checks that a version a new one supersedes is one the vault
// sealed, or is sealing: its receipt is signed by the log's keys and agrees
// with its chain entry, or, while it has none yet, the entry is the one its
// vault-signed upload session declared. The new receipt names it, so the vault will not sign over an entry
// someone else wrote; sealing the document stops until that is looked into.
func (s *Service) vouchFor(ctx context.Context, tenant string, v Version) error {
	if _, ok := s.sealed.Load(v.ReceiptID); ok {
		return nil
	}
	if _, err := s.storedReceipt(ctx, tenant, v.ReceiptID); errors.Is(err, ErrNotFound) {
		// Its sealer may not have stored its receipt yet: then the upload
		// session it was claimed for, which the vault signed, vouches.
		sess, serr := s.session(ctx, tenant, v.UploadID)
		if serr == nil && sess.Dossier.ID == v.Dossier && sess.Document.Path == v.Document.Path &&
			sess.Document.File.SHA256 == v.SHA256 && sess.Key == v.Key {
			return nil
		}
	}
	if _, _, err := s.receiptOfVersion(ctx, tenant, v); err != nil {
		if ErrorCode(err) != CodeTampered {
			return err
		}
		key := versionKey(chainPrefix(tenant, v.Dossier, v.Document.Path), v.Version)
		return &Error{Code: CodeTampered, Err: err, Message: fmt.Sprintf(
			"%s, version %d of %q, is not a version the vault sealed (%s): it will not seal a version superseding it until that is looked into",
			key, v.Version, v.Document.Path, err)}
	}
	s.sealed.Store(v.ReceiptID, true)
	return nil
}
