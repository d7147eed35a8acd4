package ledger

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Signer signs checkpoints: ECDSA P-256 over the SHA-256 of msg, the
// signature ASN.1 DER (what a local key and AWS KMS's ECDSA_SHA_256 give).
type Signer interface {
	Public() crypto.PublicKey
	Sign(ctx context.Context, msg []byte) ([]byte, error)
}

// noteKeyHash is the C2SP signed-note key ID of an ECDSA key (signature
// type 0x02): the first four bytes of the SHA-256 of its DER
// SubjectPublicKeyInfo.
func noteKeyHash(pub *ecdsa.PublicKey) (uint32, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return 0, fmt.Errorf("ledger: note key: %w", err)
	}
	sum := sha256.Sum256(der)
	return binary.BigEndian.Uint32(sum[:4]), nil
}

// noteSigner adapts a Signer to note.Signer for one call of note.Sign:
// note's interface has no context, so the signing call's context is carried
// here for that call only.
type noteSigner struct {
	ctx  context.Context
	name string
	hash uint32
	s    Signer
}

func newNoteSigner(ctx context.Context, name string, s Signer) (*noteSigner, error) {
	pub, ok := s.Public().(*ecdsa.PublicKey)
	if !ok {
		return nil, errors.New("ledger: checkpoint signer is not an ECDSA key")
	}
	h, err := noteKeyHash(pub)
	if err != nil {
		return nil, err
	}
	return &noteSigner{ctx: ctx, name: name, hash: h, s: s}, nil
}

func (n *noteSigner) Name() string    { return n.name }
func (n *noteSigner) KeyHash() uint32 { return n.hash }

// Sign returns an ASN.1 ECDSA signature over SHA-256 of msg, as the
// transparency-dev witness format (type 0x02) has it.
func (n *noteSigner) Sign(msg []byte) ([]byte, error) { return n.s.Sign(n.ctx, msg) }

// SignCheckpoint returns the checkpoint as a signed note, signed under the
// key name origin.
func SignCheckpoint(ctx context.Context, s Signer, c Checkpoint) ([]byte, error) {
	ns, err := newNoteSigner(ctx, c.Origin, s)
	if err != nil {
		return nil, err
	}
	signed, err := note.Sign(&note.Note{Text: string(c.Text())}, ns)
	if err != nil {
		return nil, fmt.Errorf("ledger: sign checkpoint: %w", err)
	}
	return signed, nil
}

// ecdsaVerifier is a note.Verifier for one ECDSA key under one name.
type ecdsaVerifier struct {
	name string
	hash uint32
	key  *ecdsa.PublicKey
}

func (v ecdsaVerifier) Name() string    { return v.name }
func (v ecdsaVerifier) KeyHash() uint32 { return v.hash }
func (v ecdsaVerifier) Verify(msg, sig []byte) bool {
	sum := sha256.Sum256(msg)
	return ecdsa.VerifyASN1(v.key, sum[:], sig)
}

// keyring answers note.Open's questions: any of keys, under the name origin.
type keyring struct {
	origin string
	keys   []*ecdsa.PublicKey
}

func (k keyring) Verifier(name string, hash uint32) (note.Verifier, error) {
	if name != k.origin {
		return nil, &note.UnknownVerifierError{Name: name, KeyHash: hash}
	}
	for _, key := range k.keys {
		h, err := noteKeyHash(key)
		if err == nil && h == hash {
			return ecdsaVerifier{name: name, hash: h, key: key}, nil
		}
	}
	return nil, &note.UnknownVerifierError{Name: name, KeyHash: hash}
}

// OpenCheckpoint verifies a signed checkpoint of the log named origin
// against keys and returns its body. The note must carry a valid signature
// by one of keys under the origin's name, and its origin line must be
// origin: a checkpoint of another tenant's log is refused.
func OpenCheckpoint(signed []byte, origin string, keys []*ecdsa.PublicKey) (Checkpoint, error) {
	n, err := note.Open(signed, keyring{origin: origin, keys: keys})
	if err != nil {
		var unknown *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &invalid):
			return Checkpoint{}, fmt.Errorf("%w: checkpoint signature by %s does not hold", ErrInvalid, invalid.Name)
		case errors.As(err, &unknown):
			return Checkpoint{}, fmt.Errorf("%w: checkpoint carries no signature by a known key for %s", ErrInvalid, origin)
		default:
			return Checkpoint{}, fmt.Errorf("%w: signed checkpoint: %v", ErrMalformed, err)
		}
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != origin {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint is for log %q, want %q", ErrInvalid, c.Origin, origin)
	}
	return c, nil
}

// validOrigin reports whether s can be a note key name and a checkpoint
// origin line: non-empty, no spaces and no '+' (note's rule for names).
func validOrigin(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t\n+") && strings.ToValidUTF8(s, "") == s
}

// VerifierKey is the C2SP signed-note verifier key (vkey) of a log's
// checkpoints, name+hash+base64(0x02 || DER SubjectPublicKeyInfo): what a
// witness is configured with to follow the log.
func VerifierKey(origin string, pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("ledger: verifier key: %w", err)
	}
	h, err := noteKeyHash(pub)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s+%08x+%s", origin, h, base64.StdEncoding.EncodeToString(append([]byte{0x02}, der...))), nil
}
