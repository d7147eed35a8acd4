package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/witnessing"
)

// Cosigner gets a log's checkpoints cosigned by the deployment's witnesses
// (internal/witnessing): it returns checkpoint with the cosignatures it
// got appended, and an error naming each witness that gave none.
type Cosigner interface {
	Cosign(ctx context.Context, origin string, size uint64, checkpoint []byte, prove witnessing.Prover) ([]byte, error)
	// Check reports whether a cosigned note carries valid cosignatures
	// of the quorum of the configured witnesses.
	Check(cosigned []byte) error
	// Keys returns the witnesses' public keys (note vkeys).
	Keys() []string
	// Quorum is how many of them must cosign a checkpoint.
	Quorum() int
}

// Witnessing (docs/ledger.md, "Witnesses"): after each append, the seal
// makes sure a checkpoint covering its entry is cosigned. Concurrent seals
// of a tenant wait for one round: its leader submits the log's latest
// checkpoint, which covers every entry appended before, so witnessing
// batches like the log's group commit. The cosigned note (the log's signed
// note with the witnesses' signature lines) is kept at witnessedKey,
// written once and locked like the log, and served in place of the log's
// note wherever a checkpoint is shown: receipts, GET /v1/log/checkpoint
// and so export bundles. When no witness answers, the seal goes on and
// what is served waits for the next round (pending, not cached).

func witnessedKey(tenant string, size int64) string {
	return fmt.Sprintf("%s%020d.txt", witnessedPrefix(tenant), size)
}

func witnessedPrefix(tenant string) string { return "vault/" + tenant + "/witnessed/" }

// tenantWitness is the latest cosigned checkpoint of one tenant's log
// this process knows, and when its witnesses last all failed.
type tenantWitness struct {
	mu       sync.Mutex
	size     int64
	cosigned []byte
	failed   time.Time
}

type witnessState struct {
	tenants sync.Map // tenant -> *tenantWitness
}

func (w *witnessState) of(tenant string) *tenantWitness {
	v, _ := w.tenants.LoadOrStore(tenant, &tenantWitness{})
	return v.(*tenantWitness)
}

// witnessed returns a cosigned checkpoint of tenant's log of at least
// atLeast entries, asking the witnesses for one when this process has
// none, and false when none could be had.
func (s *Service) witnessed(ctx context.Context, tenant string, atLeast int64) (int64, []byte, bool) {
	if s.cfg.Witnesses == nil {
		return 0, nil, false
	}
	tw := s.witnesses.of(tenant)
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.cosigned != nil && tw.size >= atLeast {
		return tw.size, tw.cosigned, true
	}
	if !tw.failed.IsZero() && s.now().Sub(tw.failed) < retryStampAfter {
		return 0, nil, false
	}
	cp, signed, err := s.ledger.Latest(ctx, tenant)
	if err != nil || cp.Size < atLeast {
		return 0, nil, false
	}
	prove := func(ctx context.Context, from uint64) ([][]byte, error) {
		hs, err := s.ledger.ConsistencyProof(ctx, tenant, int64(from), cp.Size)
		out := make([][]byte, len(hs))
		for i := range hs {
			out[i] = hs[i][:]
		}
		return out, err
	}
	cosigned, err := s.cfg.Witnesses.Cosign(ctx, cp.Origin, uint64(cp.Size), signed, prove)
	if err != nil {
		s.log.WarnContext(ctx, "witnessing", "tenant", tenant, "size", cp.Size, "err", err)
		// The note is kept (and locked) with the cosignatures it has, and
		// served for good: only if they reach the quorum. Otherwise the
		// next round tries again, on a later checkpoint.
		if s.cfg.Witnesses.Check(cosigned) != nil {
			if ctx.Err() == nil {
				tw.failed = s.now()
			}
			return 0, nil, false
		}
	}
	key := witnessedKey(tenant, cp.Size)
	if err := s.records.Create(ctx, key, cosigned, logLock(s.cfg)); err != nil && !errors.Is(err, ErrExists) {
		s.log.WarnContext(ctx, "witnessing: keep the cosigned checkpoint", "object", key, "err", err)
	} else if errors.Is(err, ErrExists) && s.keptCosigned(ctx, tenant, cp.Size, signed) == nil {
		// Something else was there first: ours goes over it.
		if err := s.records.Put(ctx, key, cosigned); err != nil {
			s.log.WarnContext(ctx, "witnessing: keep the cosigned checkpoint", "object", key, "err", err)
		}
	}
	tw.size, tw.cosigned, tw.failed = cp.Size, cosigned, time.Time{}
	return cp.Size, cosigned, true
}

// keptCosigned returns the kept cosigned checkpoint of tenant's log at
// size: the first version that is the log's own signed note at that size
// with every configured witness's valid cosignature added, nil if there
// is none.
func (s *Service) keptCosigned(ctx context.Context, tenant string, size int64, logs []byte) []byte {
	trust, err := s.trust(ctx, tenant)
	if err != nil {
		return nil
	}
	return firstVersion(ctx, s.records, witnessedKey(tenant, size), func(data []byte) bool {
		if len(data) <= len(logs) || !bytes.HasPrefix(data, logs) {
			return false
		}
		if _, err := ledger.OpenCheckpoint(data, s.ledger.Origin(tenant), receipt.PublicKeys(trust.signersAt(size))); err != nil {
			return false
		}
		return s.cfg.Witnesses.Check(data) == nil
	})
}

// attachWitness gives a receipt a cosigned checkpoint: the one of its own
// commit when one is kept, else the latest cosigned one with an inclusion
// proof in it. fresh skips the look for a kept one (a seal just made it).
func (s *Service) attachWitness(ctx context.Context, tenant string, r *Receipt, fresh bool) {
	if s.cfg.Witnesses == nil || r.Log == nil {
		return
	}
	size, err := checkpointSize([]byte(r.Log.Checkpoint))
	if err != nil {
		return
	}
	if !fresh {
		_, logs, err := s.ledger.CheckpointAt(ctx, tenant, size)
		if err == nil && bytes.Equal(logs, []byte(r.Log.Checkpoint)) {
			if kept := s.keptCosigned(ctx, tenant, size, logs); kept != nil {
				p := *r.Log
				p.Checkpoint = string(kept)
				r.Log = &p
				return
			}
		}
	}
	wsize, cosigned, ok := s.witnessed(ctx, tenant, size)
	if !ok {
		r.Pending = true
		return
	}
	p := *r.Log
	p.Checkpoint = string(cosigned)
	if wsize != size {
		if p.Inclusion, err = s.ledger.InclusionProof(ctx, tenant, r.Log.Index, wsize); err != nil {
			r.Pending = true
			return
		}
		r.Pending = true // a later commit's checkpoint: its own may still come
	}
	r.Log = &p
}

// checkpointSize reads the size of a signed checkpoint, unverified.
func checkpointSize(signed []byte) (int64, error) {
	body, _, ok := bytes.Cut(signed, []byte("\n\n"))
	if !ok {
		return 0, errors.New("not a signed note")
	}
	cp, err := ledger.ParseCheckpoint(append(body, '\n'))
	return cp.Size, err
}
