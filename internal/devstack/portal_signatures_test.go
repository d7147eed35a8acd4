package devstack_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"testing"
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

// sigRS rewrites an ECDSA signature's r and s with f, written as minimal
// DER; f's nil asks for another signature.
func sigRS(f func(r, s *big.Int) (*big.Int, *big.Int)) func([]byte) []byte {
	return func(b []byte) []byte {
		r, s := f(ecdsaRS(b))
		if r == nil {
			return nil
		}
		out, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		if err != nil {
			panic(err)
		}
		return out
	}
}

// ecdsaRanges are r and s out of [1, n-1], each the way a verifier that
// reduces or pads would take it, and the high s every verifier takes.
func ecdsaRanges(n *big.Int) []struct {
	name  string
	f     func([]byte) []byte
	taken bool
} {
	zero := new(big.Int)
	add := func(a *big.Int) *big.Int { return new(big.Int).Add(a, n) }
	return []struct {
		name  string
		f     func([]byte) []byte
		taken bool
	}{
		{"r = 0", sigRS(func(r, s *big.Int) (*big.Int, *big.Int) { return zero, s }), false},
		{"s = 0", sigRS(func(r, s *big.Int) (*big.Int, *big.Int) { return r, zero }), false},
		{"r = n", sigRS(func(r, s *big.Int) (*big.Int, *big.Int) { return n, s }), false},
		{"r + n", sigRS(func(r, s *big.Int) (*big.Int, *big.Int) { return add(r), s }), false},
		{"s + n", sigRS(func(r, s *big.Int) (*big.Int, *big.Int) { return r, add(s) }), false},
		{"n - s (high s, which ECDSA allows)", sigRS(func(r, s *big.Int) (*big.Int, *big.Int) { return r, new(big.Int).Sub(n, s) }), true},
	}
}

// rsaPlusN is an RSA signature s as s + N, which raised to e modulo N is
// what s is; nil if it needs more bytes than the modulus.
func rsaPlusN(n *big.Int) func([]byte) []byte {
	return func(b []byte) []byte {
		v := new(big.Int).Add(new(big.Int).SetBytes(b), n)
		if (v.BitLen()+7)/8 > len(b) {
			return nil
		}
		return v.FillBytes(make([]byte, len(b)))
	}
}

// rsaLong is an RSA signature with a zero byte before it: its value, one
// byte longer than the modulus.
func rsaLong(b []byte) []byte { return append([]byte{0}, b...) }

// TestPortalMatchesGoOnSignatureRanges: signatures whose encoding is
// sound but whose values are out of range, or whose length is not the
// modulus's. Go's verifiers refuse an RSA signature of other than the
// modulus's length or not below N, and an ECDSA r or s outside [1, n-1];
// a verifier that pads, reduces or takes the low bytes would take some.
// On the token's own signature and on a chain's links, for RSA and for
// P-256 and P-521 (whose n + r still fits the 66 bytes of a coordinate).
func TestPortalMatchesGoOnSignatureRanges(t *testing.T) {
	g, b := tokenStack(t)
	env, ctx := g.env, context.Background()
	rc := g.rc
	none, ts := []string{}, []string{"timestamp"}
	content := g.tstNow().bytes()
	verdict := func(taken bool) []string {
		if taken {
			return none
		}
		return ts
	}
	var cases []opCase

	// ECDSA: the token's signature, and a signer's certificate signed by
	// its CA, on P-256 and on P-521.
	k521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	p521Leaf := issueKey(t, rc.root.cert, rc.root.key, k521.Public(), 7000, "P-521 TSA", false, nil)
	p521CA := issueKey(t, rc.root.cert, rc.root.key, k521.Public(), 7001, "P-521 CA", true, nil)
	ecdsaWith := func(ids ...int) []byte { return tokTLV(0x30, tokOID(ids...)) }
	for _, c := range []struct {
		curve  string
		leaf   *x509.Certificate
		key    *ecdsa.PrivateKey
		hash   crypto.Hash
		digest []byte
		alg    []byte
		ca     *x509.Certificate
	}{
		{"P-256", rc.proper.cert, rc.proper.key, crypto.SHA256, tokOIDsha256, ecdsaWith(1, 2, 840, 10045, 4, 3, 2), rc.root.cert},
		{"P-521", p521Leaf, k521, crypto.SHA512, tokOID(2, 16, 840, 1, 101, 3, 4, 2, 3), ecdsaWith(1, 2, 840, 10045, 4, 3, 4), p521CA},
	} {
		caKey := rc.root.key
		if c.ca != rc.root.cert {
			caKey = k521
		}
		for i, m := range ecdsaRanges(c.key.Params().N) {
			tok := tokSignKey(t, keyLeaf{c.leaf, mangledSigner{c.key, m.f}}, content, c.hash, c.digest, c.alg)
			cases = append(cases, opCase{fmt.Sprintf("the token's %s signature with %s", c.curve, m.name), g.stamped(tok.bytes()), verdict(m.taken)})
			base := issueKey(t, c.ca, caKey, rc.proper.key.Public(), int64(7100+100*len(cases)+i), "Signer under a "+c.curve+" CA", false, nil)
			l := tokLeaf{resignAny(t, base, mangledSigner{caKey, m.f}, nil, c.hash, nil), rc.proper.key}
			cases = append(cases, opCase{fmt.Sprintf("a signer's certificate signed by a %s CA with %s", c.curve, m.name), g.carrying(t, l, content, l.cert, c.ca), verdict(m.taken)})
		}
	}

	// RSA: a 2048-bit key, and one of 2047 bits, whose s + N always fits
	// the modulus's 256 bytes.
	rsaAlg := tokTLV(0x30, tokOID(1, 2, 840, 113549, 1, 1, 11), []byte{5, 0})
	k2048, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k2047 := bigRSA(2047)
	for _, c := range []struct {
		bits   int
		key    crypto.Signer
		n      *big.Int
		serial int64
	}{{2048, k2048, k2048.N, 8000}, {2047, k2047, k2047.n, 8100}} {
		serial := c.serial
		leaf := issueKey(t, rc.root.cert, rc.root.key, c.key.Public(), serial, fmt.Sprintf("RSA-%d TSA", c.bits), false, nil)
		ca := issueKey(t, rc.root.cert, rc.root.key, c.key.Public(), serial+1, fmt.Sprintf("RSA-%d CA", c.bits), true, nil)
		token := func(f func([]byte) []byte) []byte {
			var k crypto.Signer = c.key
			if f != nil {
				k = mangledSigner{c.key, f}
			}
			return g.stamped(tokSignKey(t, keyLeaf{leaf, k}, content, crypto.SHA256, tokOIDsha256, rsaAlg).bytes())
		}
		link := func(serial int64, f func([]byte) []byte) []byte {
			base := issueKey(t, ca, c.key, rc.proper.key.Public(), serial, fmt.Sprintf("Signer under an RSA-%d CA", c.bits), false, nil)
			var k crypto.Signer = c.key
			if f != nil {
				k = mangledSigner{c.key, f}
			}
			l := tokLeaf{resignAny(t, base, k, nil, crypto.SHA256, nil), rc.proper.key}
			return g.carrying(t, l, content, l.cert, ca)
		}
		// RSA PKCS #1 v1.5 signs deterministically: a signature that
		// starts with a zero byte is found by changing what is signed.
		shortToken := func() []byte {
			for i := 0; ; i++ {
				x := g.tstNow()
				x.serial = tokInt(int64(i))
				tok := tokSignKey(t, keyLeaf{leaf, c.key}, x.bytes(), crypto.SHA256, tokOIDsha256, rsaAlg)
				s := tokParse(t, tok.sig).body
				if s[0] == 0 {
					tok.sig = tokTLV(4, s[1:])
					return g.stamped(tok.bytes())
				}
			}
		}
		shortLink := func() []byte {
			for i := int64(1); ; i++ {
				base := issueKey(t, ca, c.key, rc.proper.key.Public(), serial*1000+i, fmt.Sprintf("Signer under an RSA-%d CA", c.bits), false, nil)
				sig := base.Signature
				if sig[0] != 0 {
					continue
				}
				l := tokLeaf{resignAny(t, base, mangledSigner{c.key, func(b []byte) []byte { return b[1:] }}, nil, crypto.SHA256, nil), rc.proper.key}
				return g.carrying(t, l, content, l.cert, ca)
			}
		}
		name := fmt.Sprintf("RSA-%d", c.bits)
		cases = append(cases,
			opCase{"the token's " + name + " signature (control)", token(nil), none},
			opCase{"the token's " + name + " signature with a zero byte before it", token(rsaLong), ts},
			opCase{"the token's " + name + " signature without its leading zero byte", shortToken(), ts},
			opCase{"a signer's certificate signed by an " + name + " CA (control)", link(serial+2, nil), none},
			opCase{"a signer's certificate signed by an " + name + " CA with a zero byte before it", link(serial+3, rsaLong), ts},
			opCase{"a signer's certificate signed by an " + name + " CA without its leading zero byte", shortLink(), ts},
		)
		if c.bits == 2047 {
			cases = append(cases,
				opCase{"the token's " + name + " signature as s + N", token(rsaPlusN(c.n)), ts},
				opCase{"a signer's certificate signed by an " + name + " CA as s + N", link(serial+4, rsaPlusN(c.n)), ts},
			)
		}
	}
	compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), cases)
}
