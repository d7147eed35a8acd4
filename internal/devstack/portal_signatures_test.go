package devstack_test

import (
	"crypto"
	"crypto/rand"
	"encoding/asn1"
	"io"
	"math/big"
)

// mangledSigner signs as k does, then rewrites the signature with f.
type mangledSigner struct {
	k crypto.Signer
	f func([]byte) []byte
}

func (s mangledSigner) Public() crypto.PublicKey { return s.k.Public() }
func (s mangledSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	for {
		b, err := s.k.Sign(r, d, o)
		if err != nil {
			return nil, err
		}
		if out := s.f(b); out != nil {
			return out, nil
		}
	}
}

// ecdsaRS reads an ECDSA signature's r and s.
func ecdsaRS(b []byte) (r, s *big.Int) {
	var v struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(b, &v); err != nil {
		panic(err)
	}
	return v.R, v.S
}

func intBody(x *big.Int) []byte { b, _ := asn1.Marshal(x); return b[2:] }

// Mangles of a DER ECDSA signature; nil asks for another signature.
var (
	sigTrailing = func(b []byte) []byte { return append(append([]byte{}, b...), 0, 0) }
	sigPadR     = func(b []byte) []byte {
		r, s := ecdsaRS(b)
		if r.BitLen()%8 == 0 {
			return nil // r's top bit clear, so that 00 r is not minimal
		}
		return tokTLV(0x30, tokTLV(2, append([]byte{0}, intBody(r)...)), tokTLV(2, intBody(s)))
	}
	sigNegR = func(b []byte) []byte {
		r, s := ecdsaRS(b)
		if r.BitLen()%8 != 0 {
			return nil
		}
		return tokTLV(0x30, tokTLV(2, r.Bytes()), tokTLV(2, intBody(s)))
	}
	sigNegS = func(b []byte) []byte {
		r, s := ecdsaRS(b)
		if s.BitLen()%8 != 0 {
			return nil
		}
		return tokTLV(0x30, tokTLV(2, intBody(r)), tokTLV(2, s.Bytes()))
	}
	sigIndefinite = func(b []byte) []byte {
		return append(append([]byte{0x30, 0x80}, b[2:]...), 0, 0)
	}
	sigLongLen = func(b []byte) []byte {
		return append([]byte{0x30, 0x81, b[1]}, b[2:]...)
	}
)

// bigRSA is a multi-prime RSA key whose modulus has exactly bits bits
// (what verifiers see is n and e alone).
func bigRSA(bits int) *manualRSA {
	e := big.NewInt(65537)
	one := big.NewInt(1)
	for {
		n, phi := big.NewInt(1), big.NewInt(1)
		for n.BitLen() < bits-1100 {
			p, _ := rand.Prime(rand.Reader, 1024)
			n.Mul(n, p)
			phi.Mul(phi, new(big.Int).Sub(p, one))
		}
		p, _ := rand.Prime(rand.Reader, bits-n.BitLen())
		n.Mul(n, p)
		phi.Mul(phi, new(big.Int).Sub(p, one))
		if n.BitLen() != bits {
			continue
		}
		d := new(big.Int).ModInverse(e, phi)
		if d == nil {
			continue
		}
		return &manualRSA{n: n, d: d, e: 65537}
	}
}
