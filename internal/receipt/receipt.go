// Package receipt signs, parses and verifies audit receipts.
//
// A receipt is an in-toto Statement v1
// (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md)
// inside a DSSE envelope
// (https://github.com/secure-systems-lab/dsse/blob/master/envelope.md),
// signed with ECDSA over P-256 and SHA-256: the algorithm an AWS KMS
// ECC_NIST_P256 key uses for ECDSA_SHA_256, so a local key and a KMS key
// produce receipts that verify the same way. Signatures are ASN.1 DER, as
// KMS returns them and as DSSE tooling expects.
//
// The package is pure: no I/O, no clock. It knows statements, envelopes and
// keys; the predicate is the caller's (see vault.ReceiptPredicate).
package receipt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/evidencevault/vault/internal/strictjson"
	ita1 "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"
)

const (
	// PayloadType is the DSSE payload type of in-toto statements.
	PayloadType = "application/vnd.in-toto+json"
	// StatementType is the _type of an in-toto Statement v1.
	StatementType = ita1.StatementTypeUri
	// MaxEnvelopeSize bounds what Parse reads; real receipts are a few KiB.
	MaxEnvelopeSize = 256 << 10
)

// Errors Parse and Verify return; test with errors.Is.
var (
	// ErrMalformed: the bytes are not a DSSE envelope holding an in-toto
	// Statement v1.
	ErrMalformed = errors.New("receipt: malformed")
	// ErrUnknownKey: no signature names a key the verifier was given.
	ErrUnknownKey = errors.New("receipt: signed by an unknown key")
	// ErrBadSignature: a known key's signature does not verify.
	ErrBadSignature = errors.New("receipt: signature does not verify")
)

// Envelope is a DSSE envelope.
type Envelope = dsse.Envelope

// Subject names one artifact the statement is about, by digest.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Statement is an in-toto Statement v1 with a caller-defined predicate.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// DecodePredicate decodes the predicate into v, refusing unknown fields:
// a predicate with fields its schema does not define is not of that schema.
func (st *Statement) DecodePredicate(v any) error {
	if err := strictjson.Unmarshal(st.Predicate, v); err != nil {
		return fmt.Errorf("%w: predicate: %v", ErrMalformed, err)
	}
	return nil
}

// Signer signs receipts: a local PEM key (LocalSigner) or a KMS key. Its
// KeyID must be KeyID(Public()).
type Signer interface {
	dsse.Signer
	Public() crypto.PublicKey
}

// Sign checks st against the in-toto attestation library's rules and returns
// it signed by s and any others (a key rotation is signed by the outgoing
// and the incoming key), one DSSE signature each.
func Sign(ctx context.Context, st Statement, s Signer, others ...Signer) (*Envelope, error) {
	st.Type = StatementType
	payload, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("receipt: sign: %w", err)
	}
	if err := validate(payload); err != nil {
		return nil, fmt.Errorf("receipt: sign: %w", err)
	}
	signers := []dsse.Signer{s}
	for _, o := range others {
		signers = append(signers, o)
	}
	es, err := dsse.NewEnvelopeSigner(signers...)
	if err != nil {
		return nil, fmt.Errorf("receipt: sign: %w", err)
	}
	env, err := es.SignPayload(ctx, PayloadType, payload)
	if err != nil {
		return nil, fmt.Errorf("receipt: sign: %w", err)
	}
	return env, nil
}

// Parse reads an envelope and its statement without verifying any
// signature. It rejects unknown fields, other payload types and statements
// that are not in-toto v1; every such failure wraps ErrMalformed.
func Parse(data []byte) (*Envelope, *Statement, error) {
	if len(data) > MaxEnvelopeSize {
		return nil, nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxEnvelopeSize)
	}
	var env Envelope
	if err := strictjson.Unmarshal(data, &env); err != nil {
		return nil, nil, fmt.Errorf("%w: envelope: %v", ErrMalformed, err)
	}
	st, err := statement(&env)
	if err != nil {
		return nil, nil, err
	}
	return &env, st, nil
}

func statement(env *Envelope) (*Statement, error) {
	if env.PayloadType != PayloadType {
		return nil, fmt.Errorf("%w: payload type %q, want %q", ErrMalformed, env.PayloadType, PayloadType)
	}
	if len(env.Signatures) == 0 {
		return nil, fmt.Errorf("%w: no signatures", ErrMalformed)
	}
	// dsse decodes leniently (URL-safe too, any trailing bits): one
	// payload or signature could be written many ways. Only the canonical
	// standard encoding is taken, as the portal takes it.
	if !canonicalBase64(env.Payload) {
		return nil, fmt.Errorf("%w: payload is not canonical standard base64", ErrMalformed)
	}
	for i, s := range env.Signatures {
		if !canonicalBase64(s.Sig) {
			return nil, fmt.Errorf("%w: signature %d is not canonical standard base64", ErrMalformed, i)
		}
	}
	payload, err := env.DecodeB64Payload()
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	if err := validate(payload); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var st Statement
	if err := strictjson.Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("%w: statement: %v", ErrMalformed, err)
	}
	if st.Type != StatementType {
		return nil, fmt.Errorf("%w: statement type %q, want %q", ErrMalformed, st.Type, StatementType)
	}
	return &st, nil
}

// validate applies the in-toto attestation library's checks: a v1 type, at
// least one subject, each with a well-formed digest, a predicate type and a
// predicate.
func validate(payload []byte) error {
	var st ita1.Statement
	if err := protojson.Unmarshal(payload, &st); err != nil {
		// protojson puts a random no-break space in its messages so that
		// nobody parses them; an answer should read the same each time.
		return fmt.Errorf("in-toto statement: %s", strings.ReplaceAll(err.Error(), "\u00a0", " "))
	}
	if err := st.Validate(); err != nil {
		return fmt.Errorf("in-toto statement: %v", err)
	}
	return nil
}

// Verify checks env's signature against keys and returns the key that
// signed it with the statement. It returns ErrUnknownKey when no signature
// names one of keys, ErrBadSignature when the named key's signature fails,
// or an error wrapping ErrMalformed.
func Verify(ctx context.Context, env *Envelope, keys []Key) (Key, *Statement, error) {
	st, err := statement(env)
	if err != nil {
		return Key{}, nil, err
	}
	k, err := signedBy(ctx, env, keys)
	return k, st, err
}

// VerifySingle is Verify for an envelope its signer signs once (a
// receipt, a grant, a lifecycle event): one that carries another
// signature beside it is refused, since that one would be served, and
// timestamped, as the record's.
func VerifySingle(ctx context.Context, env *Envelope, keys []Key) (Key, *Statement, error) {
	if n := len(env.Signatures); n != 1 {
		return Key{}, nil, fmt.Errorf("%w: the envelope carries %d signatures; its signer signs it once", ErrMalformed, n)
	}
	return Verify(ctx, env, keys)
}

// signedBy returns the first of keys that a signature of env names, if
// that signature holds: ErrUnknownKey when none names one of keys,
// ErrBadSignature when the named key's does not hold.
func signedBy(ctx context.Context, env *Envelope, keys []Key) (Key, error) {
	for _, sig := range env.Signatures {
		for _, k := range keys {
			if sig.KeyID != k.ID {
				continue
			}
			v, err := dsse.NewEnvelopeVerifier(k.verifier())
			if err != nil {
				return Key{}, fmt.Errorf("receipt: verify: %w", err)
			}
			one := *env
			one.Signatures = []dsse.Signature{sig}
			if _, err := v.Verify(ctx, &one); err != nil {
				return k, fmt.Errorf("%w (key %s)", ErrBadSignature, k.ID)
			}
			return k, nil
		}
	}
	return Key{}, ErrUnknownKey
}

// VerifyAll checks that every one of keys has a signature on env that
// holds: a key rotation must be signed by both keys. It returns the
// statement, or an error wrapping ErrUnknownKey (a key signed nothing) or
// ErrBadSignature.
func VerifyAll(ctx context.Context, env *Envelope, keys ...Key) (*Statement, error) {
	var st *Statement
	for _, k := range keys {
		got, s, err := Verify(ctx, env, []Key{k})
		if err != nil {
			return nil, fmt.Errorf("%w (key %s)", err, k.ID)
		}
		if got.ID != k.ID {
			return nil, fmt.Errorf("%w (key %s)", ErrUnknownKey, k.ID)
		}
		st = s
	}
	return st, nil
}

// Marshal returns the envelope as stored and served: indented JSON.
func Marshal(env *Envelope) ([]byte, error) {
	return json.MarshalIndent(env, "", "  ")
}

// P256 reports whether pub is an ECDSA P-256 public key.
func p256(pub crypto.PublicKey) (*ecdsa.PublicKey, bool) {
	k, ok := pub.(*ecdsa.PublicKey)
	return k, ok && k.Curve.Params().Name == "P-256"
}

// canonicalBase64 reports whether s is the one standard, padded base64
// encoding of its bytes (Strict still skips newlines: they are refused).
func canonicalBase64(s string) bool {
	_, err := base64.StdEncoding.Strict().DecodeString(s)
	return err == nil && !strings.ContainsAny(s, "\r\n")
}

// Payload returns the envelope's payload, the statement exactly as signed.
func Payload(env *Envelope) ([]byte, error) {
	p, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: envelope payload is not base64", ErrMalformed)
	}
	return p, nil
}

// SignPayload signs an arbitrary payload of payloadType as a DSSE
// envelope: for records the vault signs that are not statements.
func SignPayload(ctx context.Context, payloadType string, payload []byte, s Signer) (*Envelope, error) {
	es, err := dsse.NewEnvelopeSigner(s)
	if err != nil {
		return nil, fmt.Errorf("receipt: sign: %w", err)
	}
	env, err := es.SignPayload(ctx, payloadType, payload)
	if err != nil {
		return nil, fmt.Errorf("receipt: sign: %w", err)
	}
	return env, nil
}

// OpenPayload parses a DSSE envelope of payloadType, checks that one of
// keys signed it and returns its payload: ErrMalformed for anything else
// than such an envelope, ErrUnknownKey or ErrBadSignature for the rest.
func OpenPayload(ctx context.Context, data []byte, payloadType string, keys []Key) ([]byte, error) {
	if len(data) > MaxEnvelopeSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxEnvelopeSize)
	}
	var env Envelope
	if err := strictjson.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("%w: envelope: %v", ErrMalformed, err)
	}
	if env.PayloadType != payloadType || len(env.Signatures) == 0 {
		return nil, fmt.Errorf("%w: not a %s envelope", ErrMalformed, payloadType)
	}
	if _, err := signedBy(ctx, &env, keys); err != nil {
		return nil, err
	}
	return env.DecodeB64Payload()
}
