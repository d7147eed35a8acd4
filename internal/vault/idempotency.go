package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Idempotency keys (the Idempotency-Key header of the IETF httpapi draft)
// let a client repeat a request that creates, after a timeout or a crash,
// and get the first answer back instead of a second creation. The vault
// keeps, per tenant, caller and key, what the request was (its
// fingerprint) and, once it succeeded, its answer, signed like the other
// records sealing acts on: a replayed answer is the vault's.

// idempotencyType is the payload type of a remembered answer.
const idempotencyType = "application/vnd.evidencevault.idempotent-answer+json"

// pendingFor is how long a request with a key may run before a repeat of
// it is taken as abandoned (its process died) and run again.
const pendingFor = time.Minute

// MaxIdempotencyKey bounds a key's length, as Stripe's and the draft's
// examples do.
const MaxIdempotencyKey = 255

// idempotencyRecord is what the vault keeps for one key.
type idempotencyRecord struct {
	Fingerprint string    `json:"fingerprint"`
	State       string    `json:"state"` // pending, failed or done
	At          time.Time `json:"at"`
	// Answer is the remembered answer, as the caller gave it, once done.
	Answer []byte `json:"answer,omitempty"`
}

// Remember runs do at most once for the caller's key: a repeat with the
// same fingerprint gets the answer do gave the first time (replayed true),
// a repeat with another fingerprint is CodeInvalid, and one while the
// first still runs is CodeConflict. An answer is remembered only when do
// succeeds, so that a failed request may be repeated with its key.
func (s *Service) Remember(ctx context.Context, key string, fingerprint []byte, do func() ([]byte, error)) (answer []byte, replayed bool, err error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, false, err
	}
	if err := checkIdempotencyKey(key); err != nil {
		return nil, false, err
	}
	sum := sha256.Sum256([]byte(id.Subject + "\n" + key))
	recKey := idempotencyKey(id.Tenant, hex.EncodeToString(sum[:]))
	fp := hex.EncodeToString(fingerprint)
	pending, err := json.Marshal(idempotencyRecord{Fingerprint: fp, State: "pending", At: s.now()})
	if err != nil {
		return nil, false, fmt.Errorf("vault: idempotency: %w", err)
	}
	err = s.records.Create(ctx, recKey, pending, nil)
	if errors.Is(err, ErrExists) {
		rec, rerr := s.idempotencyRecord(ctx, recKey)
		switch {
		case rerr != nil:
			return nil, false, rerr
		case rec.Fingerprint != fp:
			return nil, false, &Error{Code: CodeKeyReused, Message: "this Idempotency-Key was used for a different request; use a new key for a new request",
				Fields: []FieldError{{Pointer: "/Idempotency-Key", Detail: "was first used for another request"}}}
		case rec.State == "done":
			return rec.Answer, true, nil
		case rec.State == "pending" && s.now().Sub(rec.At) < pendingFor:
			return nil, false, errorf(CodeInProgress, "a request with this Idempotency-Key is still being answered; repeat it in a moment")
		}
		// Failed, or abandoned: run it again.
		err = s.records.Put(ctx, recKey, pending)
	}
	if err != nil {
		return nil, false, fmt.Errorf("vault: idempotency: %w", err)
	}
	answer, err = do()
	if err != nil {
		if failed, merr := json.Marshal(idempotencyRecord{Fingerprint: fp, State: "failed", At: s.now()}); merr == nil {
			if perr := s.records.Put(ctx, recKey, failed); perr != nil {
				s.log.WarnContext(ctx, "idempotency: could not release the key", "err", perr)
			}
		}
		return nil, false, err
	}
	done, err := s.signedJSON(ctx, idempotencyType, idempotencyRecord{Fingerprint: fp, State: "done", At: s.now(), Answer: answer})
	if err == nil {
		err = s.records.Put(ctx, recKey, done)
	}
	if err != nil {
		// The request succeeded; only its replay is lost.
		s.log.WarnContext(ctx, "idempotency: could not remember the answer", "err", err)
	}
	return answer, false, nil
}

// idempotencyRecord reads a key's record: pending and failed ones are
// plain, a done one must be signed by the vault, since it is replayed.
func (s *Service) idempotencyRecord(ctx context.Context, key string) (idempotencyRecord, error) {
	data, err := s.records.Get(ctx, key)
	if err != nil {
		return idempotencyRecord{}, fmt.Errorf("vault: idempotency: %w", err)
	}
	var rec idempotencyRecord
	if err := json.Unmarshal(data, &rec); err == nil && rec.State != "done" && rec.State != "" {
		return rec, nil
	}
	rec = idempotencyRecord{}
	if err := s.openSignedJSON(ctx, idempotencyType, data, &rec); err != nil || rec.State != "done" {
		return idempotencyRecord{}, &Error{Code: CodeTampered, Message: "the remembered answer " + key + " is not the vault's", Err: err}
	}
	return rec, nil
}

// checkIdempotencyKey: 1 to 255 printable ASCII characters.
func checkIdempotencyKey(key string) error {
	ok := len(key) >= 1 && len(key) <= MaxIdempotencyKey
	for i := 0; ok && i < len(key); i++ {
		ok = key[i] > ' ' && key[i] < 0x7f
	}
	if !ok {
		return &Error{Code: CodeInvalid, Message: "the Idempotency-Key header is malformed",
			Fields: []FieldError{{Pointer: "/Idempotency-Key", Detail: fmt.Sprintf("must be 1 to %d printable ASCII characters, such as a UUID", MaxIdempotencyKey)}}}
	}
	return nil
}
