package tsa

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The profile is the one encoding of a timestamp response the vault and
// the portal take, checked by both before any library reads the token.
// Libraries differ in what they forgive: digitorus/pkcs7 converts BER
// lengths but parses fields strictly, pkijs reads BER everywhere, sorts
// nothing and wants attributes digitorus does not. A token that is DER
// throughout (X.690 §10: minimal lengths, integers and identifiers,
// booleans 00 or FF, bit strings with zero padding, SETs in order, no
// constructed strings) and has RFC 3161's shape, nothing more, reads the
// same to every verifier; real authorities' tokens do. The portal's
// timestamps.js applies the same rules (checkProfile); each is a row of
// the Go-versus-browser test.

var errProfile = errors.New("tsa: the response is not a DER timestamp response of RFC 3161's shape")

func profileErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errProfile, fmt.Sprintf(format, args...))
}

// maxAccuracy bounds a token's stated accuracy: more says nothing about
// when, and larger values overflow time.Duration.
const maxAccuracy = 3600

// checkDER holds every element of b (one whole element) to DER.
func checkDER(b []byte) error {
	s := cryptobyte.String(b)
	var e cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1Element(&e, &tag) || !s.Empty() {
		return profileErr("not one DER element")
	}
	return checkElement(e, tag)
}

func checkElement(e cryptobyte.String, tag cbasn1.Tag) error {
	if len(e) > 0 && e[0]&0x1f == 0x1f {
		return profileErr("a tag in high-number form")
	}
	var body cryptobyte.String
	if !e.ReadAnyASN1(&body, &tag) {
		return profileErr("malformed element")
	}
	constructed := tag&0x20 != 0
	universal := tag&0xc0 == 0
	number := tag & 0x1f
	if constructed {
		if universal && number != 16 && number != 17 {
			return profileErr("a constructed string (BER, not DER)")
		}
		var prev []byte
		for !body.Empty() {
			var kid cryptobyte.String
			var kt cbasn1.Tag
			if !body.ReadAnyASN1Element(&kid, &kt) {
				return profileErr("malformed element")
			}
			if tag == cbasn1.SET && prev != nil && bytes.Compare(prev, kid) > 0 {
				return profileErr("a SET out of order")
			}
			prev = kid
			if err := checkElement(kid, kt); err != nil {
				return err
			}
		}
		return nil
	}
	if !universal {
		return nil
	}
	switch tag {
	case cbasn1.BOOLEAN:
		if len(body) != 1 || (body[0] != 0 && body[0] != 0xff) {
			return profileErr("a BOOLEAN that is not 00 or FF")
		}
	case cbasn1.INTEGER:
		if len(body) == 0 || len(body) > 1 && (body[0] == 0 && body[1]&0x80 == 0 || body[0] == 0xff && body[1]&0x80 != 0) {
			return profileErr("an INTEGER not minimally encoded")
		}
	case cbasn1.BIT_STRING:
		if len(body) == 0 || body[0] > 7 || len(body) == 1 && body[0] != 0 || len(body) > 1 && body[len(body)-1]&(1<<body[0]-1) != 0 {
			return profileErr("a BIT STRING with padding bits set")
		}
	case cbasn1.NULL:
		if len(body) != 0 {
			return profileErr("a NULL with content")
		}
	case cbasn1.OBJECT_IDENTIFIER:
		if !oidDER(body) {
			return profileErr("an OBJECT IDENTIFIER not minimally encoded")
		}
	case cbasn1.UTF8String:
		if !utf8.Valid(body) {
			return profileErr("a UTF8String that is not UTF-8")
		}
	}
	return nil
}

// oidDER reports whether b is a minimal OBJECT IDENTIFIER whose arcs fit
// 31 bits, as Go's encoding/asn1 reads them.
func oidDER(b []byte) bool {
	if len(b) == 0 || b[len(b)-1]&0x80 != 0 {
		return false
	}
	var v uint64
	start := true
	for _, x := range b {
		if start && x == 0x80 {
			return false
		}
		v = v<<7 | uint64(x&0x7f)
		if v > 1<<31-1 {
			return false
		}
		start = x&0x80 == 0
		if start {
			v = 0
		}
	}
	return true
}

var (
	oidSignedData      = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}
	oidTSTInfo         = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04}
	oidContentType     = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03}
	oidMsgDigest       = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04}
	oidQCStatementsDER = []byte{0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x03}
	oidSigningTime     = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05}
	// genTime as RFC 3161 §2.4.2 writes it: UTC, no trailing zeros, and
	// as Go's encoding/asn1 takes it: at most nine digits of a second.
	genTimeForm = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d{0,8}[1-9])?Z$`)
)

// checkProfile holds tsr to DER and to RFC 3161's shape: a granted
// status, one SignedData with one signer named by issuer and serial,
// signed attributes holding contentType and messageDigest once each, and
// a TSTInfo of its fields alone whose genTime is UTC and whose accuracy
// is at most an hour. It returns the signer's certificate, byte for byte.
func checkProfile(tsr []byte) ([]byte, error) {
	if err := checkDER(tsr); err != nil {
		return nil, err
	}
	in := cryptobyte.String(tsr)
	var resp, status, token cryptobyte.String
	if !in.ReadASN1(&resp, cbasn1.SEQUENCE) || !resp.ReadASN1(&status, cbasn1.SEQUENCE) || !resp.ReadASN1(&token, cbasn1.SEQUENCE) || !resp.Empty() {
		return nil, profileErr("want a status and a token, nothing else")
	}
	var code int64
	if !status.ReadASN1Int64WithTag(&code, cbasn1.INTEGER) || code != 0 {
		return nil, profileErr("the status is not granted (0)")
	}
	if status.PeekASN1Tag(cbasn1.SEQUENCE) {
		var texts cryptobyte.String
		status.ReadASN1(&texts, cbasn1.SEQUENCE)
		for !texts.Empty() {
			var s cryptobyte.String
			if !texts.ReadASN1(&s, cbasn1.UTF8String) {
				return nil, profileErr("a status text that is not a UTF8String")
			}
		}
	}
	status.SkipOptionalASN1(cbasn1.BIT_STRING)
	if !status.Empty() {
		return nil, profileErr("the status holds more than its code, text and failure bits")
	}
	var ctype, explicit, sd cryptobyte.String
	if !token.ReadASN1(&ctype, cbasn1.OBJECT_IDENTIFIER) || !bytes.Equal(ctype, oidSignedData) ||
		!token.ReadASN1(&explicit, cbasn1.Tag(0).Constructed().ContextSpecific()) || !token.Empty() ||
		!explicit.ReadASN1(&sd, cbasn1.SEQUENCE) || !explicit.Empty() {
		return nil, profileErr("the token is not one SignedData")
	}
	var version int64
	var digestAlgs, encap, etype, econtent, octets, signerInfos cryptobyte.String
	if !sd.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || !sd.ReadASN1(&digestAlgs, cbasn1.SET) || !sd.ReadASN1(&encap, cbasn1.SEQUENCE) {
		return nil, profileErr("malformed SignedData")
	}
	if !encap.ReadASN1(&etype, cbasn1.OBJECT_IDENTIFIER) || !bytes.Equal(etype, oidTSTInfo) ||
		!encap.ReadASN1(&econtent, cbasn1.Tag(0).Constructed().ContextSpecific()) || !encap.Empty() ||
		!econtent.ReadASN1(&octets, cbasn1.OCTET_STRING) || !econtent.Empty() {
		return nil, profileErr("the token holds no TSTInfo")
	}
	var certs cryptobyte.String
	var hasCerts bool
	if !sd.ReadOptionalASN1(&certs, &hasCerts, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, profileErr("malformed certificates")
	}
	carried, err := readCertificates(certs)
	if err != nil {
		return nil, err
	}
	if sd.PeekASN1Tag(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, profileErr("the token carries revocation information, which no verifier of the vault reads")
	}
	if !sd.ReadASN1(&signerInfos, cbasn1.SET) || !sd.Empty() {
		return nil, profileErr("malformed SignedData")
	}
	var si cryptobyte.String
	if !signerInfos.ReadASN1(&si, cbasn1.SEQUENCE) || !signerInfos.Empty() {
		return nil, profileErr("want exactly one signer")
	}
	sid, err := checkSignerInfo(si)
	if err != nil {
		return nil, err
	}
	signer, err := checkCarried(carried, sid)
	if err != nil {
		return nil, err
	}
	if !keyFits(sid.sigAlg, signer.keyAlg) {
		return nil, profileErr("the signer's signature algorithm is not for its certificate's key")
	}
	if err := checkSigningCertificate(sid, signer); err != nil {
		return nil, err
	}
	return signer.all, checkTSTInfo(octets)
}

func checkTSTInfo(octets cryptobyte.String) error {
	if err := checkDER(octets); err != nil {
		return fmt.Errorf("the TSTInfo: %w", err)
	}
	var tst, policy, imprint, genTime cryptobyte.String
	var version int64
	var serial big.Int
	if !octets.ReadASN1(&tst, cbasn1.SEQUENCE) || !octets.Empty() {
		return profileErr("the token's content is not one TSTInfo")
	}
	if !tst.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || !tst.ReadASN1(&policy, cbasn1.OBJECT_IDENTIFIER) ||
		!tst.ReadASN1(&imprint, cbasn1.SEQUENCE) || !tst.ReadASN1Integer(&serial) || !tst.ReadASN1(&genTime, cbasn1.GeneralizedTime) {
		return profileErr("malformed TSTInfo")
	}
	if version != 1 {
		return profileErr("a TSTInfo of version %d, not 1", version)
	}
	if err := checkGenTime(string(genTime)); err != nil {
		return err
	}
	if tst.PeekASN1Tag(cbasn1.SEQUENCE) {
		var acc cryptobyte.String
		tst.ReadASN1(&acc, cbasn1.SEQUENCE)
		if err := checkAccuracy(acc); err != nil {
			return err
		}
	}
	tst.SkipOptionalASN1(cbasn1.BOOLEAN)
	tst.SkipOptionalASN1(cbasn1.INTEGER)
	var name, exts cryptobyte.String
	var hasName, hasExts bool
	if !tst.ReadOptionalASN1(&name, &hasName, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!tst.ReadOptionalASN1(&exts, &hasExts, cbasn1.Tag(1).Constructed().ContextSpecific()) || !tst.Empty() {
		return profileErr("the TSTInfo holds more than its fields")
	}
	if hasName {
		if err := checkGeneralName(name); err != nil {
			return err
		}
	}
	return checkExtensions(exts)
}

// checkGenTime holds genTime to RFC 3161's form (YYYYMMDDhhmmss[.s]Z, no
// trailing zeros) and each field to its range.
func checkGenTime(s string) error {
	m := genTimeForm.FindStringSubmatch(s)
	if m == nil {
		return profileErr("genTime %q is not UTC GeneralizedTime without trailing zeros", s)
	}
	return checkFields(m[1:7], "genTime", s)
}

// checkFields holds a time's fields (year, month, day, hour, minute,
// second) to their ranges.
func checkFields(fields []string, what, s string) error {
	n := make([]int, 6)
	for i := range n {
		n[i], _ = strconv.Atoi(fields[i])
	}
	days := time.Date(n[0], time.Month(n[1])+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if n[1] < 1 || n[1] > 12 || n[2] < 1 || n[2] > days || n[3] > 23 || n[4] > 59 || n[5] > 59 {
		return profileErr("%s %q is not a time", what, s)
	}
	return nil
}

// smallInt reports whether v, the content of an INTEGER, is minimally
// encoded and within lo and hi.
func smallInt(v []byte, lo, hi int64) bool {
	if len(v) == 0 || len(v) > 2 || v[0]&0x80 != 0 || len(v) == 2 && v[0] == 0 && v[1]&0x80 == 0 {
		return false
	}
	n := int64(v[0])
	if len(v) == 2 {
		n = n<<8 | int64(v[1])
	}
	return n >= lo && n <= hi
}

// checkAccuracy holds an Accuracy to its ranges: seconds up to an hour,
// millis and micros 1 to 999 (RFC 3161 §2.4.2).
func checkAccuracy(acc cryptobyte.String) error {
	var seconds int64
	if acc.PeekASN1Tag(cbasn1.INTEGER) && (!acc.ReadASN1Int64WithTag(&seconds, cbasn1.INTEGER) || seconds < 0 || seconds > maxAccuracy) {
		return profileErr("an accuracy of other than 0 to %d seconds", maxAccuracy)
	}
	for _, t := range []cbasn1.Tag{cbasn1.Tag(0).ContextSpecific(), cbasn1.Tag(1).ContextSpecific()} {
		var v cryptobyte.String
		var present bool
		if !acc.ReadOptionalASN1(&v, &present, t) {
			return profileErr("malformed accuracy")
		}
		if present && !smallInt(v, 1, 999) {
			return profileErr("accuracy millis or micros outside 1 to 999")
		}
	}
	if !acc.Empty() {
		return profileErr("the accuracy holds more than its fields")
	}
	return nil
}

// generalNameTags are the GeneralName choices (RFC 5280 §4.2.1.6) the
// profile takes for a TSTInfo's tsa, as their tags: rfc822Name, dNSName,
// directoryName, uniformResourceIdentifier, iPAddress, registeredID.
// otherName, x400Address and ediPartyName are left out: pkijs reads their
// insides, digitorus does not, and authorities name themselves by a
// directoryName.
var generalNameTags = []byte{0x81, 0x82, 0xa4, 0x86, 0x87, 0x88}

// checkGeneralName holds the TSTInfo's tsa field to one GeneralName; a
// directoryName holds one Name (RDNs of attribute types and values), a
// registeredID an identifier.
func checkGeneralName(name cryptobyte.String) error {
	var e, body cryptobyte.String
	var tag cbasn1.Tag
	if !name.ReadAnyASN1Element(&e, &tag) || !name.Empty() || !bytes.Contains(generalNameTags, []byte{byte(tag)}) {
		return profileErr("the TSTInfo's tsa is not one GeneralName the profile takes")
	}
	if !e.ReadASN1(&body, tag) {
		return profileErr("the TSTInfo's tsa is not one GeneralName the profile takes")
	}
	switch tag {
	case cbasn1.Tag(8).ContextSpecific():
		if !oidDER(body) {
			return profileErr("the TSTInfo's tsa is a registeredID that is no identifier")
		}
	case cbasn1.Tag(4).Constructed().ContextSpecific():
		if err := checkName(body, false, "the TSTInfo's tsa, a directoryName,"); err != nil {
			return err
		}
	}
	return nil
}

// checkExtensions holds the TSTInfo's extensions to Extension's shape,
// and a qcStatements extension to a SEQUENCE of statements, each an
// identifier and at most one element of information.
func checkExtensions(exts cryptobyte.String) error {
	for !exts.Empty() {
		var ext, id, value cryptobyte.String
		if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1(&id, cbasn1.OBJECT_IDENTIFIER) {
			return profileErr("a TSTInfo extension that is not an Extension")
		}
		ext.SkipOptionalASN1(cbasn1.BOOLEAN)
		if !ext.ReadASN1(&value, cbasn1.OCTET_STRING) || !ext.Empty() {
			return profileErr("a TSTInfo extension that is not an Extension")
		}
		if !bytes.Equal(id, oidQCStatementsDER) {
			continue
		}
		if err := checkDER(value); err != nil {
			return err
		}
		var sts cryptobyte.String
		if !value.ReadASN1(&sts, cbasn1.SEQUENCE) || !value.Empty() {
			return profileErr("malformed qcStatements")
		}
		for !sts.Empty() {
			var st, sid, info cryptobyte.String
			var tag cbasn1.Tag
			if !sts.ReadASN1(&st, cbasn1.SEQUENCE) || !st.ReadASN1(&sid, cbasn1.OBJECT_IDENTIFIER) ||
				!st.Empty() && (!st.ReadAnyASN1Element(&info, &tag) || !st.Empty()) {
				return profileErr("malformed qcStatements")
			}
		}
	}
	return nil
}
