package vault

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/strictjson"
)

// createJSON writes v at key with a conditional create.
func (s *Service) createJSON(ctx context.Context, key string, v any, lock *Lock) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("vault: %s: %w", key, err)
	}
	return s.records.Create(ctx, key, data, lock)
}

// Records that sealing acts on but that are not locked or are written
// again (upload sessions, saved hash states) are signed by the vault, so
// that nobody else can make it seal what no uploader declared: DSSE
// envelopes of the record's JSON, under payload types of their own.
const (
	sessionType     = "application/vnd.evidencevault.upload-session+json"
	digestStateType = "application/vnd.evidencevault.digest-state+json"
)

// signedJSON returns v as a DSSE envelope signed by the vault's key.
func (s *Service) signedJSON(ctx context.Context, payloadType string, v any) ([]byte, error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("vault: sign record: %w", err)
	}
	env, err := receipt.SignPayload(ctx, payloadType, payload, s.signer)
	if err != nil {
		return nil, fmt.Errorf("vault: sign record: %w", err)
	}
	return json.Marshal(env)
}

// openSignedJSON checks a signed record of payloadType against the vault's
// configured keys and decodes it into v, strictly. These records are the
// vault's own working state, not log entries: only the keys it holds now
// (the current one, and during a rotation the one it replaces) can have
// written them, whatever the tenant's log history says.
func (s *Service) openSignedJSON(ctx context.Context, payloadType string, data []byte, v any) error {
	keys, err := s.configured()
	if err != nil {
		return err
	}
	payload, err := receipt.OpenPayload(ctx, data, payloadType, keys)
	if err != nil {
		return err
	}
	return strictjson.Unmarshal(payload, v)
}

// fetchConcurrency bounds parallel GETs when a listing needs the bodies.
const fetchConcurrency = 16
