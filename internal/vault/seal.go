package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
)

// seal turns uploaded bytes into sealed evidence. Each step is idempotent,
// and they run in the order that lets the next attempt repair a crash
// anywhere (docs/design.md, sealing):
//
//  1. check the stored bytes against the declaration (streaming a
//     multipart object for its SHA-256, digest.go);
//  2. claim the document's next version (claim.go), which fixes the
//     receipt's content;
//  3. lock the stored version for the retention the claim fixed;
//  4. build the receipt's statement (statement.go) and sign it;
//  5. append it to the tenant's log (log.go, internal/ledger), which hands
//     its place back to the vault to store the receipt with its log proof
//     (receipts.go) before the commit counts as finished.
func (s *Service) seal(ctx context.Context, sess session, info ObjectInfo) (*Receipt, error) {
	if err := s.checkUpload(ctx, sess, &info); err != nil {
		return nil, err
	}
	if err := s.publishKey(ctx); err != nil {
		return nil, err
	}
	if err := s.ensureKeys(ctx, sess.Tenant); err != nil {
		return nil, err
	}
	// A size of the log before the claim: the entry can only be appended
	// after the claim, so it lands at or after this.
	from, err := s.ledger.Size(ctx, sess.Tenant)
	if err != nil {
		return nil, fmt.Errorf("vault: seal: %w", ledgerError(err))
	}
	// The dossier's lifecycle says how long to lock.
	st, err := s.dossierState(ctx, sess.Tenant, sess.Dossier.ID)
	if err != nil {
		return nil, err
	}
	v, claimed, err := s.claimVersion(ctx, sess, info, st)
	if err != nil {
		return nil, err
	}
	if !claimed && v.UploadID != sess.ID {
		return s.sealSame(ctx, sess, v)
	}
	if !claimed {
		// An earlier attempt claimed the version: it may have finished,
		// or stopped anywhere after the claim.
		if r, err := s.storedReceipt(ctx, sess.Tenant, v.ReceiptID); err == nil || !errors.Is(err, ErrNotFound) {
			if err == nil {
				err = s.finishSealed(ctx, sess.Tenant, v, r)
			}
			return r, err
		}
		// About to sign an entry it did not write in this attempt.
		if err := s.checkOwnEntry(ctx, sess, info, v); err != nil {
			return nil, err
		}
		from = sess.LogFrom
	}
	if info.LockMode == "" || info.RetainUntil.Before(v.Retention.RetainUntil) {
		if err := s.objects.Retain(ctx, info.Key, info.VersionID, Lock{Mode: v.Retention.Mode, Until: v.Retention.RetainUntil}); err != nil {
			return nil, fmt.Errorf("vault: seal: lock version: %w", err)
		}
	}
	r, entry, err := s.signReceipt(ctx, sess.Dossier, v)
	if err != nil {
		return nil, err
	}
	// The timestamp covers the signature alone, so it is asked for while
	// the entry waits for its commit; a retry's signature may not be the
	// one logged, so it waits to learn which is.
	stamped := make(chan []byte, 1)
	if claimed {
		go func() { stamped <- s.stamp(ctx, sess.Tenant, v.ReceiptID, r.Envelope, false) }()
	} else {
		stamped <- nil
	}
	appended, err := s.ledger.Append(ctx, sess.Tenant, entry, from)
	tsr := <-stamped
	if err != nil {
		return nil, fmt.Errorf("vault: seal: log receipt: %w", ledgerError(err))
	}
	if !bytes.Equal(appended.Record, entry.Record) {
		// An earlier attempt's append got there first: the receipt is
		// the one in the log (the same statement, signed then).
		if r, err = OpenReceipt(appended.Record); err != nil {
			return nil, fmt.Errorf("vault: seal: the log's receipt %s: %w", v.ReceiptID, err)
		}
	}
	r.Log = &appended.Proof
	// Under a legal hold, the version, its chain entry and the receipt
	// the commit just stored are held. The state is read again: a hold
	// logged since the claim either shows here, or was logged after this
	// read, and so listed the chain after the claim and held the version
	// itself.
	if err := s.holdIfHeld(ctx, sess.Tenant, v); err != nil {
		return nil, err
	}
	if tsr != nil && bytes.Equal(appended.Record, entry.Record) {
		r.Timestamps = [][]byte{tsr}
	} else {
		s.attachStamps(ctx, sess.Tenant, r)
	}
	s.attachWitness(ctx, sess.Tenant, r, true)
	s.sealed.Store(v.ReceiptID, true)
	s.finished.Store(v.ReceiptID, true)
	s.log.InfoContext(ctx, "sealed", "tenant", sess.Tenant, "dossier", sess.Dossier.ID, "upload", sess.ID,
		"receipt", v.ReceiptID, "path", v.Document.Path, "version", v.Version, "versionId", v.VersionID, "sha256", v.SHA256,
		"logIndex", r.Log.Index)
	return r, nil
}

// finishSealed readies the stored receipt r of version v, which an earlier
// attempt sealed, to be answered.
func (s *Service) finishSealed(ctx context.Context, tenant string, v Version, r *Receipt) error {
	// It may have stopped before its commit was finished (the checkpoint
	// written after the bundle): the log's latest is read, which finishes
	// it, before the receipt is answered.
	if _, _, err := s.ledger.Latest(ctx, tenant); err != nil {
		return fmt.Errorf("vault: seal: %w", ledgerError(err))
	}
	// It may have stopped before putting the version under a legal hold
	// that covers it.
	if err := s.holdIfHeld(ctx, tenant, v); err != nil {
		return err
	}
	// Answered as a read answers it: with its kept timestamp and cosigned
	// checkpoint.
	s.attachStamps(ctx, tenant, r)
	s.attachWitness(ctx, tenant, r, false)
	return nil
}

// sealSame answers an upload whose bytes and metadata another upload of
// the same document sealed as version v while it was in flight (chainHead)
// with v's receipt, finishing v's seal first if its sealer stopped before
// storing it. The upload's own copy of the bytes stays unsealed: storage
// locked it on arrival, and no receipt names it.
func (s *Service) sealSame(ctx context.Context, sess session, v Version) (*Receipt, error) {
	r, err := s.storedReceipt(ctx, sess.Tenant, v.ReceiptID)
	switch {
	case errors.Is(err, ErrNotFound):
		// Only the upload the vault signed for v may be sealed as v.
		first, err := s.session(ctx, sess.Tenant, v.UploadID)
		if err != nil {
			return nil, fmt.Errorf("vault: seal: the upload of version %d: %w", v.Version, err)
		}
		if first.Dossier.ID != v.Dossier || first.Key != v.Key || !sameUpload(v, first.Document) {
			return nil, errTamperedEntry(versionKey(chainPrefix(sess.Tenant, v.Dossier, v.Document.Path), v.Version),
				fmt.Sprintf("it is not what upload %s declared", first.ID))
		}
		info, err := s.objects.Stat(ctx, v.Key, v.VersionID)
		if err != nil {
			return nil, fmt.Errorf("vault: seal: the bytes of version %d: %w", v.Version, err)
		}
		if info.Metadata[uploadIDMeta] != first.ID {
			return nil, errTamperedEntry(versionKey(chainPrefix(sess.Tenant, v.Dossier, v.Document.Path), v.Version),
				fmt.Sprintf("it names version %s, which upload %s did not send", v.VersionID, first.ID))
		}
		if r, err = s.seal(ctx, first, info); err != nil {
			return nil, err
		}
		if err := sameVersion(v, r); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		if err := sameVersion(v, r); err != nil {
			return nil, err
		}
		if err := s.finishSealed(ctx, sess.Tenant, v, r); err != nil {
			return nil, err
		}
	}
	s.log.InfoContext(ctx, "sealed as the same bytes' version", "tenant", sess.Tenant, "dossier", sess.Dossier.ID,
		"upload", sess.ID, "as", v.UploadID, "path", v.Document.Path, "version", v.Version, "receipt", v.ReceiptID)
	return r, nil
}

// checkUpload compares the stored version with what the session declared,
// streaming a multipart object for the SHA-256 storage does not keep.
func (s *Service) checkUpload(ctx context.Context, sess session, info *ObjectInfo) error {
	declared := sess.Document.File
	if info.SHA256 == "" && sess.Multipart != nil && info.Size == declared.Size {
		sum, err := s.digest(ctx, sess, *info)
		if err != nil {
			return err
		}
		info.SHA256 = sum
	}
	switch {
	case info.SHA256 == "":
		return &Error{Code: CodeIntegrity, Message: "storage holds no SHA-256 for the uploaded object",
			Err: fmt.Errorf("%s@%s", info.Key, info.VersionID)}
	case info.SHA256 != declared.SHA256:
		return errorf(CodeIntegrity, "stored object's SHA-256 %s differs from the declared %s", info.SHA256, declared.SHA256)
	case info.Size != declared.Size:
		return errorf(CodeIntegrity, "stored object is %d bytes, %d were declared", info.Size, declared.Size)
	}
	return nil
}

// signReceipt builds the receipt of version v and signs it, returning it
// with the log entry that records it: the envelope as stored and the
// statement as signed, the leaf anyone holding the receipt can hash.
func (s *Service) signReceipt(ctx context.Context, d Dossier, v Version) (*Receipt, ledger.Entry, error) {
	st, p, err := statementFor(s.cfg.Bucket, d, v)
	if err != nil {
		return nil, ledger.Entry{}, err
	}
	env, err := receipt.Sign(ctx, st, s.signer)
	if err != nil {
		return nil, ledger.Entry{}, fmt.Errorf("vault: seal: %w", err)
	}
	record, err := receipt.Marshal(env)
	if err != nil {
		return nil, ledger.Entry{}, fmt.Errorf("vault: seal: %w", err)
	}
	leaf, err := receipt.Payload(env)
	if err != nil {
		return nil, ledger.Entry{}, fmt.Errorf("vault: seal: %w", err)
	}
	r := &Receipt{Envelope: env, Subject: st.Subject[0], Predicate: p}
	return r, ledger.Entry{ID: v.ReceiptID, Leaf: leaf, Record: record}, nil
}
