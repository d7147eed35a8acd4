package tsa

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"

	"golang.org/x/crypto/cryptobyte"
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
