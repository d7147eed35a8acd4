package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
)

// PublicKey is a receipt-signing key as GET /v1/keys serves it.
type PublicKey struct {
	KeyID     string `json:"keyId"`
	Algorithm string `json:"algorithm"`
	PEM       string `json:"publicKey"`
	Current   bool   `json:"current"`
}

// Keys returns every key that has signed receipts in this vault, the
// current signer's among them. Earlier keys stay listed for as long as
// their receipts are kept.
func (s *Service) Keys(ctx context.Context) ([]PublicKey, error) {
	if err := s.publishKey(ctx); err != nil {
		return nil, err
	}
	keys, err := s.knownKeys(ctx)
	if err != nil {
		return nil, err
	}
	current, err := receipt.KeyID(s.signer.Public())
	if err != nil {
		return nil, fmt.Errorf("vault: keys: %w", err)
	}
	out := make([]PublicKey, len(keys))
	for i, k := range keys {
		out[i] = PublicKey{KeyID: k.ID, Algorithm: receipt.Algorithm, PEM: string(k.PEM()), Current: k.ID == current}
	}
	return out, nil
}

func (s *Service) knownKeys(ctx context.Context) ([]receipt.Key, error) {
	return publishedKeys(ctx, s.records)
}

// publishedKeys reads every key published under keys/.
func publishedKeys(ctx context.Context, records Records) ([]receipt.Key, error) {
	names, err := records.List(ctx, keysPrefix)
	if err != nil {
		return nil, fmt.Errorf("vault: keys: %w", err)
	}
	var keys []receipt.Key
	for _, name := range names {
		data, err := records.Get(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("vault: keys: %w", err)
		}
		k, err := receipt.ParsePublicKey(data)
		if err != nil {
			return nil, fmt.Errorf("vault: keys: %s: %w", name, err)
		}
		if name != publicKeyKey(k.ID) {
			return nil, fmt.Errorf("vault: keys: %s holds key %s", name, k.ID)
		}
		keys = append(keys, k)
	}
	return keys, nil
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
	lock := &Lock{Mode: s.cfg.LockMode, Until: s.now().AddDate(regulation.RetentionYearsImplantable+1, 0, 0)}
	name := publicKeyKey(key.ID)
	err = s.records.Create(ctx, name, key.PEM(), lock)
	switch {
	case errors.Is(err, ErrExists):
		// Published before, by this key or another process of it: the
		// same bytes, unless someone wrote something else there.
		if have, err := s.records.Get(ctx, name); err != nil || !bytes.Equal(have, key.PEM()) {
			s.log.ErrorContext(ctx, "publish key: the published copy differs from the signing key", "object", name, "err", err)
		}
	case err != nil:
		return fmt.Errorf("vault: publish key: %w", err)
	}
	s.published = true
	return nil
}
