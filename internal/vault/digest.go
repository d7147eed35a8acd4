package vault

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/evidencevault/vault/internal/digest"
)

// SealPending is returned by Complete when a large object's SHA-256 is not
// yet fully computed within the call's time budget: the progress is saved,
// and calling Complete again continues from it.
type SealPending struct {
	UploadID string
	Hashed   int64
	Size     int64
}

func (e *SealPending) Error() string {
	return fmt.Sprintf("vault: upload %s: sealing, %d of %d bytes hashed", e.UploadID, e.Hashed, e.Size)
}

// digestState is saved progress of hashing one object version: the SHA-256
// state after Offset bytes (crypto/sha256's binary marshalling).
type digestState struct {
	VersionID string `json:"versionId"`
	Offset    int64  `json:"offset"`
	State     []byte `json:"state"`
}

const (
	// hashSaveEvery is how many bytes are hashed between saved states.
	hashSaveEvery = 1 << 30
	// sealMargin is left of a call's deadline to save progress and answer.
	sealMargin = 3 * time.Second
)

// digest computes the SHA-256 of an object version by streaming it in
// constant memory (internal/digest), resuming saved progress. It stops at
// the context's deadline (less a margin) or after Config.SealBudget, saves
// its state and returns *SealPending.
func (s *Service) digest(ctx context.Context, sess session, info ObjectInfo) (string, error) {
	h := sha256.New()
	var offset int64
	stateKey := digestStateKey(sess.Tenant, sess.ID)
	var saved digestState
	data, err := s.transient.get(ctx, stateKey)
	switch {
	case err == nil:
		// A state that is not the vault's (someone wrote it to make the
		// seal skip bytes) is not resumed from: hashing starts over.
		if err := s.openSignedJSON(ctx, digestStateType, data, &saved); err != nil {
			s.log.WarnContext(ctx, "seal: a saved hash state the vault did not sign; hashing from the start", "object", stateKey, "err", err)
			saved = digestState{}
		}
		if saved.VersionID == info.VersionID && saved.Offset <= info.Size {
			if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(saved.State); err == nil {
				offset = saved.Offset
			} else {
				h.Reset()
			}
		}
	case !errors.Is(err, ErrNotFound):
		return "", fmt.Errorf("vault: seal: read hash state: %w", err)
	}
	stopAt := time.Time{}
	if d, ok := ctx.Deadline(); ok {
		stopAt = d.Add(-sealMargin)
	}
	if s.cfg.SealBudget > 0 {
		if b := s.now().Add(s.cfg.SealBudget); stopAt.IsZero() || b.Before(stopAt) {
			stopAt = b
		}
	}
	save := func() error {
		state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return err
		}
		signed, err := s.signedJSON(ctx, digestStateType, digestState{VersionID: info.VersionID, Offset: offset, State: state})
		if err != nil {
			return err
		}
		return s.transient.put(ctx, stateKey, signed)
	}
	if offset < info.Size {
		r, err := s.objects.Open(ctx, info.Key, info.VersionID, offset)
		if err != nil {
			return "", fmt.Errorf("vault: seal: read object: %w", err)
		}
		lastSave := offset
		_, err = digest.Copy(ctx, r, func(n int) bool {
			offset += int64(n)
			if offset-lastSave >= hashSaveEvery && offset < info.Size {
				if err := save(); err != nil {
					s.log.WarnContext(ctx, "seal: hash state not saved", "upload", sess.ID, "err", err)
				}
				lastSave = offset
			}
			return stopAt.IsZero() || s.now().Before(stopAt)
		}, h)
		r.Close()
		if errors.Is(err, digest.ErrStopped) && offset < info.Size {
			if err := save(); err != nil {
				return "", fmt.Errorf("vault: seal: save hash state: %w", err)
			}
			return "", &SealPending{UploadID: sess.ID, Hashed: offset, Size: info.Size}
		}
		if err != nil && !errors.Is(err, digest.ErrStopped) {
			// A read cut short is no verdict on the bytes: keep what was
			// hashed, and let the retry go on from there.
			if serr := save(); serr != nil {
				s.log.WarnContext(ctx, "seal: hash state not saved", "upload", sess.ID, "err", serr)
			}
			return "", &Error{Code: CodeUnavailable, Err: err,
				Message: fmt.Sprintf("storage stopped sending upload %s's object at byte %d of %d; nothing is lost: complete it again to go on", sess.ID, offset, info.Size)}
		}
	}
	if offset != info.Size {
		return "", errorf(CodeIntegrity, "stored object yielded %d bytes, its size is %d", offset, info.Size)
	}
	if saved.Offset != offset {
		// A retried complete finds the finished state and does not hash
		// the object again.
		if err := save(); err != nil {
			s.log.WarnContext(ctx, "seal: hash state not saved", "upload", sess.ID, "err", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
