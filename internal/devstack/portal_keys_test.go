package devstack_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"
	"math/big"
	"slices"
	"testing"
	"time"
)

// keyLeaf is a time-stamping certificate with any signing key.
type keyLeaf struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// issueKey issues a certificate for pub under parent (a CA key of any
// kind), a time-stamping leaf or a CA if ca, with f's changes.
func issueKey(t *testing.T, parent *x509.Certificate, pkey crypto.Signer, pub crypto.PublicKey, serial int64, name string, ca bool, f func(*x509.Certificate)) *x509.Certificate {
	t.Helper()
	now := time.Now().UTC()
	eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}}
	if ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage, tmpl.ExtraExtensions = true, true, x509.KeyUsageCertSign, nil
	}
	if f != nil {
		f(tmpl)
	}
	if parent == nil {
		parent = tmpl
	}
	d, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, pkey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(d)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// manualRSA is an RSA key Go's crypto/rsa would not make or use (small
// moduli, large exponents), signing PKCS #1 v1.5 by hand.
type manualRSA struct {
	n, d *big.Int
	e    int
}

func newManualRSA(t *testing.T, bits int, e int64) *manualRSA {
	for {
		p, _ := rand.Prime(rand.Reader, bits/2)
		q, _ := rand.Prime(rand.Reader, bits/2)
		n := new(big.Int).Mul(p, q)
		if n.BitLen() != bits || p.Cmp(q) == 0 {
			continue
		}
		phi := new(big.Int).Mul(new(big.Int).Sub(p, big.NewInt(1)), new(big.Int).Sub(q, big.NewInt(1)))
		d := new(big.Int).ModInverse(big.NewInt(e), phi)
		if d == nil {
			continue
		}
		return &manualRSA{n: n, d: d, e: int(e)}
	}
}

func (k *manualRSA) Public() crypto.PublicKey { return &rsa.PublicKey{N: k.n, E: k.e} }

var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
}

func (k *manualRSA) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	size := (k.n.BitLen() + 7) / 8
	t := append(slices.Clone(digestInfoPrefix[opts.HashFunc()]), digest...)
	em := make([]byte, size)
	em[1] = 1
	for i := 2; i < size-len(t)-1; i++ {
		em[i] = 0xff
	}
	copy(em[size-len(t):], t)
	s := new(big.Int).Exp(new(big.Int).SetBytes(em), k.d, k.n)
	return s.FillBytes(make([]byte, size)), nil
}

// tokSignKey is tokSignHash for any key: ECDSA signs ASN.1, RSA PKCS #1
// tokSignKey signs content with l's key, as the stack's authority does
// (contentType, messageDigest, signingCertificateV2), under hash and
// sigAlg.
func tokSignKey(t *testing.T, l keyLeaf, content []byte, hash crypto.Hash, digestOID, sigAlg []byte) tokToken {
	t.Helper()
	d := hash.New()
	d.Write(content)
	attrs := [][]byte{tokAttr(tokOIDct, tokOIDtst), tokAttr(tokOIDmd, tokTLV(4, d.Sum(nil))), tokESS(l.cert)}
	return tokSignWith(t, l.cert, l.key, content, hash, digestOID, sigAlg, attrs, false)
}

// resignAny changes a certificate's TBS with f and signs it again with
// key under opts, with alg (if given) as its signature algorithm inside
// and out; it does not parse the result (Go's x509 may refuse it).
func resignAny(t *testing.T, c *x509.Certificate, key crypto.Signer, alg []byte, opts crypto.SignerOpts, f func(tbs *tokNode)) *x509.Certificate {
	t.Helper()
	n := tokParse(t, c.Raw)
	tbs := n.kids[0]
	if f != nil {
		f(tbs)
	}
	if alg != nil {
		tbs.kids[2] = tokRaw(alg)
		n.kids[1] = tokRaw(alg)
	}
	msg := tbs.enc()
	digest := msg
	if opts.HashFunc() != 0 {
		h := opts.HashFunc().New()
		h.Write(msg)
		digest = h.Sum(nil)
	}
	s, err := key.Sign(rand.Reader, digest, opts)
	if err != nil {
		t.Fatal(err)
	}
	n.kids[2] = tokRaw(tokTLV(3, []byte{0}, s))
	return &x509.Certificate{Raw: n.enc(), RawIssuer: c.RawIssuer, RawSubject: c.RawSubject, SerialNumber: c.SerialNumber}
}
