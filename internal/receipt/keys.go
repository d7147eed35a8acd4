package receipt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/secure-systems-lab/go-securesystemslib/signerverifier"
)

// Algorithm names the signature scheme of every vault key, in the words of
// securesystemslib (and of AWS KMS: ECDSA_SHA_256 on ECC_NIST_P256).
const Algorithm = "ecdsa-sha2-nistp256"

// Key is a public key that signs receipts, named by its key id.
type Key struct {
	ID     string
	Public *ecdsa.PublicKey
}

// KeyID names a public key by the SHA-256 of its DER SubjectPublicKeyInfo,
// in hex: what `openssl pkey -pubin -outform DER | sha256sum` prints, and
// the same whether the key lives in a PEM file or in KMS.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("receipt: key id: %w", err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// NewKey returns the Key of an ECDSA P-256 public key.
func NewKey(pub crypto.PublicKey) (Key, error) {
	k, ok := p256(pub)
	if !ok {
		return Key{}, errors.New("receipt: key is not an ECDSA P-256 public key")
	}
	id, err := KeyID(k)
	if err != nil {
		return Key{}, err
	}
	return Key{ID: id, Public: k}, nil
}

// ParsePublicKey reads a PEM "PUBLIC KEY" block (SubjectPublicKeyInfo).
func ParsePublicKey(pemBytes []byte) (Key, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "PUBLIC KEY" {
		return Key{}, errors.New("receipt: no PEM PUBLIC KEY block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return Key{}, fmt.Errorf("receipt: public key: %w", err)
	}
	return NewKey(pub)
}

// PEM encodes the key as a PEM "PUBLIC KEY" block.
func (k Key) PEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(k.Public)
	if err != nil {
		panic("receipt: marshal of a P-256 public key failed: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// verifier adapts k to securesystemslib's ECDSA verifier, the one DSSE
// tooling uses.
func (k Key) verifier() dsse.Verifier {
	sv, err := signerverifier.NewECDSASignerVerifierFromSSLibKey(&signerverifier.SSLibKey{
		KeyID:   k.ID,
		KeyType: signerverifier.ECDSAKeyType,
		Scheme:  signerverifier.ECDSAKeyScheme,
		KeyVal:  signerverifier.KeyVal{Public: string(k.PEM())},
	})
	if err != nil {
		panic("receipt: a P-256 key was refused by securesystemslib: " + err.Error())
	}
	return sv
}

// LocalSigner signs with an ECDSA P-256 private key held in memory: the dev
// and test signer, and a fallback where no KMS key is configured.
type LocalSigner struct {
	key Key
	sv  *signerverifier.ECDSASignerVerifier
}

// NewLocalSigner reads a PEM private key (PKCS #8 or SEC 1 "EC PRIVATE KEY").
func NewLocalSigner(pemBytes []byte) (*LocalSigner, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("receipt: signing key: no PEM block")
	}
	var priv any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		priv, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("receipt: signing key: PEM block %q, want PRIVATE KEY", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("receipt: signing key: %w", err)
	}
	ec, ok := priv.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("receipt: signing key is not an ECDSA key")
	}
	key, err := NewKey(&ec.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("receipt: signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		return nil, fmt.Errorf("receipt: signing key: %w", err)
	}
	sv, err := signerverifier.NewECDSASignerVerifierFromSSLibKey(&signerverifier.SSLibKey{
		KeyID:   key.ID,
		KeyType: signerverifier.ECDSAKeyType,
		Scheme:  signerverifier.ECDSAKeyScheme,
		KeyVal: signerverifier.KeyVal{
			Public:  string(key.PEM()),
			Private: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("receipt: signing key: %w", err)
	}
	return &LocalSigner{key: key, sv: sv}, nil
}

// GenerateKey returns a new P-256 private key as PEM (PKCS #8).
func GenerateKey() ([]byte, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("receipt: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("receipt: generate key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// Sign returns an ASN.1 DER ECDSA signature over SHA-256(data).
func (s *LocalSigner) Sign(ctx context.Context, data []byte) ([]byte, error) {
	return s.sv.Sign(ctx, data)
}

// KeyID returns KeyID of the public key.
func (s *LocalSigner) KeyID() (string, error) { return s.key.ID, nil }

// Public returns the public key.
func (s *LocalSigner) Public() crypto.PublicKey { return s.key.Public }

// Key returns the signer's public Key.
func (s *LocalSigner) Key() Key { return s.key }

// PublicKeys returns the public halves of keys, as checkpoint verification
// takes them.
func PublicKeys(keys []Key) []*ecdsa.PublicKey {
	out := make([]*ecdsa.PublicKey, len(keys))
	for i, k := range keys {
		out[i] = k.Public
	}
	return out
}

// GenerateSigner returns a LocalSigner with a new P-256 key: for tests and
// a development stack's first run.
func GenerateSigner() (*LocalSigner, error) {
	key, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	return NewLocalSigner(key)
}

// TwinSignature returns the other ECDSA P-256 signature, (r, n−s), that
// verifies wherever the DER signature (r, s) does: anyone can make it
// from the first, without the key. Whatever binds a signature's bytes,
// as a timestamp does, must reckon with its twin.
func TwinSignature(der []byte) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: the signature is not one DER ECDSA signature", ErrMalformed)
	}
	n := elliptic.P256().Params().N
	if sig.R.Sign() <= 0 || sig.S.Sign() <= 0 || sig.R.Cmp(n) >= 0 || sig.S.Cmp(n) >= 0 {
		return nil, fmt.Errorf("%w: the signature's r or s is out of range", ErrMalformed)
	}
	sig.S.Sub(n, sig.S)
	return asn1.Marshal(sig)
}
