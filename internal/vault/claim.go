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
// statement.
func (s *Service) claimVersion(ctx context.Context, sess session, info ObjectInfo) (v Version, claimed bool, err error) {
	d := sess.Dossier
	prefix := chainPrefix(sess.Tenant, d.ID, sess.Document.Path)
	var latest *Version
	for attempt := range maxChainRetries {
		// Most documents have one version: try to create it before
		// listing anything; a chain has no gaps, so if version 1 is free
		// the chain is empty and holds no earlier attempt of this session.
		if attempt > 0 {
			var mine *Version
			if latest, mine, err = s.chainHead(ctx, prefix, sess); err != nil {
				return Version{}, false, err
			}
			if mine != nil {
				return *mine, false, nil
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
			return v, true, nil
		}
		if !errors.Is(err, ErrExists) {
			return Version{}, false, fmt.Errorf("vault: seal: append version: %w", err)
		}
	}
	return Version{}, false, fmt.Errorf("vault: seal: version chain of %s stayed contended after %d attempts", sess.Document.Path, maxChainRetries)
}

// chainHead reads a version chain from its end: the latest entry, and the
// session's own entry if it has one. Only entries sealed after the session
// began can be the session's own; the minute allows for clock skew.
func (s *Service) chainHead(ctx context.Context, prefix string, sess session) (latest, mine *Version, err error) {
	keys, err := s.records.List(ctx, prefix)
	if err != nil {
		return nil, nil, fmt.Errorf("vault: seal: read version chain: %w", err)
	}
	for i := len(keys) - 1; i >= 0; i-- {
		var v Version
		if err := getJSON(ctx, s.records, keys[i], &v); err != nil {
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
