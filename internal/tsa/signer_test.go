package tsa

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// alg is an AlgorithmIdentifier's content: an identifier and, if null,
// a NULL.
func alg(t *testing.T, id asn1.ObjectIdentifier, null bool) cryptobyte.String {
	t.Helper()
	b, err := asn1.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	if null {
		b = append(b, 5, 0)
	}
	return b
}

func TestCheckAlgorithms(t *testing.T) {
	sha256 := asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	sha384 := asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	sha1 := asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	ecdsa256 := asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	ecdsa384 := asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	rsa := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	rsa384 := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	p256 := asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	tests := []struct {
		name                string
		digest, sig         asn1.ObjectIdentifier
		digestNull, sigNull bool
		ok                  bool
	}{
		{"SHA-256 under ECDSA", sha256, ecdsa256, false, false, true},
		{"SHA-256 with NULL under ECDSA", sha256, ecdsa256, true, false, true},
		{"SHA-384 under RSA with NULL", sha384, rsa384, false, true, true},
		{"SHA-256 under rsaEncryption", sha256, rsa, true, true, true},
		{"SHA-1", sha1, ecdsa256, false, false, false},
		{"an ECDSA identifier as the digest", ecdsa256, ecdsa256, false, false, false},
		{"ECDSA with NULL parameters", sha256, ecdsa256, false, true, false},
		{"ECDSA over another digest", sha256, ecdsa384, false, false, false},
		{"the P-256 curve as the signature", sha256, p256, false, false, false},
	}
	for _, tt := range tests {
		_, _, err := checkAlgorithms(alg(t, tt.digest, tt.digestNull), alg(t, tt.sig, tt.sigNull))
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, errProfile) {
			t.Errorf("%s: got %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func TestCheckSignedValue(t *testing.T) {
	el := func(v any, params string) cryptobyte.String {
		b, err := asn1.MarshalWithParams(v, params)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	at := time.Date(2026, 12, 3, 8, 15, 0, 0, time.UTC)
	tests := []struct {
		name   string
		id     []byte
		values []cryptobyte.String
		ok     bool
	}{
		{"contentType id-ct-TSTInfo", oidContentType, []cryptobyte.String{el(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}, "")}, true},
		{"contentType id-data", oidContentType, []cryptobyte.String{el(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}, "")}, false},
		{"messageDigest of 32 bytes", oidMsgDigest, []cryptobyte.String{el(make([]byte, 32), "")}, true},
		{"messageDigest of 20 bytes", oidMsgDigest, []cryptobyte.String{el(make([]byte, 20), "")}, false},
		{"messageDigest as [0]", oidMsgDigest, []cryptobyte.String{el(make([]byte, 32), "tag:0")}, false},
		{"signingTime as UTCTime", oidSigningTime, []cryptobyte.String{el(at, "utc")}, true},
		{"signingTime as GeneralizedTime", oidSigningTime, []cryptobyte.String{el(at, "generalized")}, true},
		{"signingTime as GeneralizedTime with a fraction", oidSigningTime, []cryptobyte.String{append([]byte{0x18, 20}, "20261203081500.0001Z"...)}, true},
		{"signingTime without seconds", oidSigningTime, []cryptobyte.String{append([]byte{0x17, 11}, "2612030815Z"...)}, false},
		{"signingTime on 30 February", oidSigningTime, []cryptobyte.String{append([]byte{0x17, 13}, "260230081500Z"...)}, false},
		{"signingTime as an INTEGER", oidSigningTime, []cryptobyte.String{el(5, "")}, false},
		{"signingTime twice", oidSigningTime, []cryptobyte.String{el(at, "utc"), el(at, "utc")}, false},
	}
	for _, tt := range tests {
		err := checkSignedValue(string(tt.id), tt.values, 32)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, errProfile) {
			t.Errorf("%s: got %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func TestCheckCarried(t *testing.T) {
	root := carriedCert{all: []byte("root"), issuer: []byte("R"), serial: []byte{1}, subject: []byte("R")}
	inter := carriedCert{all: []byte("inter"), issuer: []byte("R"), serial: []byte{2}, subject: []byte("I")}
	leaf := carriedCert{all: []byte("leaf"), issuer: []byte("I"), serial: []byte{3}, subject: []byte("L")}
	other := carriedCert{all: []byte("other"), issuer: []byte("R"), serial: []byte{4}, subject: []byte("O")}
	look := carriedCert{all: []byte("look-alike"), issuer: []byte("i"), serial: []byte{3}, subject: []byte("L")}
	sid := signerID{issuer: []byte("I"), serial: []byte{3}}
	tests := []struct {
		name    string
		carried []carriedCert
		ok      bool
	}{
		{"the signer alone", []carriedCert{leaf}, true},
		{"the signer and its chain", []carriedCert{root, leaf, inter}, true},
		{"no signer", []carriedCert{root, inter}, false},
		{"the signer twice", []carriedCert{leaf, leaf}, false},
		{"a certificate that issued none carried", []carriedCert{leaf, other}, false},
		{"a look-alike of the signer", []carriedCert{look, leaf}, false},
		{"only a look-alike of the signer", []carriedCert{look}, false},
	}
	for _, tt := range tests {
		_, err := checkCarried(tt.carried, sid)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, errProfile) {
			t.Errorf("%s: got %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// goKeyUsage is what Go's x509 reads of a certificate whose keyUsage
// extension holds value: its KeyUsage, or ok false if it refuses it.
func goKeyUsage(t *testing.T, key *ecdsa.PrivateKey, value []byte) (x509.KeyUsage, bool) {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0),
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 15}, Critical: true, Value: value}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return 0, false
	}
	return c.KeyUsage, true
}

// exts is a TBS's extensions field holding one extension id = value.
func exts(t *testing.T, id asn1.ObjectIdentifier, value []byte) cryptobyte.String {
	t.Helper()
	b, err := asn1.Marshal(struct {
		Exts []pkix.Extension `asn1:"explicit,tag:3"`
	}{[]pkix.Extension{{Id: id, Value: value}}})
	if err != nil {
		t.Fatal(err)
	}
	s := cryptobyte.String(b)
	var inner cryptobyte.String
	if !s.ReadASN1(&inner, cbasn1.SEQUENCE) {
		t.Fatal("no SEQUENCE")
	}
	return inner
}

func TestCheckKeyUsage(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name  string
		value []byte
		ok    bool
	}{
		{"keyCertSign and cRLSign", []byte{3, 2, 1, 0x06}, true},
		{"digitalSignature", []byte{3, 2, 7, 0x80}, true},
		{"decipherOnly (bit 8) alone", []byte{3, 3, 7, 0, 0x80}, true},
		{"an empty BIT STRING", []byte{3, 1, 0}, false},
		{"bits 0 to 8 clear", []byte{3, 2, 0, 0}, false},
		{"only bits past 8 set", []byte{3, 3, 0, 0, 0x40}, false},
		{"padding bits set", []byte{3, 2, 1, 0x81}, false},
		{"not a BIT STRING", []byte{4, 1, 0x80}, false},
		{"bytes after the BIT STRING", []byte{3, 2, 7, 0x80, 0}, false},
	}
	for _, tt := range tests {
		err := checkCertExtensions(exts(t, asn1.ObjectIdentifier{2, 5, 29, 15}, tt.value))
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, errProfile) {
			t.Errorf("%s: got %v, want ok %v", tt.name, err, tt.ok)
		}
		// What the profile takes Go's x509 reads as a keyUsage that
		// allows something; trailing bytes Go forgives are refused.
		if ku, goOK := goKeyUsage(t, key, tt.value); tt.ok && (!goOK || ku == 0) {
			t.Errorf("%s: Go's x509 got KeyUsage %v, ok %v, want one that allows something (the table is wrong)", tt.name, ku, goOK)
		}
	}
}

func TestCheckCertExtensionsRefusesNameConstraints(t *testing.T) {
	// Permitting dNSName example.com, and excluding nothing in an empty
	// subtree list: Go's x509 and pkijs enforce either apart.
	for _, value := range [][]byte{
		append([]byte{0x30, 0x11, 0xa0, 0x0f, 0x30, 0x0d, 0x82, 0x0b}, "example.com"...),
		{0x30, 0x02, 0xa1, 0x00},
	} {
		if err := checkCertExtensions(exts(t, asn1.ObjectIdentifier{2, 5, 29, 30}, value)); !errors.Is(err, errProfile) {
			t.Errorf("name constraints %x: got %v, want a profile error", value, err)
		}
	}
}

func TestCheckCertExtensionsSAN(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value []byte
		ok    bool
	}{
		{"dNSName", append([]byte{0x30, 0x0d, 0x82, 0x0b}, "tsa.example"...), true},
		{"rfc822Name and iPAddress", append([]byte{0x30, 0x0d, 0x87, 0x04, 1, 2, 3, 4, 0x81, 0x05}, "a@b.c"...), true},
		{"a URI", append([]byte{0x30, 0x0e, 0x86, 0x0c}, "https://a.b/"...), false},
		{"a URI after a dNSName", append([]byte{0x30, 0x11, 0x82, 0x01, 'a', 0x86, 0x0c}, "https://a.b/"...), false},
		{"no SEQUENCE", []byte{0x31, 0x00}, false},
		{"a name cut short", []byte{0x30, 0x02, 0x82, 0x05}, false},
	} {
		err := checkCertExtensions(exts(t, asn1.ObjectIdentifier{2, 5, 29, 17}, tc.value))
		if got := err == nil; got != tc.ok {
			t.Errorf("%s: got %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestReadCertificatesVersionAndSelfSignature(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Root"}, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readCertificates(der); err != nil {
		t.Fatalf("a version 3 self-signed CA: %v", err)
	}
	// The version field, [0] { INTEGER 2 }, set to 1 (version 2).
	v2 := bytes.Replace(der, []byte{0xa0, 0x03, 0x02, 0x01, 0x02}, []byte{0xa0, 0x03, 0x02, 0x01, 0x01}, 1)
	if _, err := readCertificates(v2); !errors.Is(err, errProfile) {
		t.Errorf("version 2: got %v, want a profile error", err)
	}
	// An anchor's own SHA-1 signature passes (neither verifier checks
	// it); RSASSA-PSS, even as Go's x509 takes it, does not.
	tmpl.SignatureAlgorithm = x509.ECDSAWithSHA1
	sha1, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readCertificates(sha1); err != nil {
		t.Errorf("a self-issued certificate signed ecdsa-with-SHA1: got %v, want it read", err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SignatureAlgorithm = x509.SHA256WithRSAPSS
	pss, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, rsaKey.Public(), rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readCertificates(pss); !errors.Is(err, errProfile) {
		t.Errorf("a self-issued certificate signed RSASSA-PSS: got %v, want a profile error", err)
	}
}
