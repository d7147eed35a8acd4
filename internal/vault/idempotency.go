package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/evidencevault/vault/internal/strictjson"
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

// clockSkew is how far apart the clocks of two of the vault's processes
// may be without a repeat of a request being run while the request still
// runs: an attempt is judged by its writer's clock, read by another's.
const clockSkew = 5 * time.Minute

// live reports whether a pending attempt, begun at at by its writer's
// clock, may still be running by this process's clock now. One dated
// further ahead than any skew is no process's attempt, and ends nothing.
func live(now, at time.Time) bool {
	age := now.Sub(at)
	return age > -clockSkew && age < pendingFor+clockSkew
}

// MaxIdempotencyKey bounds a key's length, as Stripe's and the draft's
// examples do.
const MaxIdempotencyKey = 255

// idempotencyRecord is what the vault keeps for one attempt at a key.
type idempotencyRecord struct {
	// Tenant, Subject and Key (the key's hash) bind a remembered answer
	// to whom it was given: a copy at another caller's key is refused.
	Tenant      string    `json:"tenant"`
	Subject     string    `json:"subject"`
	Key         string    `json:"key"`
	Fingerprint string    `json:"fingerprint"`
	State       string    `json:"state"` // pending, failed or done
	At          time.Time `json:"at"`
	// Answer is the remembered answer, as the caller gave it, once done.
	Answer []byte `json:"answer,omitempty"`
}

// Remember runs do at most once for the caller's key: a repeat with the
// same fingerprint gets the answer do gave the first time (replayed true),
// a repeat with another fingerprint is CodeKeyReused, and one while the
// first still runs is CodeInProgress. An answer is remembered only when
// do succeeds, so that a failed request may be repeated with its key
// (corrected, too). Each attempt at a key is an object of its own, created
// only if absent, so that of concurrent repeats of a failed or abandoned
// request exactly one runs. Only callers who may still write get an
// answer replayed.
func (s *Service) Remember(ctx context.Context, key string, fingerprint []byte, do func() ([]byte, error)) (answer []byte, replayed bool, err error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, false, err
	}
	if !id.CanWrite() {
		return nil, false, errorf(CodeForbidden, "role %s may not create", id.Role)
	}
	return s.remember(ctx, id, key, fingerprint, do)
}

// RememberReading is Remember for a request any reader of dossier may make
// (the snapshot an export logs): only callers who may still read it get
// an answer replayed.
func (s *Service) RememberReading(ctx context.Context, dossier, key string, fingerprint []byte, do func() ([]byte, error)) (answer []byte, replayed bool, err error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, false, err
	}
	if _, err := s.readableDossier(ctx, id, dossier); err != nil {
		return nil, false, err
	}
	return s.remember(ctx, id, key, fingerprint, do)
}

func (s *Service) remember(ctx context.Context, id Identity, key string, fingerprint []byte, do func() ([]byte, error)) (answer []byte, replayed bool, err error) {
	if err := checkIdempotencyKey(key); err != nil {
		return nil, false, err
	}
	sum := sha256.Sum256([]byte(id.Subject + "\n" + key))
	hash := hex.EncodeToString(sum[:])
	prefix := idempotencyPrefix(id.Tenant, hash)
	fp := hex.EncodeToString(fingerprint)
	rec := idempotencyRecord{Tenant: id.Tenant, Subject: id.Subject, Key: hash, Fingerprint: fp}
	attempt, last, err := s.lastAttempt(ctx, prefix, rec)
	if err != nil {
		return nil, false, err
	}
	if last != nil {
		switch {
		case last.State == "done" && last.Fingerprint != fp, last.State == "pending" && last.Fingerprint != fp && live(s.now(), last.At):
			return nil, false, &Error{Code: CodeKeyReused, Message: "this Idempotency-Key was used for a different request; use a new key for a new request",
				Fields: []FieldError{{Pointer: "/Idempotency-Key", Detail: "was first used for another request"}}}
		case last.State == "done":
			return last.Answer, true, nil
		case last.State == "pending" && live(s.now(), last.At):
			return nil, false, errorf(CodeInProgress, "a request with this Idempotency-Key is still being answered; repeat it in a moment")
		}
		// Failed, or abandoned: a new attempt.
	}
	attempt++
	attemptKey := prefix + fmt.Sprintf("%06d.json", attempt)
	rec.State, rec.At = "pending", s.now()
	pending, err := json.Marshal(rec)
	if err != nil {
		return nil, false, fmt.Errorf("vault: idempotency: %w", err)
	}
	if err := s.transient.create(ctx, attemptKey, pending); errors.Is(err, ErrExists) {
		return nil, false, errorf(CodeInProgress, "a request with this Idempotency-Key is being answered; repeat it in a moment")
	} else if err != nil {
		return nil, false, fmt.Errorf("vault: idempotency: %w", err)
	}
	answer, err = do()
	if err != nil {
		rec.State, rec.At = "failed", s.now()
		if failed, merr := json.Marshal(rec); merr == nil {
			if perr := s.transient.put(ctx, attemptKey, failed); perr != nil {
				s.log.WarnContext(ctx, "idempotency: could not release the key", "err", perr)
			}
		}
		return nil, false, err
	}
	rec.State, rec.At, rec.Answer = "done", s.now(), answer
	done, err := s.signedJSON(ctx, idempotencyType, rec)
	if err == nil {
		err = s.transient.put(ctx, attemptKey, done)
	}
	if err != nil {
		// The request succeeded; only its replay is lost.
		s.log.WarnContext(ctx, "idempotency: could not remember the answer", "err", err)
	}
	return answer, false, nil
}

// lastAttempt reads the newest attempt at a key: its number (0 for none)
// and record. Pending and failed records are plain; a done one must be
// signed by the vault and bound to this caller and key, since it is
// replayed. Anything else there is someone else's and is taken as a failed
// attempt: a new one starts above it.
func (s *Service) lastAttempt(ctx context.Context, prefix string, want idempotencyRecord) (int, *idempotencyRecord, error) {
	keys, err := s.transient.list(ctx, prefix)
	if err != nil {
		return 0, nil, fmt.Errorf("vault: idempotency: %w", err)
	}
	n := 0
	var name string
	for _, key := range keys {
		var k int
		if _, err := fmt.Sscanf(strings.TrimPrefix(key, prefix), "%06d.json", &k); err == nil && k > n {
			n, name = k, key
		}
	}
	if n == 0 {
		return 0, nil, nil
	}
	data, err := s.transient.get(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return n, &idempotencyRecord{State: "failed"}, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("vault: idempotency: %w", err)
	}
	var rec idempotencyRecord
	bound := func(r idempotencyRecord) bool {
		return r.Tenant == want.Tenant && r.Subject == want.Subject && r.Key == want.Key
	}
	if err := strictjson.Unmarshal(data, &rec); err == nil && (rec.State == "pending" || rec.State == "failed") && bound(rec) {
		return n, &rec, nil
	}
	rec = idempotencyRecord{}
	if err := s.openSignedJSON(ctx, idempotencyType, data, &rec); err == nil && rec.State == "done" && bound(rec) {
		return n, &rec, nil
	}
	s.log.WarnContext(ctx, "idempotency: an attempt record the vault did not write; starting another", "object", name)
	return n, &idempotencyRecord{State: "failed"}, nil
}

// checkIdempotencyKey: 1 to 255 printable ASCII characters.
func checkIdempotencyKey(key string) error {
	ok := len(key) >= 1 && len(key) <= MaxIdempotencyKey
	for i := 0; ok && i < len(key); i++ {
		// No comma: proxies (API Gateway among them) join repeated
		// headers with one, so a key holding one may be two keys.
		ok = key[i] > ' ' && key[i] < 0x7f && key[i] != ','
	}
	if !ok {
		return &Error{Code: CodeInvalid, Message: "the Idempotency-Key header is malformed",
			Fields: []FieldError{{Pointer: "/Idempotency-Key", Detail: fmt.Sprintf("must be 1 to %d printable ASCII characters but a comma, such as a UUID", MaxIdempotencyKey)}}}
	}
	return nil
}
