package vault

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
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
// state after Offset bytes (crypto/sha256's binary marshalling), and of
// its parts: the digests of the parts done and the state of the current
// one (none for a state saved without parts).
type digestState struct {
	VersionID string   `json:"versionId"`
	Offset    int64    `json:"offset"`
	State     []byte   `json:"state"`
	Parts     []string `json:"parts,omitempty"`
	PartState []byte   `json:"partState,omitempty"`
}

// partHasher hashes consecutive parts of size bytes.
type partHasher struct {
	size, in int64
	h        hash.Hash
	sums     []string
}

func (p *partHasher) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		k := min(int64(len(b)), p.size-p.in)
		p.h.Write(b[:k])
		p.in += k
		b = b[k:]
		if p.in == p.size {
			p.sums = append(p.sums, hex.EncodeToString(p.h.Sum(nil)))
			p.h.Reset()
			p.in = 0
		}
	}
	return n, nil
}

// bothHashes writes each chunk to the whole file's hash and to its parts'
// at once, on two goroutines, so that hashing the parts too costs no
// time on two cores; after each Write both hold the same bytes, so that
// a saved state of the two matches.
type bothHashes struct {
	whole hash.Hash
	parts *partHasher
}

func (t bothHashes) Write(b []byte) (int, error) {
	done := make(chan struct{})
	go func() { t.parts.Write(b); close(done) }()
	t.whole.Write(b)
	<-done
	return len(b), nil
}

const (
	// hashSaveEvery is how many bytes are hashed between saved states.
	hashSaveEvery = 1 << 30
	// sealMargin is left of a call's deadline to save progress and answer.
	sealMargin = 3 * time.Second
)

// digest computes the SHA-256 of an object version by streaming it in
// constant memory (internal/digest), resuming saved progress, and in the
// same read the SHA-256 of each of its multipart upload's parts, when
// they are at most MaxReceiptParts. It stops at the context's deadline
// (less a margin) or after Config.SealBudget, saves its state and returns
// *SealPending.
func (s *Service) digest(ctx context.Context, sess session, info ObjectInfo) (string, *Parts, error) {
	h := sha256.New()
	var parts *partHasher
	if m := sess.Multipart; m != nil && m.Parts <= MaxReceiptParts && m.PartSize > 0 {
		parts = &partHasher{size: m.PartSize, h: sha256.New()}
	}
	var offset int64
	stateKey := digestStateKey(sess.Tenant, sess.ID)
	var saved digestState
	data, err := s.records.Get(ctx, stateKey)
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
			// The parts resume with the whole, or are not listed: a
			// state saved without them cannot give the parts before it.
			if parts != nil && offset > 0 {
				if saved.PartState == nil || parts.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(saved.PartState) != nil ||
					int64(len(saved.Parts))*parts.size > offset || offset-int64(len(saved.Parts))*parts.size > parts.size {
					parts = nil
				} else {
					parts.sums = saved.Parts
					parts.in = offset - int64(len(saved.Parts))*parts.size
				}
			}
		}
	case !errors.Is(err, ErrNotFound):
		return "", nil, fmt.Errorf("vault: seal: read hash state: %w", err)
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
		st := digestState{VersionID: info.VersionID, Offset: offset, State: state}
		if parts != nil {
			if st.PartState, err = parts.h.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
				return err
			}
			st.Parts = parts.sums
		}
		signed, err := s.signedJSON(ctx, digestStateType, st)
		if err != nil {
			return err
		}
		return s.records.Put(ctx, stateKey, signed)
	}
	if offset < info.Size {
		r, err := s.objects.Open(ctx, info.Key, info.VersionID, offset)
		if err != nil {
			return "", nil, fmt.Errorf("vault: seal: read object: %w", err)
		}
		var sink io.Writer = h
		if parts != nil {
			sink = bothHashes{whole: h, parts: parts}
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
		}, sink)
		r.Close()
		if errors.Is(err, digest.ErrStopped) && offset < info.Size {
			if err := save(); err != nil {
				return "", nil, fmt.Errorf("vault: seal: save hash state: %w", err)
			}
			return "", nil, &SealPending{UploadID: sess.ID, Hashed: offset, Size: info.Size}
		}
		if err != nil && !errors.Is(err, digest.ErrStopped) {
			// A read cut short is no verdict on the bytes: keep what was
			// hashed, and let the retry go on from there.
			if serr := save(); serr != nil {
				s.log.WarnContext(ctx, "seal: hash state not saved", "upload", sess.ID, "err", serr)
			}
			return "", nil, &Error{Code: CodeUnavailable, Err: err,
				Message: fmt.Sprintf("storage stopped sending upload %s's object at byte %d of %d; nothing is lost: complete it again to go on", sess.ID, offset, info.Size)}
		}
	}
	if offset != info.Size {
		return "", nil, errorf(CodeIntegrity, "stored object yielded %d bytes, its size is %d", offset, info.Size)
	}
	if saved.Offset != offset {
		// A retried complete finds the finished state and does not hash
		// the object again.
		if err := save(); err != nil {
			s.log.WarnContext(ctx, "seal: hash state not saved", "upload", sess.ID, "err", err)
		}
	}
	var out *Parts
	if parts != nil {
		sums := parts.sums
		if parts.in > 0 {
			sums = append(slices.Clone(sums), hex.EncodeToString(parts.h.Sum(nil)))
		}
		if int64(len(sums)) == (info.Size+parts.size-1)/parts.size {
			out = &Parts{Size: parts.size, SHA256: sums}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), out, nil
}
