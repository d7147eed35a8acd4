package vault

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/tsa"
)

// Timestamper is the deployment's Time-Stamping Authority (internal/tsa):
// it returns a verified RFC 3161 TimeStampResp over message.
type Timestamper interface {
	Stamp(ctx context.Context, message []byte) ([]byte, tsa.Stamp, error)
	Trust() tsa.Trust
}

// Timestamps (docs/receipt.md, "Timestamp"): every receipt's signature is
// timestamped by the deployment's authority while it is sealed, in
// parallel with its log append. The token is kept beside the receipt
// bundle, at timestampKey, written once and locked like the log; the
// bundle served carries it. When the authority cannot be reached the seal
// goes on without it (no upload waits on, or is lost to, a third party):
// the receipt is served without a timestamp, verifiers report it pending,
// and the token is added later, when the receipt is next read or by
// StampPending, over the same signature: it then proves the receipt
// existed at that later time, never earlier.

// retryStampAfter spaces the attempts at receipts still without a token
// after the authority failed, so that reads do not each wait for it.
const retryStampAfter = 30 * time.Second

// stampState remembers when the authority last failed.
type stampState struct {
	mu     sync.Mutex
	failed time.Time
}

// signatureOf is the message a receipt's timestamp covers: its (first)
// signature's bytes, as Sigstore bundles timestamp a DSSE envelope.
func signatureOf(env *receipt.Envelope) ([]byte, error) {
	if len(env.Signatures) == 0 {
		return nil, fmt.Errorf("%w: the envelope has no signature", receipt.ErrMalformed)
	}
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", receipt.ErrMalformed, err)
	}
	return sig, nil
}

// stamp gets and keeps the timestamp of a receipt's signature. It returns
// nil, without error, when the authority cannot give one now: the seal
// does not depend on it.
//
// After a failure, seals and reads do not ask again for retryStampAfter;
// the sweep (StampPending) asks anyway (force).
func (s *Service) stamp(ctx context.Context, tenant, id string, env *receipt.Envelope, force bool) []byte {
	if s.cfg.Timestamps == nil || !force && s.stampFailedRecently() {
		return nil
	}
	sig, err := signatureOf(env)
	if err != nil {
		return nil
	}
	tsr, _, err := s.cfg.Timestamps.Stamp(ctx, sig)
	if err != nil {
		if ctx.Err() == nil {
			// The authority failed, not the caller: spare the next
			// seals and reads the wait.
			s.stamps.mu.Lock()
			s.stamps.failed = s.now()
			s.stamps.mu.Unlock()
		}
		s.log.WarnContext(ctx, "timestamp pending: the authority gave none", "tenant", tenant, "receipt", id, "err", err)
		return nil
	}
	key := timestampKey(tenant, id)
	err = s.records.Create(ctx, key, tsr, logLock(s.cfg))
	if errors.Is(err, ErrExists) {
		// Another sealer of the same receipt, or a plant: what verifies
		// there counts; else ours goes over it.
		if kept, over := s.keptStamps(ctx, tenant, id, sig); kept != nil && bytes.Equal(over, sig) {
			return kept
		}
		err = s.records.Put(ctx, key, tsr)
	}
	if err != nil {
		s.log.WarnContext(ctx, "timestamp pending: could not store it", "tenant", tenant, "receipt", id, "err", err)
		return nil
	}
	return tsr
}

// keptStamps returns the first stored timestamp of a receipt that
// verifies over its signature sig or over sig's twin, and the signature
// it covers; nil if none does: a version planted over it, or junk, is
// passed over, and what is served of a receipt does not change once it is
// stamped.
//
// An ECDSA signature has a twin that verifies as well and that anyone can
// make without the key (receipt.TwinSignature). Written over the record,
// it has no token of its own, and one asked for then would date the
// record later than its seal: so the twin's token counts, and the caller
// puts back the signature it covers.
func (s *Service) keptStamps(ctx context.Context, tenant, id string, sig []byte) (tsr, over []byte) {
	trust := s.stampTrust()
	if trust == nil {
		return nil, nil
	}
	twin, _ := receipt.TwinSignature(sig)
	tsr = firstVersion(ctx, s.records, timestampKey(tenant, id), func(data []byte) bool {
		for _, c := range [][]byte{sig, twin} {
			if c == nil {
				continue
			}
			if _, err := trust.Verify(data, c); err == nil {
				over = c
				return true
			}
		}
		return false
	})
	return tsr, over
}

// stampTrust is the configured authority's trust, nil without one.
func (s *Service) stampTrust() *tsa.Trust {
	if s.cfg.Timestamps == nil {
		return nil
	}
	t := s.cfg.Timestamps.Trust()
	return &t
}

// attachStamps gives a stored receipt its timestamp: the kept one, or,
// when there is none yet and the authority has not failed just now, one
// asked for now.
func (s *Service) attachStamps(ctx context.Context, tenant string, r *Receipt) {
	if s.cfg.Timestamps == nil {
		return
	}
	r.Timestamps, _ = s.stampsOf(ctx, tenant, r.Predicate.ReceiptID, r.Envelope)
	r.Pending = len(r.Timestamps) == 0
}

// stampsOf returns the kept timestamp of log entry id's signature, asking
// the authority for one when none is kept yet; nil when it gives none.
// When the kept one covers the twin of env's signature (keptStamps),
// env's signature was written over: it is put back, in place, and
// restored says so.
func (s *Service) stampsOf(ctx context.Context, tenant, id string, env *receipt.Envelope) (stamps [][]byte, restored bool) {
	sig, err := signatureOf(env)
	if err != nil {
		return nil, false
	}
	if kept, over := s.keptStamps(ctx, tenant, id, sig); kept != nil {
		if bytes.Equal(over, sig) {
			return [][]byte{kept}, false
		}
		s.log.WarnContext(ctx, "a signed record was written over with the twin of its signature; serving the one its timestamp covers",
			"tenant", tenant, "entry", id)
		env.Signatures[0].Sig = base64.StdEncoding.EncodeToString(over)
		return [][]byte{kept}, true
	}
	if !s.stampFailedRecently() {
		if tsr := s.stamp(ctx, tenant, id, env, false); tsr != nil {
			return [][]byte{tsr}, false
		}
	}
	return nil, false
}

// stampFailedSince reports whether the authority failed at t or later.
func (s *Service) stampFailedSince(t time.Time) bool {
	s.stamps.mu.Lock()
	defer s.stamps.mu.Unlock()
	return !s.stamps.failed.IsZero() && !s.stamps.failed.Before(t)
}

// stampFailedRecently reports whether the authority failed less than
// retryStampAfter ago.
func (s *Service) stampFailedRecently() bool {
	s.stamps.mu.Lock()
	defer s.stamps.mu.Unlock()
	return !s.stamps.failed.IsZero() && s.now().Sub(s.stamps.failed) < retryStampAfter
}

// StampPending timestamps every receipt of tenant that has none yet (the
// authority could not be reached when it was sealed), and returns how many
// it stamped and how many are still pending.
func (s *Service) StampPending(ctx context.Context, tenant string) (stamped, pending int, err error) {
	stamped, pending, _, err = s.stampPending(ctx, tenant, true)
	return stamped, pending, err
}

// stampPending is StampPending, asking the authority only if ask. It
// stops asking at the authority's first failure, and says so (down): each
// receipt after it would wait out the authority's timeout in turn, and the
// schedule's run has other tenants' work to do.
//
// The receipts it considers are those with nothing at their token's key,
// told apart by two listings, and a 24th of the others, whose kept token
// it checks (checkHour), so that a tenant's hourly run does not read and
// verify every receipt it ever sealed. A key holding something that does
// not verify (a plant, junk) is then stamped over, as the receipt's next
// read would do, and vault-audit names the key's two versions.
func (s *Service) stampPending(ctx context.Context, tenant string, ask bool) (stamped, pending int, down bool, err error) {
	if s.cfg.Timestamps == nil {
		return 0, 0, false, nil
	}
	receipts, err := s.records.List(ctx, receiptsPrefix(tenant))
	if err != nil {
		return 0, 0, false, fmt.Errorf("vault: stamp pending: %w", err)
	}
	stamps, err := s.records.List(ctx, timestampsPrefix(tenant))
	if err != nil {
		return 0, 0, false, fmt.Errorf("vault: stamp pending: %w", err)
	}
	have := map[string]bool{}
	for _, o := range stamps {
		have[o.Key] = true
	}
	hour := s.now().UTC().Hour()
	for _, o := range receipts {
		id, ok := receiptIDOfKey(tenant, o.Key)
		if !ok {
			continue
		}
		kept := have[timestampKey(tenant, id)]
		if kept && checkHour(id) != hour {
			continue
		}
		var r *Receipt
		if kept {
			// Once a day, in the hour its id gives, a receipt's kept
			// token is checked: one planted where a pending receipt's
			// goes would otherwise keep it from ever being stamped.
			if r, err = s.storedReceipt(ctx, tenant, id); err != nil {
				continue
			}
			if sig, err := signatureOf(r.Envelope); err == nil {
				if kept, _ := s.keptStamps(ctx, tenant, id, sig); kept != nil {
					continue
				}
			}
		}
		if !ask || down {
			pending++
			continue
		}
		if r == nil {
			if r, err = s.storedReceipt(ctx, tenant, id); err != nil {
				continue // not the vault's receipt; the audit names it
			}
		}
		asked := s.now()
		if s.stamp(ctx, tenant, id, r.Envelope, true) != nil {
			stamped++
		} else {
			// Down only if the authority failed: a token that could not
			// be stored is this receipt's trouble, not every tenant's.
			pending++
			down = s.stampFailedSince(asked)
		}
	}
	return stamped, pending, down, nil
}

// checkHour is the hour of the day (UTC) in which the sweep checks the
// kept token of receipt id: the receipts of a tenant spread over the day.
func checkHour(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % 24)
}

// stampSkew is how far the vault's clock may run ahead of the authority's
// before a receipt's sealedAt contradicts its timestamp.
const stampSkew = time.Minute

// checkStamps checks a receipt's timestamps under trust: each is over the
// receipt's signature and by a trusted authority, and none says the
// signature existed before the vault claims to have sealed it.
func checkStamps(r *Receipt, trust tsa.Trust, require bool) (bool, string) {
	if len(r.Timestamps) == 0 {
		if require {
			return false, "the receipt carries no RFC 3161 timestamp, and one is required"
		}
		return true, "pending: the receipt carries no RFC 3161 timestamp, so its time is the vault's clock alone; the vault adds one later to a receipt sealed while its authority was unreachable, and a file whose token was removed looks the same: fetch the receipt again, or require a timestamp to refuse it"
	}
	if len(r.Envelope.Signatures) != 1 {
		// The timestamp covers one signature: with several, it could be
		// over one that no trusted key made.
		return false, fmt.Sprintf("a timestamped receipt carries exactly one signature; this one has %d", len(r.Envelope.Signatures))
	}
	sig, err := signatureOf(r.Envelope)
	if err != nil {
		return false, err.Error()
	}
	var first tsa.Stamp
	for i, tsr := range r.Timestamps {
		st, err := trust.Verify(tsr, sig)
		if err != nil {
			return false, fmt.Sprintf("timestamp %d: %v", i+1, err)
		}
		if sealed := r.Predicate.SealedAt; sealed.After(st.Time.Add(st.Accuracy + stampSkew)) {
			return false, fmt.Sprintf("timestamp %d says the signature existed at %s, before the receipt's sealedAt %s", i+1, st.Time.Format(time.RFC3339), sealed.Format(time.RFC3339))
		}
		if i == 0 || st.Time.Before(first.Time) {
			first = st
		}
	}
	kind := "a timestamp"
	if first.Qualified {
		kind = "a qualified electronic timestamp"
	}
	return true, fmt.Sprintf("%s by %s at %s, %s after sealing", kind, first.Authority, first.Time.Format(time.RFC3339),
		first.Time.Sub(r.Predicate.SealedAt).Round(time.Millisecond))
}
