package tsa

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

func TestCheckValidity(t *testing.T) {
	tm := func(tag byte, s string) []byte { return append([]byte{tag, byte(len(s))}, s...) }
	utc := tm(0x17, "261203081500Z")
	tests := []struct {
		name     string
		validity []byte
		ok       bool
	}{
		{"two UTCTimes", append(utc, utc...), true},
		{"a UTCTime and a GeneralizedTime", append(utc, tm(0x18, "20501203081500Z")...), true},
		{"a UTCTime with an offset", append(utc, tm(0x17, "261203081500+0100")...), false},
		{"a UTCTime without seconds", append(utc, tm(0x17, "2612030815Z")...), false},
		{"a GeneralizedTime with a fraction", append(utc, tm(0x18, "20501203081500.5Z")...), false},
		{"30 February", append(utc, tm(0x17, "260230081500Z")...), false},
		{"one time", utc, false},
		{"three times", append(append(utc, utc...), utc...), false},
	}
	for _, tt := range tests {
		err := checkValidity(cryptobyte.String(tt.validity))
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, errProfile) {
			t.Errorf("%s: got %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func TestCheckKey(t *testing.T) {
	spki := func(pub any) cryptobyte.String {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		var body cryptobyte.String
		s := cryptobyte.String(der)
		s.ReadASN1(&body, 0x30)
		return body
	}
	// rsaKey is an RSA subjectPublicKeyInfo of a modulus of bits and
	// exponent e (not a key anyone holds: only its shape is checked).
	rsaKey := func(bits int, e int64) cryptobyte.String {
		n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
		n.Add(n, big.NewInt(1))
		key, _ := asn1.Marshal(struct{ N, E *big.Int }{n, big.NewInt(e)})
		der, _ := asn1.Marshal(struct {
			Alg struct {
				ID   asn1.ObjectIdentifier
				Null asn1.RawValue
			}
			Key asn1.BitString
		}{struct {
			ID   asn1.ObjectIdentifier
			Null asn1.RawValue
		}{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}, asn1.NullRawValue}, asn1.BitString{Bytes: key, BitLength: 8 * len(key)}})
		var body cryptobyte.String
		s := cryptobyte.String(der)
		s.ReadASN1(&body, 0x30)
		return body
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name string
		spki cryptobyte.String
		ok   bool
	}{
		{"P-256", spki(p256.Public()), true},
		{"P-224", spki(p224.Public()), false},
		{"Ed25519", spki(edPub), false},
		{"RSA 2048, e 65537", rsaKey(2048, 65537), true},
		{"RSA 1024, e 3", rsaKey(1024, 3), true},
		{"RSA 512", rsaKey(512, 65537), false},
		{"RSA, e even", rsaKey(2048, 65536), false},
		{"RSA, e 1", rsaKey(2048, 1), false},
		{"RSA, e 2^32+15", rsaKey(2048, 1<<32+15), false},
	}
	for _, tt := range tests {
		err := checkKey(tt.spki)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, errProfile) {
			t.Errorf("%s: got %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// goReadsName says whether Go's x509 parses a certificate whose subject
// is name: the oracle checkName follows.
func goReadsName(t testing.TB, key *ecdsa.PrivateKey, name []byte) bool {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), RawSubject: name, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	_, err = x509.ParseCertificate(der)
	return err == nil
}

func TestCheckName(t *testing.T) {
	tlv := func(tag byte, kids ...[]byte) []byte {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.Tag(tag), func(c *cryptobyte.Builder) { c.AddBytes(bytes.Join(kids, nil)) })
		return b.BytesOrPanic()
	}
	cn := tlv(6, []byte{0x55, 4, 3})
	name := func(tag byte, v string) []byte { return tlv(0x30, tlv(0x31, tlv(0x30, cn, tlv(tag, []byte(v))))) }
	tests := []struct {
		name string
		der  []byte
		ok   bool
	}{
		{"a UTF8String", name(0x0c, "Zeitstempel Ä"), true},
		{"a UTF8String not UTF-8", name(0x0c, "\xff"), false},
		{"a PrintableString with * and &", name(0x13, "A&B *.example"), true},
		{"a PrintableString with @", name(0x13, "tsa@example.com"), false},
		{"an IA5String", name(0x16, "tsa@example.com"), true},
		{"an IA5String with 0xFF", name(0x16, "IA5 \xff"), false},
		{"a NumericString", name(0x12, "0197 1"), true},
		{"a NumericString with a letter", name(0x12, "NB0197"), false},
		{"a T61String with 0xE9", name(0x14, "T61 \xe9"), true},
		{"a BMPString", name(0x1e, "\x00B\x00M\x00P"), true},
		{"a BMPString ending in 00 00", name(0x1e, "\x00B\x00\x00"), true},
		{"a BMPString of odd length", name(0x1e, "\x00B\x00"), false},
		{"a BMPString holding a surrogate", name(0x1e, "\xd8\x00\x00A"), false},
		{"a BMPString holding U+FFFE", name(0x1e, "\xff\xfe"), false},
		{"a BMPString holding U+FDD0", name(0x1e, "\xfd\xd0"), false},
		{"a UniversalString", name(0x1c, "\x00\x00\x00A"), false},
		{"a VisibleString", name(0x1a, "Visible"), false},
		{"an INTEGER", tlv(0x30, tlv(0x31, tlv(0x30, cn, tlv(2, []byte{7})))), false},
		{"an empty RDN", tlv(0x30, tlv(0x31)), true},
		{"no RDN", tlv(0x30), true},
		{"an RDN that is a SEQUENCE", tlv(0x30, tlv(0x30, tlv(0x30, cn, tlv(0x0c, []byte("a"))))), false},
	}
	// An attribute with more than a type and a value: Go's x509 reads the
	// first two, pkijs's schema differs; the profile refuses it.
	trailing := tlv(0x30, tlv(0x31, tlv(0x30, cn, tlv(0x0c, []byte("a")), tlv(5))))
	if err := checkName(cryptobyte.String(trailing), true, "a name"); err == nil {
		t.Error("an attribute with a third element: got nil, want an error")
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, tt := range tests {
		err := checkName(cryptobyte.String(tt.der), true, "a name")
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, errProfile) {
			t.Errorf("%s: got %v, want ok %v", tt.name, err, tt.ok)
		}
		if goOK := goReadsName(t, key, tt.der); goOK != tt.ok {
			t.Errorf("%s: Go's x509 got ok %v, want %v (the table is wrong)", tt.name, goOK, tt.ok)
		}
	}
	if err := checkName(cryptobyte.String(tlv(0x30, tlv(0x31))), false, "a tsa"); err == nil {
		t.Error("an empty RDN where none is taken: got nil, want an error")
	}
}

// FuzzCheckName holds checkName to Go's x509 on a certificate's subject.
func FuzzCheckName(f *testing.F) {
	f.Add([]byte("\x30\x0c\x31\x0a\x30\x08\x06\x03\x55\x04\x03\x13\x01A"))
	f.Add([]byte("\x30\x0c\x31\x0a\x30\x08\x06\x03\x55\x04\x03\x1e\x01A"))
	f.Add([]byte("\x30\x02\x31\x00"))
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.Fuzz(func(t *testing.T, name []byte) {
		if checkDER(name) != nil {
			return // the profile refuses what is not DER before names
		}
		// The profile may refuse a Name's shape Go's x509 takes (an
		// attribute of three elements), never a string it reads, and
		// takes nothing it refuses.
		err := checkName(cryptobyte.String(name), true, "a name")
		goOK := goReadsName(t, key, name)
		if err == nil && !goOK || goOK && err != nil && strings.Contains(err.Error(), "holds a value") {
			t.Errorf("checkName got %v; Go's x509 reads it: %v", err, goOK)
		}
	})
}
