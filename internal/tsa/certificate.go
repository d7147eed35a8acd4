package tsa

import (
	"bytes"
	"math/big"
	"regexp"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The profile's rules for the names, keys, validity and signatures of the
// certificates a token carries and the policy trusts, where Go's x509 and
// the browser (pkijs on WebCrypto) would take different ones: times as
// RFC 5280 writes them (Go reads offsets and minutes in UTCTime, pkijs
// misreads them; Go refuses fractions pkijs reads), RSA keys Go accepts
// (at least 1024 bits, an odd exponent below 2^31) the browser can use
// too (WebCrypto verifies with moduli of at most 16384 bits), EC keys on the
// named NIST curves with uncompressed points, and certificates signed
// with ECDSA or RSA PKCS #1 v1.5 over SHA-2 (Go takes RSA-PSS in one form
// only and Ed25519, pkijs other PSS forms and no Ed25519), and names whose
// values are strings Go's x509 reads (pkijs reads any value).

// maxRSABits is the largest modulus Chromium's WebCrypto verifies with.
const maxRSABits = 16384

var (
	validityForms = map[cbasn1.Tag]*regexp.Regexp{
		cbasn1.UTCTime:         utcTimeForm,
		cbasn1.GeneralizedTime: regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$`),
	}
	// ecPoints are the named curves (their identifiers' DER content) with
	// the length of an uncompressed point on each.
	ecPoints = map[string]int{
		"\x2a\x86\x48\xce\x3d\x03\x01\x07": 65,  // P-256
		"\x2b\x81\x04\x00\x22":             97,  // P-384
		"\x2b\x81\x04\x00\x23":             133, // P-521
	}
	// certSignatures are the certificate signature algorithms both take.
	certSignatures = map[string]bool{
		"\x2a\x86\x48\xce\x3d\x04\x03\x02":     true, // ecdsa-with-SHA256
		"\x2a\x86\x48\xce\x3d\x04\x03\x03":     true, // ecdsa-with-SHA384
		"\x2a\x86\x48\xce\x3d\x04\x03\x04":     true, // ecdsa-with-SHA512
		"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b": true, // sha256WithRSAEncryption
		"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0c": true, // sha384WithRSAEncryption
		"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0d": true, // sha512WithRSAEncryption
	}
	// selfSignatures are those a self-issued certificate may carry
	// besides: an old anchor's own, which neither verifier checks; as a
	// key rollover's, both refuse them as broken.
	selfSignatures = map[string]bool{
		"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x05": true, // sha1WithRSAEncryption
		"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x04": true, // md5WithRSAEncryption
		"\x2a\x86\x48\xce\x3d\x04\x01":         true, // ecdsa-with-SHA1
	}
)

// checkValidity holds a certificate's notBefore and notAfter to RFC 5280's
// forms: UTCTime YYMMDDhhmmssZ or GeneralizedTime YYYYMMDDhhmmssZ.
func checkValidity(validity cryptobyte.String) error {
	for range 2 {
		var t cryptobyte.String
		var tag cbasn1.Tag
		if !validity.ReadAnyASN1(&t, &tag) || validityForms[tag] == nil {
			return profileErr("a certificate whose validity is not two times")
		}
		m := validityForms[tag].FindStringSubmatch(string(t))
		if m == nil {
			return profileErr("a certificate validity time %q not as RFC 5280 writes it", t)
		}
		fields := m[1:7]
		if tag == cbasn1.UTCTime {
			fields = utcFields(m)
		}
		if err := checkFields(fields, "a certificate validity time", string(t)); err != nil {
			return err
		}
	}
	if !validity.Empty() {
		return profileErr("a certificate whose validity is not two times")
	}
	return nil
}

// checkKey holds a subjectPublicKeyInfo (its content) to the keys both
// verifiers take.
func checkKey(spki cryptobyte.String) error {
	var alg, id, key cryptobyte.String
	if !spki.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1(&id, cbasn1.OBJECT_IDENTIFIER) || !spki.ReadASN1(&key, cbasn1.BIT_STRING) || !spki.Empty() ||
		len(key) == 0 || key[0] != 0 {
		return profileErr("a certificate with a malformed public key")
	}
	key = key[1:]
	switch {
	case bytes.Equal(id, oidECPublicKey):
		var curve cryptobyte.String
		if !alg.ReadASN1(&curve, cbasn1.OBJECT_IDENTIFIER) || !alg.Empty() {
			return profileErr("an EC key on no named curve")
		}
		n, ok := ecPoints[string(curve)]
		if !ok {
			return profileErr("an EC key on a curve other than P-256, P-384 or P-521")
		}
		if len(key) != n || key[0] != 4 {
			return profileErr("an EC key whose point is not uncompressed")
		}
	case bytes.Equal(id, oidRSAEncryption):
		var null, rsa, n cryptobyte.String
		var e big.Int
		in := cryptobyte.String(key)
		if !alg.ReadASN1(&null, cbasn1.NULL) || !alg.Empty() || !in.ReadASN1(&rsa, cbasn1.SEQUENCE) || !in.Empty() ||
			!rsa.ReadASN1(&n, cbasn1.INTEGER) || !rsa.ReadASN1Integer(&e) || !rsa.Empty() {
			return profileErr("a malformed RSA key")
		}
		bits := new(big.Int).SetBytes(n).BitLen()
		if len(n) == 0 || n[0]&0x80 != 0 || bits < 1024 {
			return profileErr("an RSA key of fewer than 1024 bits")
		}
		if bits > maxRSABits {
			return profileErr("an RSA key of more than %d bits, which browsers do not verify with", maxRSABits)
		}
		if e.Bit(0) == 0 || e.Cmp(big.NewInt(3)) < 0 || e.Cmp(big.NewInt(1<<31-1)) > 0 {
			return profileErr("an RSA key whose exponent is not odd, from 3 to 2^31-1")
		}
	default:
		return profileErr("a certificate whose key is neither ECDSA nor RSA")
	}
	return nil
}

// checkCertSignature holds a certificate's signature algorithm (the
// element) to ECDSA or RSA PKCS #1 v1.5 over SHA-2, parameters absent or
// NULL; a self-issued one's also to SHA-1 or MD5 ones. A self-issued
// certificate is an anchor, whose own signature neither verifier checks,
// or a key rollover, whose both check: Go's x509 by rules of RSASSA-PSS
// parameters the browser does not have, so none other is let through.
func checkCertSignature(alg cryptobyte.String, selfIssued bool) error {
	var body cryptobyte.String
	if !alg.ReadASN1(&body, cbasn1.SEQUENCE) {
		return profileErr("a certificate with a malformed signature algorithm")
	}
	id, _, ok := readAlgorithm(body)
	if !ok || !certSignatures[id] && !(selfIssued && selfSignatures[id]) {
		return profileErr("a certificate signed other than with ECDSA or RSA PKCS #1 v1.5 over SHA-2")
	}
	return nil
}

// Tags of the strings Go's x509 reads in a name that cryptobyte does not
// name.
const (
	numericString = cbasn1.Tag(18)
	bmpString     = cbasn1.Tag(30)
)

// checkName holds a Name (its element) to what Go's x509 parses: RDNs of
// attribute types and values, each value a string of one of the types it
// reads, in that type's alphabet (crypto/x509's parseASN1String). An
// empty RDN is taken where emptyRDNs says so: Go's x509 takes one in a
// certificate, pkijs none in a TSTInfo's tsa. what names the field.
func checkName(name cryptobyte.String, emptyRDNs bool, what string) error {
	var n cryptobyte.String
	if !name.ReadASN1(&n, cbasn1.SEQUENCE) || !name.Empty() {
		return profileErr("%s is not one Name", what)
	}
	for !n.Empty() {
		var rdn cryptobyte.String
		if !n.ReadASN1(&rdn, cbasn1.SET) || rdn.Empty() && !emptyRDNs {
			return profileErr("%s is not one Name", what)
		}
		for !rdn.Empty() {
			var atv, id, v cryptobyte.String
			var tag cbasn1.Tag
			if !rdn.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1(&id, cbasn1.OBJECT_IDENTIFIER) || !atv.ReadAnyASN1(&v, &tag) || !atv.Empty() {
				return profileErr("%s is not one Name", what)
			}
			if !nameString(tag, v) {
				return profileErr("%s holds a value that is not a PrintableString, UTF8String, BMPString, IA5String, NumericString or T61String in that type's alphabet", what)
			}
		}
	}
	return nil
}

// nameString says whether Go's x509 reads v, of type tag, as a string.
func nameString(tag cbasn1.Tag, v []byte) bool {
	switch tag {
	case cbasn1.T61String: // read as Latin-1, any bytes
		return true
	case cbasn1.UTF8String:
		return utf8.Valid(v)
	case cbasn1.PrintableString:
		return allBytes(v, func(b byte) bool {
			return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
				'\'' <= b && b <= ')' || '+' <= b && b <= '/' || bytes.IndexByte([]byte(" :=?*&"), b) >= 0
		})
	case cbasn1.IA5String:
		return allBytes(v, func(b byte) bool { return b < 0x80 })
	case numericString:
		return allBytes(v, func(b byte) bool { return '0' <= b && b <= '9' || b == ' ' })
	case bmpString:
		if len(v)%2 != 0 {
			return false
		}
		if l := len(v); l >= 2 && v[l-1] == 0 && v[l-2] == 0 {
			v = v[:l-2]
		}
		for i := 0; i < len(v); i += 2 {
			p := uint16(v[i])<<8 | uint16(v[i+1])
			if p >= 0xfffe || 0xfdd0 <= p && p <= 0xfdef || 0xd800 <= p && p <= 0xdfff {
				return false
			}
		}
		return true
	}
	return false
}

func allBytes(v []byte, ok func(byte) bool) bool {
	for _, b := range v {
		if !ok(b) {
			return false
		}
	}
	return true
}
