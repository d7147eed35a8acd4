package ledger

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"sync"
)

// keyCache holds the keys checkpoints may be signed with. Keys are only
// ever added (rotation), so the cache is reloaded only when a checkpoint
// does not verify with it. A signing log starts with its own key alone,
// which signed every checkpoint since the last rotation: a cold start
// asks for no other key.
type keyCache struct {
	signer Signer
	tenant string
	more   func(context.Context, string) ([]*ecdsa.PublicKey, error)

	mu   sync.Mutex
	keys []*ecdsa.PublicKey
}

func (k *keyCache) get(ctx context.Context, reload bool) ([]*ecdsa.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys != nil && !reload {
		return k.keys, nil
	}
	var keys []*ecdsa.PublicKey
	if k.signer != nil {
		own, ok := k.signer.Public().(*ecdsa.PublicKey)
		if !ok {
			return nil, errors.New("ledger: the checkpoint signer's key is not an ECDSA key")
		}
		keys = append(keys, own)
		if !reload {
			k.keys = keys
			return keys, nil
		}
	}
	if k.more != nil {
		more, err := k.more(ctx, k.tenant)
		if err != nil {
			return nil, fmt.Errorf("ledger: keys: %w", err)
		}
		keys = append(keys, more...)
	}
	k.keys = keys
	return keys, nil
}

// open verifies a signed checkpoint of tl's log with the cached keys,
// reloading them once if it does not verify, and then with the keys that
// may sign a checkpoint of its size (Config.SignersAt).
func (l *Log) open(ctx context.Context, tl *tenantLog, signed []byte) (Checkpoint, error) {
	keys, err := tl.keys.get(ctx, false)
	if err != nil {
		return Checkpoint{}, err
	}
	cp, err := OpenCheckpoint(signed, tl.origin, keys)
	if errors.Is(err, ErrInvalid) {
		if keys, err = tl.keys.get(ctx, true); err != nil {
			return Checkpoint{}, err
		}
		cp, err = OpenCheckpoint(signed, tl.origin, keys)
	}
	if err != nil || l.cfg.SignersAt == nil {
		return cp, err
	}
	signers, err := l.cfg.SignersAt(ctx, tl.tenant, cp.Size)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("ledger: keys: %w", err)
	}
	if _, err := OpenCheckpoint(signed, tl.origin, signers); err != nil {
		return Checkpoint{}, fmt.Errorf("%w: the checkpoint of size %d is not signed by the key of its last entry: %v", ErrInvalid, cp.Size, err)
	}
	return cp, nil
}
