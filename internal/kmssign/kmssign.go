// Package kmssign adapts AWS KMS to the vault's receipt.Signer: receipts and
// log checkpoints are signed by an asymmetric KMS key (ECC_NIST_P256,
// SIGN_VERIFY) whose private half never leaves KMS. Signatures are the same
// ASN.1 DER ECDSA P-256 SHA-256 signatures the local signer makes, so a
// receipt verifies the same way whichever signer made it.
package kmssign

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/evidencevault/vault/internal/receipt"
)

// API is the part of the KMS client the signer uses.
type API interface {
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, opts ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
	Sign(ctx context.Context, in *kms.SignInput, opts ...func(*kms.Options)) (*kms.SignOutput, error)
}

// Signer signs with one KMS key.
type Signer struct {
	api   API
	keyID string // as configured: key id, ARN or alias
	key   receipt.Key
}

// New reads the public key of the KMS key keyID and returns its signer. It
// refuses keys that are not ECC_NIST_P256 for signing with ECDSA_SHA_256.
func New(ctx context.Context, api API, keyID string) (*Signer, error) {
	out, err := api.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: &keyID})
	if err != nil {
		return nil, fmt.Errorf("kmssign: public key of %s: %w", keyID, err)
	}
	if out.KeyUsage != types.KeyUsageTypeSignVerify || out.KeySpec != types.KeySpecEccNistP256 {
		return nil, fmt.Errorf("kmssign: key %s is %s for %s; receipts need ECC_NIST_P256 for SIGN_VERIFY", keyID, out.KeySpec, out.KeyUsage)
	}
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("kmssign: public key of %s: %w", keyID, err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("kmssign: key %s is not an ECDSA P-256 key", keyID)
	}
	key, err := receipt.NewKey(ec)
	if err != nil {
		return nil, fmt.Errorf("kmssign: %w", err)
	}
	return &Signer{api: api, keyID: keyID, key: key}, nil
}

// Sign returns KMS's ECDSA P-256 signature over SHA-256(data). Only the
// digest is sent: KMS accepts at most 4 KiB of message, and the vault's
// statements can be larger.
func (s *Signer) Sign(ctx context.Context, data []byte) ([]byte, error) {
	digest := sha256.Sum256(data)
	out, err := s.api.Sign(ctx, &kms.SignInput{
		KeyId:            &s.keyID,
		Message:          digest[:],
		MessageType:      types.MessageTypeDigest,
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256,
	})
	if err != nil {
		return nil, fmt.Errorf("kmssign: sign with %s: %w", s.keyID, err)
	}
	// A signature that does not verify would make receipts nobody can
	// check; refuse it here rather than publish it.
	if !ecdsa.VerifyASN1(s.key.Public, digest[:], out.Signature) {
		return nil, errors.New("kmssign: KMS returned a signature that does not verify under the key's public key")
	}
	return out.Signature, nil
}

// KeyID returns the receipt key id: the SHA-256 of the public key.
func (s *Signer) KeyID() (string, error) { return s.key.ID, nil }

// Public returns the public key.
func (s *Signer) Public() crypto.PublicKey { return s.key.Public }
