package tsa

import (
	"bytes"
	"crypto"
	_ "crypto/sha1" // ESSCertID's hash
	_ "crypto/sha256"
	_ "crypto/sha512"
	encasn1 "encoding/asn1"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The profile's rules for the token's signer and the certificates it
// carries. Where digitorus/pkcs7 and pkijs differ (pkcs7 matches names by
// their bytes, pkijs by their meaning; pkcs7 maps any ECDSA identifier to
// a hash, pkijs only digests; pkcs7 drops a token whose revocation lists
// it cannot read, pkijs reads them), the profile takes only what both
// read alike: SHA-2 digests under the algorithms a time-stamping
// authority signs with, attribute values of their own type, the signer's
// certificate carried once and named exactly as the signer identifier
// names it, and no certificate beside it but its issuers.

var (
	// digestLen holds the digests a signer may use, by identifier, with
	// their lengths.
	digestLen = map[string]int{
		"\x60\x86\x48\x01\x65\x03\x04\x02\x01": 32, // SHA-256
		"\x60\x86\x48\x01\x65\x03\x04\x02\x02": 48, // SHA-384
		"\x60\x86\x48\x01\x65\x03\x04\x02\x03": 64, // SHA-512
	}
	// sigDigest holds the signature algorithms a signer may use, with the
	// digest each implies; rsaEncryption takes the signer's digest.
	sigDigest = map[string]string{
		"\x2a\x86\x48\xce\x3d\x04\x03\x02":     "\x60\x86\x48\x01\x65\x03\x04\x02\x01", // ecdsa-with-SHA256
		"\x2a\x86\x48\xce\x3d\x04\x03\x03":     "\x60\x86\x48\x01\x65\x03\x04\x02\x02", // ecdsa-with-SHA384
		"\x2a\x86\x48\xce\x3d\x04\x03\x04":     "\x60\x86\x48\x01\x65\x03\x04\x02\x03", // ecdsa-with-SHA512
		"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b": "\x60\x86\x48\x01\x65\x03\x04\x02\x01", // sha256WithRSAEncryption
		"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0c": "\x60\x86\x48\x01\x65\x03\x04\x02\x02", // sha384WithRSAEncryption
		"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0d": "\x60\x86\x48\x01\x65\x03\x04\x02\x03", // sha512WithRSAEncryption
		string(oidRSAEncryption):               "",
	}
	oidSigningCertificate   = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0c}
	oidSigningCertificateV2 = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f}
	oidRSAEncryption        = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01}
	// utcTimeForm is a UTCTime as DER writes it.
	utcTimeForm = regexp.MustCompile(`^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$`)
)

// utcFields are a UTCTime's fields (utcTimeForm's match) with the year
// in full: 50 to 99 are 19xx, the rest 20xx (RFC 5280 §4.1.2.5.1).
func utcFields(m []string) []string {
	century := "20"
	if m[1] >= "50" {
		century = "19"
	}
	return append([]string{century + m[1]}, m[2:7]...)
}

// signerID is a signer identifier's issuer (the whole Name) and serial
// number (the INTEGER's content), as the token writes them, and the
// values of its signingCertificate and signingCertificateV2 attributes.
type signerID struct {
	issuer, serial []byte
	essV1, essV2   cryptobyte.String
	sigAlg         string
}

// carriedCert is what the profile reads of a certificate the token
// carries: its names and serial number as it writes them, and its key's
// algorithm.
type carriedCert struct{ all, issuer, serial, subject, keyAlg []byte }

var (
	oidECPublicKey     = []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}
	oidKeyUsage        = "\x55\x1d\x0f"
	oidNameConstraints = "\x55\x1d\x1e"
	oidSubjectAltName  = "\x55\x1d\x11"
	// policyConstraints, policyMappings, inhibitAnyPolicy.
	policyExts = []string{"\x55\x1d\x24", "\x55\x1d\x21", "\x55\x1d\x36"}
	// Extensions Go's x509 refuses to parse when marked critical:
	// authorityKeyIdentifier, subjectKeyIdentifier, authorityInfoAccess.
	neverCritical = []string{"\x55\x1d\x23", "\x55\x1d\x0e", "\x2b\x06\x01\x05\x05\x07\x01\x01"}
)

// readCertificates reads the certificates field as Go's x509 parses what
// pkijs reads otherwise: X.509 certificates of version 3, with non-negative serial
// numbers, the same signature algorithm inside and outside what is
// signed, each extension once, none of those Go refuses critical marked
// so.
func readCertificates(certs cryptobyte.String) ([]carriedCert, error) {
	var out []carriedCert
	const what = "a certificate that is no X.509 certificate"
	for !certs.Empty() {
		var all, cert, tbs, ver, serial, alg, outer, issuer, validity, subject, spki, keyAlg, key cryptobyte.String
		var hasVer bool
		if !certs.ReadASN1Element(&all, cbasn1.SEQUENCE) {
			return nil, profileErr(what)
		}
		in := all
		if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
			!tbs.ReadOptionalASN1(&ver, &hasVer, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return nil, profileErr(what)
		}
		var v int64
		if !hasVer || !ver.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || !ver.Empty() || v != 2 {
			return nil, profileErr("a certificate that is not version 3 (Go's x509 reads no extensions of version 1 or 2, the browser's pkijs does)")
		}
		if !tbs.ReadASN1(&serial, cbasn1.INTEGER) || len(serial) == 0 || serial[0]&0x80 != 0 {
			return nil, profileErr("a certificate with a negative serial number")
		}
		if !tbs.ReadASN1Element(&alg, cbasn1.SEQUENCE) || !tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
			!tbs.ReadASN1(&validity, cbasn1.SEQUENCE) || !tbs.ReadASN1Element(&subject, cbasn1.SEQUENCE) ||
			!tbs.ReadASN1(&spki, cbasn1.SEQUENCE) {
			return nil, profileErr(what)
		}
		if err := checkName(issuer, true, "a certificate's issuer"); err != nil {
			return nil, err
		}
		if err := checkName(subject, true, "a certificate's subject"); err != nil {
			return nil, err
		}
		if err := checkValidity(validity); err != nil {
			return nil, err
		}
		if err := checkKey(spki); err != nil {
			return nil, err
		}
		if !spki.ReadASN1(&key, cbasn1.SEQUENCE) || !key.ReadASN1(&keyAlg, cbasn1.OBJECT_IDENTIFIER) {
			return nil, profileErr(what)
		}
		if err := checkCertSignature(alg, bytes.Equal(issuer, subject)); err != nil {
			return nil, err
		}
		if !cert.ReadASN1Element(&outer, cbasn1.SEQUENCE) || !bytes.Equal(outer, alg) {
			return nil, profileErr("a certificate whose signature algorithm differs inside and outside what is signed")
		}
		tbs.SkipOptionalASN1(cbasn1.Tag(1).ContextSpecific())
		tbs.SkipOptionalASN1(cbasn1.Tag(2).ContextSpecific())
		if err := checkCertExtensions(tbs); err != nil {
			return nil, err
		}
		out = append(out, carriedCert{all: all, issuer: issuer, serial: serial, subject: subject, keyAlg: keyAlg})
	}
	return out, nil
}

// checkCertExtensions holds a version 3 certificate's extensions, what is
// left of its TBS, to what Go's x509 parses.
func checkCertExtensions(tbs cryptobyte.String) error {
	var exts cryptobyte.String
	var present bool
	if !tbs.ReadOptionalASN1(&exts, &present, cbasn1.Tag(3).Constructed().ContextSpecific()) || present && !exts.ReadASN1(&exts, cbasn1.SEQUENCE) {
		return profileErr("a certificate with malformed extensions")
	}
	seen := map[string]bool{}
	for !exts.Empty() {
		var ext, id, value cryptobyte.String
		critical := false
		if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1(&id, cbasn1.OBJECT_IDENTIFIER) ||
			ext.PeekASN1Tag(cbasn1.BOOLEAN) && !ext.ReadASN1Boolean(&critical) || !ext.ReadASN1(&value, cbasn1.OCTET_STRING) || !ext.Empty() {
			return profileErr("a certificate with malformed extensions")
		}
		if seen[string(id)] {
			return profileErr("a certificate with an extension twice")
		}
		seen[string(id)] = true
		if critical && slices.Contains(neverCritical, string(id)) {
			return profileErr("a certificate marking critical an extension that must not be")
		}
		if slices.Contains(policyExts, string(id)) {
			return profileErr("a certificate with policy constraints, policy mappings or inhibitAnyPolicy (Go's x509 and the browser's process them apart)")
		}
		switch string(id) {
		case oidNameConstraints:
			return profileErr("a certificate with name constraints (Go's x509 and the browser enforce them apart)")
		case oidKeyUsage:
			if err := checkKeyUsage(value); err != nil {
				return err
			}
		case oidSubjectAltName:
			if err := checkSAN(value); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkKeyUsage holds a keyUsage extension to one that allows something:
// Go's x509 reads one whose bits 0 to 8 are all clear as no keyUsage at
// all, and lets such a CA issue; the browser's pkijs reads it as a CA
// that may not sign certificates. The BIT STRING is read as Go reads it
// (padding bits zero).
func checkKeyUsage(value cryptobyte.String) error {
	var bits encasn1.BitString
	if !value.ReadASN1BitString(&bits) || !value.Empty() {
		return profileErr("a certificate with a malformed keyUsage")
	}
	for i := range 9 {
		if bits.At(i) != 0 {
			return nil
		}
	}
	return profileErr("a certificate whose keyUsage allows nothing (Go's x509 reads it as absent, the browser as allowing nothing)")
}

// checkSAN refuses a subjectAltName with a URI: Go's x509 parses one with
// net/url's rules, which the browser does not have. (The rest of a
// subjectAltName Go's x509 parses itself, and the browser as it does.)
func checkSAN(value cryptobyte.String) error {
	var names cryptobyte.String
	if !value.ReadASN1(&names, cbasn1.SEQUENCE) {
		return profileErr("a certificate with a malformed subjectAltName")
	}
	for !names.Empty() {
		var name cryptobyte.String
		var tag cbasn1.Tag
		if !names.ReadAnyASN1(&name, &tag) {
			return profileErr("a certificate with a malformed subjectAltName")
		}
		if tag == cbasn1.Tag(6).ContextSpecific() {
			return profileErr("a certificate with a URI subjectAltName (Go's x509 parses URIs by net/url's rules, which the browser does not have)")
		}
	}
	return nil
}

// checkTrusted holds a trust anchor or intermediate (its DER) to the
// rules of certificates a token carries; ParseCertificates applies it.
func checkTrusted(raw []byte) error {
	_, err := readCertificates(raw)
	return err
}

// keyFits reports whether a signer's key algorithm is the one its
// signature algorithm names (ECDSA for ecdsa-with-*, RSA for the rest).
func keyFits(sigAlg string, keyAlg []byte) bool {
	if strings.HasPrefix(sigAlg, "\x2a\x86\x48\xce\x3d\x04\x03") {
		return bytes.Equal(keyAlg, oidECPublicKey)
	}
	return bytes.Equal(keyAlg, oidRSAEncryption)
}

// checkCarried holds the carried certificates to the signer's and its
// issuers': the one the signer identifier names, byte for byte, exactly
// once, and beside it only certificates that issued another one carried.
// It returns the signer's.
func checkCarried(carried []carriedCert, sid signerID) (carriedCert, error) {
	var signer carriedCert
	signers := 0
	for i, c := range carried {
		for _, o := range carried[:i] {
			if bytes.Equal(o.all, c.all) {
				return carriedCert{}, profileErr("the token carries a certificate twice")
			}
		}
		if bytes.Equal(c.issuer, sid.issuer) && bytes.Equal(c.serial, sid.serial) {
			signers++
			signer = c
			continue
		}
		issues := false
		for j, o := range carried {
			issues = issues || j != i && bytes.Equal(c.subject, o.issuer)
		}
		if !issues {
			return carriedCert{}, profileErr("the token carries a certificate that is neither its signer's nor an issuer of one it carries")
		}
	}
	if signers != 1 {
		return carriedCert{}, profileErr("the token does not carry its signer's certificate once, named exactly as its signer identifier names it")
	}
	return signer, nil
}

func checkSignerInfo(si cryptobyte.String) (signerID, error) {
	var version int64
	var sid, name, serial, digestAlg, attrs, sigAlg, sig cryptobyte.String
	if !si.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || version != 1 || !si.ReadASN1(&sid, cbasn1.SEQUENCE) ||
		!sid.ReadASN1Element(&name, cbasn1.SEQUENCE) || !sid.ReadASN1(&serial, cbasn1.INTEGER) || !sid.Empty() {
		return signerID{}, profileErr("the signer is not named by issuer and serial number (version 1)")
	}
	if !si.ReadASN1(&digestAlg, cbasn1.SEQUENCE) || !si.ReadASN1(&attrs, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!si.ReadASN1(&sigAlg, cbasn1.SEQUENCE) || !si.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return signerID{}, profileErr("malformed signer, or one without signed attributes")
	}
	var unsigned cryptobyte.String
	var hasUnsigned bool
	if !si.ReadOptionalASN1(&unsigned, &hasUnsigned, cbasn1.Tag(1).Constructed().ContextSpecific()) || !si.Empty() {
		return signerID{}, profileErr("the signer holds more than its fields")
	}
	digest, sign, err := checkAlgorithms(digestAlg, sigAlg)
	if err != nil {
		return signerID{}, err
	}
	out := signerID{issuer: name, serial: serial, sigAlg: sign}
	seen := map[string]int{}
	var prev []byte
	for !attrs.Empty() {
		var attr cryptobyte.String
		if !attrs.ReadASN1Element(&attr, cbasn1.SEQUENCE) {
			return signerID{}, profileErr("malformed signed attribute")
		}
		if prev != nil && bytes.Compare(prev, attr) > 0 {
			return signerID{}, profileErr("signed attributes out of DER order")
		}
		prev = attr
		id, values, err := readAttribute(attr)
		if err != nil {
			return signerID{}, err
		}
		if seen[id]++; seen[id] > 1 {
			return signerID{}, profileErr("a signed attribute given twice")
		}
		if err := checkSignedValue(id, values, digestLen[digest]); err != nil {
			return signerID{}, err
		}
		switch id {
		case string(oidSigningCertificate):
			out.essV1 = values[0]
		case string(oidSigningCertificateV2):
			out.essV2 = values[0]
		}
	}
	if seen[string(oidContentType)] != 1 || seen[string(oidMsgDigest)] != 1 {
		return signerID{}, profileErr("the signed attributes lack contentType or messageDigest")
	}
	for !unsigned.Empty() {
		var attr cryptobyte.String
		if !unsigned.ReadASN1Element(&attr, cbasn1.SEQUENCE) {
			return signerID{}, profileErr("malformed unsigned attribute")
		}
		if _, _, err := readAttribute(attr); err != nil {
			return signerID{}, err
		}
	}
	if out.essV1 == nil && out.essV2 == nil {
		return signerID{}, profileErr("the signer names no signing certificate (signingCertificate of RFC 3161 or signingCertificateV2 of RFC 5816)")
	}
	return out, nil
}

// checkAlgorithms holds the signer's digest to SHA-2 (parameters absent
// or NULL) and its signature to ECDSA or RSA PKCS #1 v1.5 over that
// digest (ECDSA without parameters, RSA with NULL or none). It returns
// the digest's identifier.
func checkAlgorithms(digestAlg, sigAlg cryptobyte.String) (digest, sign string, err error) {
	digest, _, ok := readAlgorithm(digestAlg)
	if _, known := digestLen[digest]; !ok || !known {
		return "", "", profileErr("the signer's digest is not SHA-256, SHA-384 or SHA-512")
	}
	sign, null, ok := readAlgorithm(sigAlg)
	implied, known := sigDigest[sign]
	ecdsa := strings.HasPrefix(sign, "\x2a\x86\x48\xce\x3d\x04\x03")
	if !ok || !known || ecdsa && null {
		return "", "", profileErr("the signer's signature algorithm is not ECDSA or RSA with SHA-2")
	}
	if implied != "" && implied != digest {
		return "", "", profileErr("the signer's signature algorithm names another digest than the signer's")
	}
	return digest, sign, nil
}

// readAlgorithm reads an AlgorithmIdentifier of no parameters or NULL
// ones: its identifier, and whether a NULL follows it.
func readAlgorithm(alg cryptobyte.String) (id string, null, ok bool) {
	var oid, n cryptobyte.String
	if !alg.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) {
		return "", false, false
	}
	if !alg.ReadOptionalASN1(&n, &null, cbasn1.NULL) {
		return "", false, false
	}
	return string(oid), null, alg.Empty()
}

// checkSignedValue holds the attributes both verifiers read to their
// types: contentType id-ct-TSTInfo, messageDigest an OCTET STRING of the
// digest's length, signingTime one UTCTime or GeneralizedTime as DER
// writes them (and as genTime is written).
func checkSignedValue(id string, values []cryptobyte.String, digestLen int) error {
	one := func(tag cbasn1.Tag) (cryptobyte.String, bool) {
		if len(values) != 1 {
			return nil, false
		}
		var v cryptobyte.String
		e := values[0]
		ok := e.ReadASN1(&v, tag) && e.Empty()
		return v, ok
	}
	switch id {
	case string(oidContentType):
		if v, ok := one(cbasn1.OBJECT_IDENTIFIER); !ok || !bytes.Equal(v, oidTSTInfo) {
			return profileErr("a contentType other than one id-ct-TSTInfo")
		}
	case string(oidMsgDigest):
		if v, ok := one(cbasn1.OCTET_STRING); !ok || len(v) != digestLen {
			return profileErr("a messageDigest other than one OCTET STRING of the digest's length")
		}
	case string(oidSigningCertificate), string(oidSigningCertificateV2):
		if len(values) != 1 {
			return profileErr("a signing certificate attribute with other than one value")
		}
	case string(oidSigningTime):
		if v, ok := one(cbasn1.UTCTime); ok {
			m := utcTimeForm.FindStringSubmatch(string(v))
			if m == nil {
				return profileErr("signingTime %q is not a UTCTime as DER writes it", v)
			}
			return checkFields(utcFields(m), "signingTime", string(v))
		}
		v, ok := one(cbasn1.GeneralizedTime)
		if !ok {
			return profileErr("a signingTime other than one UTCTime or GeneralizedTime")
		}
		m := genTimeForm.FindStringSubmatch(string(v))
		if m == nil {
			return profileErr("signingTime %q is not UTC GeneralizedTime without trailing zeros", v)
		}
		return checkFields(m[1:7], "signingTime", string(v))
	}
	return nil
}

// readAttribute reads an Attribute (an identifier and a SET of values)
// and returns its identifier and its values, each a whole element.
func readAttribute(attr cryptobyte.String) (string, []cryptobyte.String, error) {
	var body, id, values cryptobyte.String
	if !attr.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1(&id, cbasn1.OBJECT_IDENTIFIER) || !body.ReadASN1(&values, cbasn1.SET) || !body.Empty() {
		return "", nil, profileErr("an attribute that is not an identifier and a SET of values")
	}
	var out []cryptobyte.String
	for !values.Empty() {
		var v cryptobyte.String
		var t cbasn1.Tag
		if !values.ReadAnyASN1Element(&v, &t) {
			return "", nil, profileErr("malformed attribute value")
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return "", nil, profileErr("an attribute with no value")
	}
	return string(id), out, nil
}

// checkSigningCertificate holds the signing certificate attributes
// (RFC 2634's ESSCertID, RFC 5816's ESSCertIDv2) to the certificate the
// signer identifier names: the first ESSCertID of each is the hash of its
// DER (SHA-1 for the first, SHA-2 for the second, SHA-256 if unnamed)
// and, if it names an issuer and serial number, the signer's.
func checkSigningCertificate(sid signerID, signer carriedCert) error {
	for _, v := range []struct {
		value cryptobyte.String
		v2    bool
	}{{sid.essV1, false}, {sid.essV2, true}} {
		if v.value == nil {
			continue
		}
		var sc, certs, id, certHash cryptobyte.String
		if !v.value.ReadASN1(&sc, cbasn1.SEQUENCE) || !v.value.Empty() || !sc.ReadASN1(&certs, cbasn1.SEQUENCE) ||
			!certs.ReadASN1(&id, cbasn1.SEQUENCE) {
			return profileErr("a signing certificate attribute that names no certificate")
		}
		h := crypto.SHA1
		if v.v2 {
			h = crypto.SHA256
			var a cryptobyte.String
			var hasAlg bool
			if !id.ReadOptionalASN1(&a, &hasAlg, cbasn1.SEQUENCE) {
				return profileErr("malformed ESSCertIDv2")
			}
			if hasAlg {
				oid, _, ok := readAlgorithm(a)
				named, known := essHashes[oid]
				if !ok || !known {
					return profileErr("an ESSCertIDv2 whose hash is not SHA-256, SHA-384 or SHA-512")
				}
				h = named
			}
		}
		if !id.ReadASN1(&certHash, cbasn1.OCTET_STRING) {
			return profileErr("malformed ESSCertID")
		}
		d := h.New()
		d.Write(signer.all)
		if !bytes.Equal(certHash, d.Sum(nil)) {
			return profileErr("the signing certificate attribute names another certificate than the signer's")
		}
		if id.Empty() {
			continue
		}
		var is, names, gn, dn, serial cryptobyte.String
		if !id.ReadASN1(&is, cbasn1.SEQUENCE) || !id.Empty() || !is.ReadASN1(&names, cbasn1.SEQUENCE) ||
			!names.ReadASN1(&gn, cbasn1.Tag(4).Constructed().ContextSpecific()) || !names.Empty() ||
			!gn.ReadASN1Element(&dn, cbasn1.SEQUENCE) || !gn.Empty() || !is.ReadASN1(&serial, cbasn1.INTEGER) || !is.Empty() {
			return profileErr("an ESSCertID whose issuer and serial number are not one directory name and a number")
		}
		if !bytes.Equal(dn, signer.issuer) || !bytes.Equal(serial, signer.serial) {
			return profileErr("the signing certificate attribute names another issuer or serial number than the signer's")
		}
	}
	return nil
}

// essHashes are the hashes an ESSCertIDv2 may name.
var essHashes = map[string]crypto.Hash{
	"\x60\x86\x48\x01\x65\x03\x04\x02\x01": crypto.SHA256,
	"\x60\x86\x48\x01\x65\x03\x04\x02\x02": crypto.SHA384,
	"\x60\x86\x48\x01\x65\x03\x04\x02\x03": crypto.SHA512,
}
