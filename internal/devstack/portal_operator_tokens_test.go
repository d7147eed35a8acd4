package devstack_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"github.com/evidencevault/vault/client"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/tsa"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/evidencevault/vault/internal/witnessing"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"golang.org/x/mod/sumdb/note"
)

// TestPortalMatchesGoOnOperatorEdits: receipts an operator can write (the stack's
// own token with its unsigned parts re-encoded, the bundle's JSON and
// checkpoint lines), and tokens a trusted authority's key signs with odd
// contents; the portal's in-hand path (Blob.text, strictJSON,
// verifyReceipt) must fail what Go's VerifyOffline fails.
func TestPortalMatchesGoOnOperatorEdits(t *testing.T) {
	dir := t.TempDir()
	env, _, stop := testenv.LocalStack(t, dir)
	defer stop()
	ctx := context.Background()
	g := newTokenRig(t, env)
	doc, kl, trust, rootPEM, roots, intact, sig, tsr, stackLeaf, rc, witness := g.doc, g.kl, g.trust, g.rootPEM, g.roots, g.intact, g.sig, g.tsr, g.stackLeaf, g.rc, g.witness
	var env0 dsse.Envelope
	json.Unmarshal(intact.Envelope, &env0)
	payload, _ := base64.StdEncoding.DecodeString(env0.Payload)
	if !bytes.Equal(tokParse(t, tsr).enc(), tsr) {
		t.Fatal("tokParse does not rebuild the stack's token")
	}
	rv := newOddCerts(t, rc)
	r2 := newChainCerts(t, rc)

	with := g.with
	cp := intact.Log.Checkpoint
	stamped := g.stamped
	// edit re-encodes the stack's token with f's changes to its parts.
	edit := func(f func(r, sd, si *tokNode)) []byte {
		r := tokParse(t, tsr)
		sd := r.kids[1].kids[1].kids[0]
		sis := sd.kids[len(sd.kids)-1]
		if sis.tag != 0x31 {
			t.Fatal("no signerInfos last in the token's SignedData")
		}
		f(r, sd, sis.kids[0])
		return stamped(r.enc())
	}
	nonMinimalOID := func(o []byte) []byte { // one needless 0x80 in its second arc
		b := o[2:]
		return tokTLV(6, b[:1], []byte{0x80}, b[1:])
	}
	crafted := func(l tokLeaf, x tokTSTInfo) []byte { return g.crafted(t, l, x) }
	tstNow := g.tstNow
	split := strings.LastIndex(cp, "\n\n") + 2
	var logLines, witnessLines []string
	for _, l := range strings.Split(strings.TrimSuffix(cp[split:], "\n"), "\n") {
		if strings.HasPrefix(l, "— "+witness.Name()+" ") {
			witnessLines = append(witnessLines, l)
		} else {
			logLines = append(logLines, l)
		}
	}
	withLines := func(lines ...string) string { return cp[:split] + strings.Join(lines, "\n") + "\n" }
	alteredLine := func(line string, at int) string {
		f := strings.Fields(line)
		b, _ := base64.StdEncoding.DecodeString(f[2])
		b[at] ^= 1
		return f[0] + " " + f[1] + " " + base64.StdEncoding.EncodeToString(b)
	}
	editedLog := func(member, raw string) []byte {
		var m, l map[string]json.RawMessage
		json.Unmarshal(with(intact.Timestamps, cp), &m)
		json.Unmarshal(m["log"], &l)
		l[member] = json.RawMessage(raw)
		m["log"], _ = json.Marshal(l)
		out, _ := json.Marshal(m)
		return out
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, ".local", "signing-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	vaultKey, err := receipt.NewLocalSigner(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	// resigned is the receipt with its statement changed and signed again
	// by the vault's key, stamped now by the second CA's authority: its
	// log proof no longer holds.
	resigned := func(re, repl string) []byte {
		p := regexp.MustCompile(re).ReplaceAll(payload, []byte(repl))
		if bytes.Equal(p, payload) {
			t.Fatalf("%s matches nothing in the statement", re)
		}
		id, _ := vaultKey.KeyID()
		s, err := vaultKey.Sign(ctx, dsse.PAE(receipt.PayloadType, p))
		if err != nil {
			t.Fatal(err)
		}
		e, _ := json.Marshal(dsse.Envelope{PayloadType: receipt.PayloadType, Payload: base64.StdEncoding.EncodeToString(p),
			Signatures: []dsse.Signature{{KeyID: id, Sig: base64.StdEncoding.EncodeToString(s)}}})
		tok := tokSignTST(t, rc.proper, tokNewTST(s, time.Now().UTC()).bytes(), nil, false).bytes()
		raw, _ := json.Marshal(vault.Bundle{Envelope: e, Log: intact.Log, Timestamps: [][]byte{tok}})
		return raw
	}
	// A certificate Go's x509 refuses to parse (a negative serial) that
	// pkijs reads.
	negSerial := tokParse(t, rc.proper.cert.Raw)
	negSerial.kids[0].kids[1].body[0] |= 0x80
	if _, err := x509.ParseCertificate(negSerial.enc()); err == nil {
		t.Fatal("Go's x509 takes a negative serial number")
	}
	hand := func(l tokLeaf, content []byte, f func(k *tokToken)) []byte {
		k := tokSignTST(t, l, content, nil, false)
		f(&k)
		return stamped(k.bytes())
	}
	content := tstNow().bytes()
	// chain is a token by l carrying l's certificate and those above it.
	chain := func(l tokLeaf, above ...*x509.Certificate) []byte {
		k := tokSignTST(t, l, content, nil, false)
		raws := [][]byte{l.cert.Raw}
		for _, c := range above {
			raws = append(raws, c.Raw)
		}
		k.certs = tokTLV(0xa0, raws...)
		return stamped(k.bytes())
	}

	none := []string{}
	ts := []string{"timestamp"}
	cases := []opCase{
		{"intact", with(intact.Timestamps, cp), none},
		{"second CA baseline token", crafted(rc.proper, tstNow()), none},

		// --- the stack's genuine token, its unsigned parts re-encoded ---
		{"the response a SET, not a SEQUENCE", edit(func(r, sd, si *tokNode) { r.tag = 0x31 }), ts},
		{"status string not UTF-8", edit(func(r, sd, si *tokNode) {
			r.kids[0] = tokRaw(tokTLV(0x30, tokInt(0), tokTLV(0x30, tokTLV(0x0c, []byte{0xff, 0xfe}))))
		}), ts},
		{"status failInfo with nonzero padding bits", edit(func(r, sd, si *tokNode) {
			r.kids[0] = tokRaw(tokTLV(0x30, tokInt(0), tokTLV(0x03, []byte{0x07, 0xff})))
		}), ts},
		{"contentType OID non-minimal", edit(func(r, sd, si *tokNode) { r.kids[1].kids[0] = tokRaw(nonMinimalOID(r.kids[1].kids[0].enc())) }), ts},
		{"eContentType OID non-minimal", edit(func(r, sd, si *tokNode) { sd.kids[2].kids[0] = tokRaw(nonMinimalOID(sd.kids[2].kids[0].enc())) }), ts},
		{"SignedData version non-minimal", edit(func(r, sd, si *tokNode) { sd.kids[0] = tokRaw(tokTLV(2, []byte{0}, sd.kids[0].body)) }), ts},
		{"digestAlgorithms OID non-minimal", edit(func(r, sd, si *tokNode) {
			sd.kids[1].kids[0].kids[0] = tokRaw(nonMinimalOID(sd.kids[1].kids[0].kids[0].enc()))
		}), ts},
		{"signerInfo version non-minimal", edit(func(r, sd, si *tokNode) { si.kids[0] = tokRaw(tokTLV(2, []byte{0}, si.kids[0].body)) }), ts},
		{"signer named by subjectKeyIdentifier", edit(func(r, sd, si *tokNode) {
			var spki struct {
				Alg asn1.RawValue
				Key asn1.BitString
			}
			asn1.Unmarshal(stackLeaf.RawSubjectPublicKeyInfo, &spki)
			h := sha1.Sum(spki.Key.Bytes)
			si.kids[1] = tokRaw(tokTLV(0x80, h[:]))
		}), ts},
		{"unsigned attribute with a non-minimal OID", edit(func(r, sd, si *tokNode) {
			si.kids = append(si.kids, tokRaw(tokTLV(0xa1, tokTLV(0x30, tokTLV(6, []byte{0x2a, 0x80, 0x03}), tokTLV(0x31, []byte{5, 0})))))
		}), ts},
		{"certificates with a leading-zero length", edit(func(r, sd, si *tokNode) {
			c := tokCertsIn(sd)
			body := c.enc()[len(tokHeader(c.enc())):]
			n := len(body)
			c.raw = slices.Concat([]byte{0xa0, 0x84, 0, byte(n >> 16), byte(n >> 8), byte(n)}, body)
		}), ts},
		{"eContent in two BER chunks", edit(func(r, sd, si *tokNode) {
			oct := sd.kids[2].kids[1].kids[0]
			sd.kids[2].kids[1].kids[0] = tokRaw(tokTLV(0x24, tokTLV(4, oct.body[:10]), tokTLV(4, oct.body[10:])))
		}), ts},
		{"an extra certificate Go's x509 cannot parse (negative serial)", edit(func(r, sd, si *tokNode) {
			c := tokCertsIn(sd)
			c.kids = append(c.kids, negSerial)
		}), ts},
		{"a CRL whose version is non-minimal", edit(func(r, sd, si *tokNode) {
			alg := tokTLV(0x30, tokOID(1, 2, 840, 10045, 4, 3, 2))
			tbs := tokTLV(0x30, []byte{2, 2, 0, 1}, alg, rc.root.cert.RawSubject, tokTLV(0x17, []byte(time.Now().UTC().Add(-time.Hour).Format("060102150405Z"))))
			i := slices.IndexFunc(sd.kids, func(n *tokNode) bool { return n.tag == 0xa0 })
			sd.kids = slices.Insert(sd.kids, i+1, tokRaw(tokTLV(0xa1, tokTLV(0x30, tbs, alg, tokTLV(3, []byte{0, 1, 2})))))
		}), ts},
		{"the certificates stripped, the authority's among the policy's intermediates", edit(func(r, sd, si *tokNode) {
			sd.kids = slices.DeleteFunc(sd.kids, func(n *tokNode) bool { return n.tag == 0xa0 })
		}), ts},
		{"status string a PrintableString", edit(func(r, sd, si *tokNode) {
			r.kids[0] = tokRaw(tokTLV(0x30, tokInt(0), tokTLV(0x30, tokTLV(0x13, []byte("ok")))))
		}), ts},
		{"status with an extra element", edit(func(r, sd, si *tokNode) { r.kids[0] = tokRaw(tokTLV(0x30, tokInt(0), []byte{1, 1, 0xff})) }), ts},
		{"unsigned attribute whose value is no SET", edit(func(r, sd, si *tokNode) {
			si.kids = append(si.kids, tokRaw(tokTLV(0xa1, tokTLV(0x30, tokOID(1, 2, 3), []byte{5, 0}))))
		}), ts},
		{"signed attributes reordered", edit(func(r, sd, si *tokNode) {
			a := si.kids[3]
			if a.tag != 0xa0 {
				t.Fatal("no signed attributes")
			}
			slices.Reverse(a.kids)
		}), ts},
		{"an element after the signerInfo's fields", edit(func(r, sd, si *tokNode) { si.kids = append(si.kids, tokRaw([]byte{5, 0})) }), ts},

		{"the authority's certificate's version field in BER (0x81 length)", edit(func(r, sd, si *tokNode) {
			for _, c := range tokCertsIn(sd).kids {
				if x, err := x509.ParseCertificate(c.enc()); err == nil && x.Equal(stackLeaf) {
					v := c.kids[0].kids[0]
					v.raw = slices.Concat([]byte{v.tag, 0x81, byte(len(v.enc()) - 2)}, v.enc()[2:])
				}
			}
		}), ts},
		{"SignedData in BER's indefinite length", edit(func(r, sd, si *tokNode) {
			e := sd.enc()
			sd.raw = slices.Concat([]byte{0x30, 0x80}, e[len(tokHeader(e)):], []byte{0, 0})
		}), ts},
		// --- the bundle as JSON and its checkpoint ---
		{"log index written with an exponent", editedLog("index", strconv.FormatInt(intact.Log.Index, 10)+"e0"), []string{"format"}},
		{"log index written with a fraction", editedLog("index", strconv.FormatInt(intact.Log.Index, 10)+".0"), []string{"format"}},
		{"a byte-order mark before the bundle", slices.Concat([]byte("\ufeff"), with(intact.Timestamps, cp)), []string{"format"}},
		{"an extra signature line whose name is not UTF-8", bytes.Replace(with(intact.Timestamps, withLines(append(slices.Clone(logLines), witnessLines[0],
			"— NAMEPLACEHOLDER "+base64.StdEncoding.EncodeToString([]byte("12345678")))...)), []byte("NAMEPLACEHOLDER"), []byte("bad\xffname"), 1), []string{"format"}},
		{"the log's signature line repeated, altered", with(intact.Timestamps, withLines(append(slices.Clone(logLines), alteredLine(logLines[0], 20), witnessLines[0])...)), none},
		{"101 signature lines (agrees)", with(intact.Timestamps, withLines(append(append(slices.Clone(logLines), witnessLines[0]), slices.Repeat([]string{"— other " + base64.StdEncoding.EncodeToString([]byte("12345678"))}, 101-len(logLines)-1)...)...)), []string{"log_inclusion", "witnessed"}},
		{"100 signature lines (agrees)", with(intact.Timestamps, withLines(append(append(slices.Clone(logLines), witnessLines[0]), slices.Repeat([]string{"— other " + base64.StdEncoding.EncodeToString([]byte("12345678"))}, 100-len(logLines)-1)...)...)), none},
		{"the cosignature twice (agrees)", with(intact.Timestamps, withLines(append(slices.Clone(logLines), witnessLines[0], witnessLines[0])...)), none},
		{"the cosignature, then an altered copy (agrees)", with(intact.Timestamps, withLines(append(slices.Clone(logLines), witnessLines[0], alteredLine(witnessLines[0], 20))...)), none},
		{"the log's line with a trailing space (agrees)", with(intact.Timestamps, withLines(append([]string{logLines[0] + " "}, witnessLines[0])...)), []string{"log_inclusion", "witnessed"}},
		{"sealedAt null (signed again)", resigned(`"sealedAt":"[^"]+"`, `"sealedAt":null`), []string{"log_inclusion"}},
		{"sealedAt left out (signed again)", resigned(`,"sealedAt":"[^"]+"`, ``), []string{"log_inclusion"}},
		{"the envelope padded with 300 KiB of spaces", bytes.Replace(with(intact.Timestamps, cp), []byte(`"envelope":{`), append([]byte(`"envelope":{`), bytes.Repeat([]byte(" "), 300<<10)...), 1), []string{"format"}},
		{"receivedAt on February 30th (signed again)", resigned(`"receivedAt":"[^"]+"`, `"receivedAt":"2026-02-30T10:00:00Z"`), []string{"format"}},
		{"receivedAt at hour 99 (signed again)", resigned(`"receivedAt":"[^"]+"`, `"receivedAt":"2026-01-01T99:99:99Z"`), []string{"format"}},
		{"sealedAt with ten fraction digits (signed again)", resigned(`"sealedAt":"([^".Z]+)(\.\d+)?Z"`, `"sealedAt":"${1}.1234567891Z"`), []string{"log_inclusion"}},

		// --- tokens the second CA's authority signs, with odd contents ---
		{"genTime fraction with a trailing zero", crafted(rc.proper, func() tokTSTInfo {
			x := tstNow()
			x.genTime = tokTLV(0x18, []byte(time.Now().UTC().Format("20060102150405")+".50Z"))
			return x
		}()), ts},
		{"genTime 100µs after the signer's certificate expires", crafted(rc.expiring, func() tokTSTInfo {
			x := tstNow()
			x.genTime = tokTLV(0x18, []byte(rc.expiring.cert.NotAfter.UTC().Format("20060102150405")+".0001Z"))
			return x
		}()), ts},
		{"a signingTime attribute outside the signer's validity", stamped(tokSignTST(t, rc.proper, content,
			[][]byte{tokAttr(tokOID(1, 2, 840, 113549, 1, 9, 5), tokTLV(0x17, []byte(time.Now().UTC().AddDate(2, 0, 0).Format("060102150405Z"))))}, false).bytes()), ts},
		{"two messageDigest attributes, a wrong one first", stamped(func() []byte {
			h := sha256.Sum256(content)
			attrs := [][]byte{tokAttr(tokOIDmd, tokTLV(4, make([]byte, 32))), tokAttr(tokOIDmd, tokTLV(4, h[:])), tokAttr(tokOIDct, tokOIDtst)}
			return tokSign(t, rc.proper, content, attrs, true).bytes()
		}()), ts},
		{"signed attributes signed unsorted", stamped(func() []byte {
			h := sha256.Sum256(content)
			return tokSign(t, rc.proper, content, [][]byte{tokAttr(tokOIDmd, tokTLV(4, h[:])), tokAttr(tokOIDct, tokOIDtst)}, true).bytes()
		}()), ts},
		{"TSTInfo serial number non-minimal", crafted(rc.proper, func() tokTSTInfo { x := tstNow(); x.serial = []byte{2, 3, 0, 0x30, 0x39}; return x }()), ts},
		{"TSTInfo ordering BOOLEAN 0x01", crafted(rc.proper, func() tokTSTInfo { x := tstNow(); x.ordering = []byte{1, 1, 1}; return x }()), ts},
		{"TSTInfo policy OID non-minimal", crafted(rc.proper, func() tokTSTInfo { x := tstNow(); x.policy = tokTLV(6, []byte{0x2a, 0x80, 0x03, 0x04}); return x }()), ts},
		{"TSTInfo malformed qcStatements", crafted(rc.proper, func() tokTSTInfo {
			x := tstNow()
			x.exts = tokTLV(0xa1, tokTLV(0x30, tokOID(1, 3, 6, 1, 5, 5, 7, 1, 3), tokTLV(4, tokTLV(0x30, tokTLV(0x30, tokInt(1))))))
			return x
		}()), ts},
		{"accuracy of 2^48 seconds (Go's Duration wraps)", crafted(rc.proper, func() tokTSTInfo { x := tstNow(); x.accuracy = tokTLV(0x30, tokInt(1<<48)); return x }()), ts},
		{"genTime with a +01:00 offset", crafted(rc.proper, func() tokTSTInfo {
			x := tstNow()
			x.genTime = tokTLV(0x18, []byte(time.Now().In(time.FixedZone("", 3600)).Format("20060102150405-0700")))
			return x
		}()), ts},
		{"genTime as a UTCTime", crafted(rc.proper, func() tokTSTInfo {
			x := tstNow()
			x.genTime = tokTLV(0x17, []byte(time.Now().UTC().Format("060102150405Z")))
			return x
		}()), ts},
		{"no contentType signed attribute", stamped(func() []byte {
			h := sha256.Sum256(content)
			return tokSign(t, rc.proper, content, [][]byte{tokAttr(tokOIDmd, tokTLV(4, h[:]))}, false).bytes()
		}()), ts},
		{"TSTInfo followed by other bytes", hand(rc.proper, append(slices.Clone(content), 5, 0), func(k *tokToken) {}), ts},
		{"TSTInfo with an element after its fields", crafted(rc.proper, func() tokTSTInfo { x := tstNow(); x.extra = []byte{5, 0}; return x }()), ts},
		{"accuracy of 2^31 seconds, stamped 50 minutes before sealing", crafted(rc.proper, func() tokTSTInfo {
			x := tokNewTST(sig, time.Now().UTC().Add(-50*time.Minute))
			x.accuracy = tokTLV(0x30, tokInt(1<<31))
			return x
		}()), ts},

		// Edits of the genuine token where its signature does not reach.
		{"sid issuer with a doubled space", edit(func(r, sd, si *tokNode) {
			var f func(n *tokNode)
			f = func(n *tokNode) {
				if n.tag == 0x13 || n.tag == 0x0c {
					n.body = bytes.Replace(n.body, []byte(" "), []byte("  "), 1)
				}
				for _, k := range n.kids {
					f(k)
				}
			}
			f(si.kids[1].kids[0])
		}), ts},
		{"signer with a critical qcStatements", crafted(rv.critQCLeaf, tstNow()), ts},
		{"sid issuer re-encoded as UTF8String", edit(func(r, sd, si *tokNode) { flipStrings(si.kids[1].kids[0]) }), ts},
		{"a copy of the signer's certificate, issuer as UTF8String, first in certificates", edit(func(r, sd, si *tokNode) {
			c := tokCertsIn(sd)
			fake := tokParse(t, stackLeaf.Raw)
			flipStrings(fake.kids[0].kids[3])
			c.kids = append([]*tokNode{fake}, c.kids...)
		}), ts},
		{"signer digestAlgorithm ecdsa-with-SHA256", edit(func(r, sd, si *tokNode) { si.kids[2] = tokRaw(tokTLV(0x30, tokOID(1, 2, 840, 10045, 4, 3, 2))) }), ts},
		{"signatureAlgorithm the P-256 curve OID", edit(func(r, sd, si *tokNode) { si.kids[4] = tokRaw(tokTLV(0x30, tokOID(1, 2, 840, 10045, 3, 1, 7))) }), ts},
		{"crls holding an OtherRevocationInfoFormat", edit(func(r, sd, si *tokNode) {
			i := slices.IndexFunc(sd.kids, func(n *tokNode) bool { return n.tag == 0xa0 })
			sd.kids = slices.Insert(sd.kids, i+1, tokRaw(tokTLV(0xa1, tokTLV(0xa1, tokOID(1, 2, 3, 4), []byte{5, 0}))))
		}), ts},
		{"an extra certificate of version 5", edit(func(r, sd, si *tokNode) {
			c := tokCertsIn(sd)
			fake := tokParse(t, stackLeaf.Raw)
			fake.kids[0].kids[0] = tokRaw(tokTLV(0xa0, tokInt(4)))
			c.kids = append(c.kids, fake)
		}), ts},
		{"digestAlgorithms empty", edit(func(r, sd, si *tokNode) { sd.kids[1] = tokRaw([]byte{0x31, 0}) }), none},
		{"digestAlgorithms MD5", edit(func(r, sd, si *tokNode) {
			sd.kids[1] = tokRaw(tokTLV(0x31, tokTLV(0x30, tokOID(1, 2, 840, 113549, 2, 5), []byte{5, 0})))
		}), none},
		// A trusted authority signing odd contents.
		{"messageDigest value tagged [0], not OCTET STRING", stamped(func() []byte {
			h := sha256.Sum256(content)
			return tokSign(t, rc.proper, content, [][]byte{tokAttr(tokOIDct, tokOIDtst), tokAttr(tokOIDmd, tokTLV(0x80, h[:]))}, false).bytes()
		}()), ts},
		{"qcStatement whose info is truncated", crafted(rc.proper, func() tokTSTInfo {
			x := tstNow()
			x.exts = tokTLV(0xa1, tokTLV(0x30, tokOID(1, 3, 6, 1, 5, 5, 7, 1, 3), tokTLV(4, tokTLV(0x30, tokTLV(0x30, tokOID(0, 4, 0, 19422, 1, 1), []byte{4, 5, 0})))))
			return x
		}()), ts},
		{"qcStatement whose info has a non-minimal length", crafted(rc.proper, func() tokTSTInfo {
			x := tstNow()
			x.exts = tokTLV(0xa1, tokTLV(0x30, tokOID(1, 3, 6, 1, 5, 5, 7, 1, 3), tokTLV(4, tokTLV(0x30, tokTLV(0x30, tokOID(0, 4, 0, 19422, 1, 1), []byte{4, 0x81, 1, 0})))))
			return x
		}()), ts},
		{"signingTime 100us after the signer's certificate expires", stamped(tokSignTST(t, rc.expiring, content,
			[][]byte{tokAttr(tokOID(1, 2, 840, 113549, 1, 9, 5), tokTLV(0x18, []byte(rc.expiring.cert.NotAfter.UTC().Format("20060102150405")+".0001Z")))}, false).bytes()), ts},
		{"signingTime an INTEGER", stamped(tokSignTST(t, rc.proper, content,
			[][]byte{tokAttr(tokOID(1, 2, 840, 113549, 1, 9, 5), tokInt(5))}, false).bytes()), ts},
		{"tsa name [0] holding an INTEGER", crafted(rc.proper, func() tokTSTInfo { x := tstNow(); x.tsaName = tokTLV(0xa0, tokInt(1)); return x }()), ts},
		{"no signing certificate attribute", stamped(func() []byte {
			h := sha256.Sum256(content)
			return tokSignBare(t, rc.proper, content, [][]byte{tokAttr(tokOIDct, tokOIDtst), tokAttr(tokOIDmd, tokTLV(4, h[:]))}, false).bytes()
		}()), ts},
		{"a signingCertificate (SHA-1) naming the signer", stamped(tokSignTST(t, rc.proper, content, [][]byte{func() []byte {
			h := sha1.Sum(rc.proper.cert.Raw)
			return tokAttr(tokOIDessV1, tokTLV(0x30, tokTLV(0x30, tokTLV(0x30, tokTLV(4, h[:])))))
		}()}, false).bytes()), none},
		{"a signingCertificate (SHA-1) naming another certificate", stamped(tokSignTST(t, rc.proper, content, [][]byte{func() []byte {
			h := sha1.Sum(rc.expiring.cert.Raw)
			return tokAttr(tokOIDessV1, tokTLV(0x30, tokTLV(0x30, tokTLV(0x30, tokTLV(4, h[:])))))
		}()}, false).bytes()), ts},
		{"a signingCertificateV2 naming the signer's hash under another serial number", stamped(tokSignTST(t, rc.proper, content, [][]byte{func() []byte {
			h := sha256.Sum256(rc.proper.cert.Raw)
			return tokAttr(tokOIDessV2, tokTLV(0x30, tokTLV(0x30, tokTLV(0x30, tokTLV(4, h[:]), tokTLV(0x30, tokTLV(0x30, tokTLV(0xa4, rc.proper.cert.RawIssuer)), tokInt(99))))))
		}()}, false).bytes()), ts},
		{"a signingCertificateV2 by SHA-384 naming the signer", stamped(tokSignTST(t, rc.proper, content, [][]byte{func() []byte {
			h := sha512.Sum384(rc.proper.cert.Raw)
			return tokAttr(tokOIDessV2, tokTLV(0x30, tokTLV(0x30, tokTLV(0x30, tokTLV(0x30, tokOID(2, 16, 840, 1, 101, 3, 4, 2, 2)), tokTLV(4, h[:])))))
		}()}, false).bytes()), none},
		{"signingCertificateV2 naming another certificate", stamped(tokSignTST(t, rc.proper, content,
			[][]byte{tokAttr(tokOID(1, 2, 840, 113549, 1, 9, 16, 2, 47), tokTLV(0x30, tokTLV(0x30, tokTLV(0x30, tokTLV(4, make([]byte, 32))))))}, false).bytes()), ts},
		{"messageDigest and signer digestAlgorithm SHA-1", stamped(func() []byte {
			h := sha1.Sum(content)
			k := tokSign(t, rc.proper, content, [][]byte{tokAttr(tokOIDct, tokOIDtst), tokAttr(tokOIDmd, tokTLV(4, h[:]))}, false)
			k.siDigestAlg = tokTLV(0x30, tokOID(1, 3, 14, 3, 2, 26))
			return k.bytes()
		}()), ts},
		{"contentType attribute id-data", stamped(func() []byte {
			h := sha256.Sum256(content)
			return tokSign(t, rc.proper, content, [][]byte{tokAttr(tokOIDct, tokOID(1, 2, 840, 113549, 1, 7, 1)), tokAttr(tokOIDmd, tokTLV(4, h[:]))}, false).bytes()
		}()), ts},
		{"TSTInfo version 2", crafted(rc.proper, func() tokTSTInfo { x := tstNow(); x.version = tokInt(2); return x }()), ts},
		// Certificates a trusted CA issued.
		{"signer with an unknown critical extension", crafted(rv.critLeaf, tstNow()), ts},
		{"signer whose issuer is the root's name as UTF8String", crafted(rv.utf8Issuer, tstNow()), ts},
		{"signer under an intermediate with a critical qcStatements", chain(rv.underQC, rv.qcInter.cert), ts},

		// Signers, certificates and names the two libraries read apart.
		{"signatureAlgorithm rsaEncryption over an ECDSA signature", hand(rc.proper, content, func(k *tokToken) {
			k.sigAlg = tokTLV(0x30, tokOID(1, 2, 840, 113549, 1, 1, 1), []byte{5, 0})
		}), ts},
		{"stack token, signatureAlgorithm rsaEncryption", edit(func(r, sd, si *tokNode) {
			si.kids[4] = tokRaw(tokTLV(0x30, tokOID(1, 2, 840, 113549, 1, 1, 1), []byte{5, 0}))
		}), ts},
		{"signatureAlgorithm rsaEncryption without NULL", hand(rc.proper, content, func(k *tokToken) {
			k.sigAlg = tokTLV(0x30, tokOID(1, 2, 840, 113549, 1, 1, 1))
		}), ts},
		{"signer with a critical authorityKeyIdentifier", crafted(r2.akiCrit, tstNow()), ts},
		{"signer with a duplicated extension", crafted(r2.dupExt, tstNow()), ts},
		{"signer with a critical SAN holding only a directoryName", crafted(r2.sanDir, tstNow()), ts},
		{"signer under an intermediate with critical directoryName name constraints", chain(r2.underNC, r2.ncCrit.cert), ts},
		{"signer under an intermediate with non-critical excluded directoryName", chain(r2.underNCx, r2.ncEx.cert), ts},
		{"the root carried with its outer signatureAlgorithm unlike its inner", hand(rc.proper, content, func(k *tokToken) {
			n := tokParse(t, rc.root.cert.Raw)
			n.kids[1] = tokRaw(tokTLV(0x30, tokOID(1, 2, 840, 10045, 4, 3, 2), []byte{5, 0}))
			k.certs = tokTLV(0xa0, rc.proper.cert.Raw, n.enc())
		}), ts},
		{"control: the root carried as it is", hand(rc.proper, content, func(k *tokToken) {
			k.certs = tokTLV(0xa0, rc.proper.cert.Raw, rc.root.cert.Raw)
		}), none},
		{"signer with requireExplicitPolicy 0 and no policies", crafted(r2.rep0, tstNow()), ts},
		{"tsa an otherName that is no OtherName (not qualified)", crafted(rc.proper, func() tokTSTInfo { x := tstNow(); x.tsaName = tokTLV(0xa0, tokTLV(0xa0, tokInt(1))); return x }()), ts},
		{"signer under two intermediates, the upper with pathLen 0", chain(r2.underPL, r2.plLow.cert, r2.pl0.cert), ts},
		{"signer (no SAN) under an intermediate permitting only dNSName example.com", chain(r2.underDNS, r2.ncDNS.cert), ts},
		{"signer under an intermediate with requireExplicitPolicy 0, both with policy 1.2.3", chain(r2.underREP, r2.repInter.cert), ts},
		// Tokens real authorities issue.
		{"SHA-384 under ecdsa-with-SHA384", stamped(tokSignKey(t, keyLeaf{rc.proper.cert, rc.proper.key}, content, crypto.SHA384, tokOID(2, 16, 840, 1, 101, 3, 4, 2, 2), tokTLV(0x30, tokOID(1, 2, 840, 10045, 4, 3, 3))).bytes()), none},
		{"SHA-512 under ecdsa-with-SHA512", stamped(tokSignKey(t, keyLeaf{rc.proper.cert, rc.proper.key}, content, crypto.SHA512, tokOID(2, 16, 840, 1, 101, 3, 4, 2, 3), tokTLV(0x30, tokOID(1, 2, 840, 10045, 4, 3, 4))).bytes()), none},
		{"a UTCTime signingTime now", stamped(tokSignTST(t, rc.proper, content,
			[][]byte{tokAttr(tokOID(1, 2, 840, 113549, 1, 9, 5), tokTLV(0x17, []byte(time.Now().UTC().Format("060102150405Z"))))}, false).bytes()), none},
		{"tsa name a directoryName", crafted(rc.proper, func() tokTSTInfo {
			x := tstNow()
			x.tsaName = tokTLV(0xa0, tokTLV(0xa4, rc.proper.cert.RawSubject))
			return x
		}()), none},
		{"ESSCertIDv2 with explicit SHA-256 and NULL", stamped(tokSignTST(t, rc.proper, content, [][]byte{func() []byte {
			h := sha256.Sum256(rc.proper.cert.Raw)
			return tokAttr(tokOIDessV2, tokTLV(0x30, tokTLV(0x30, tokTLV(0x30, tokTLV(0x30, tokOIDsha256, []byte{5, 0}), tokTLV(4, h[:])))))
		}()}, false).bytes()), none},
		{"ESSCertID v1 with issuerSerial", stamped(tokSignTST(t, rc.proper, content, [][]byte{func() []byte {
			h := sha1.Sum(rc.proper.cert.Raw)
			serial, _ := asn1.Marshal(rc.proper.cert.SerialNumber)
			return tokAttr(tokOIDessV1, tokTLV(0x30, tokTLV(0x30, tokTLV(0x30, tokTLV(4, h[:]), tokTLV(0x30, tokTLV(0x30, tokTLV(0xa4, rc.proper.cert.RawIssuer)), serial)))))
		}()}, false).bytes()), none},
		{"nonce present, accuracy with millis", crafted(rc.proper, func() tokTSTInfo {
			x := tstNow()
			x.nonce = tokInt(1 << 40)
			x.accuracy = tokTLV(0x30, tokInt(1), tokTLV(0x80, []byte{0x01, 0xf4}))
			return x
		}()), none},
	}

	b := portalPage(t, env)
	compare(t, b, ctx, env, kl, doc, trust, g.jsRoots(), g.jsIntermediates(), cases)

	// A version 1 root (no basic constraints): Go's x509 would let it
	// issue, pkijs would not; both refuse it as an anchor.
	v1 := trust
	v1.Stamps = &tsa.Trust{Roots: append(slices.Clone(roots), rv.v1root.cert)}
	compare(t, b, ctx, env, kl, doc, v1, []string{string(rootPEM), pemOf(rv.v1root.cert)}, []string{}, []opCase{
		{"a signer under a version 1 root", crafted(rv.underV1, tstNow()), ts},
		{"the stack's token beside a version 1 root", with(intact.Timestamps, cp), ts},
	})
	qcExt := tokTLV(0xa1, tokTLV(0x30, tokOID(1, 3, 6, 1, 5, 5, 7, 1, 3), tokTLV(4, tokTLV(0x30, tokTLV(0x30, tokOID(0, 4, 0, 19422, 1, 1))))))
	qt := trust
	qs := *trust.Stamps
	qs.Qualified = true
	qt.Stamps = &qs
	compare(t, b, ctx, env, kl, doc, qt, g.jsRoots(), g.jsIntermediates(), []opCase{
		{"a qualified token", crafted(rc.proper, func() tokTSTInfo { x := tstNow(); x.exts = qcExt; return x }()), none},
		{"a qualified token with a tsa directoryName", crafted(rc.proper, func() tokTSTInfo {
			x := tstNow()
			x.exts = qcExt
			x.tsaName = tokTLV(0xa0, tokTLV(0xa4, rc.proper.cert.RawSubject))
			return x
		}()), none},
		{"a qualified token whose tsa is an otherName pkijs does not read", crafted(rc.proper, func() tokTSTInfo {
			x := tstNow()
			x.exts = qcExt
			x.tsaName = tokTLV(0xa0, tokTLV(0xa0, tokInt(1)))
			return x
		}()), ts},
		{"a qualified token whose tsa directoryName holds no RDNs", crafted(rc.proper, func() tokTSTInfo {
			x := tstNow()
			x.exts = qcExt
			x.tsaName = tokTLV(0xa0, tokTLV(0xa4, tokTLV(0x30, tokInt(1))))
			return x
		}()), ts},
		{"not qualified (control)", crafted(rc.proper, tstNow()), ts},
	})
	// Keys, validity times and certificate signatures both must read alike.
	{
		now := time.Now().UTC()
		mk := func(bits int) *rsa.PrivateKey {
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
		rsaLeaf := func(key crypto.Signer, serial int64) keyLeaf {
			return keyLeaf{issueKey(t, rc.root.cert, rc.root.key, key.Public(), serial, "RSA TSA", false, nil), key}
		}
		oidSHA384 := tokOID(2, 16, 840, 1, 101, 3, 4, 2, 2)
		oidSHA512 := tokOID(2, 16, 840, 1, 101, 3, 4, 2, 3)
		rsaAlg := func(ids ...int) []byte { return tokTLV(0x30, tokOID(ids...), []byte{5, 0}) }
		r2048 := rsaLeaf(mk(2048), 600)
		r3072 := rsaLeaf(mk(3072), 601)
		r4096 := rsaLeaf(mk(4096), 602)
		r512 := rsaLeaf(newManualRSA(t, 512, 65537), 603)
		rBigE := rsaLeaf(newManualRSA(t, 2048, 1<<32+15), 604)
		r3 := rsaLeaf(newManualRSA(t, 2048, 3), 605)
		r1024 := rsaLeaf(mk(1024), 608)
		k384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		k521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		p384 := keyLeaf{issueKey(t, rc.root.cert, rc.root.key, k384.Public(), 606, "P-384 TSA", false, nil), k384}
		p521 := keyLeaf{issueKey(t, rc.root.cert, rc.root.key, k521.Public(), 607, "P-521 TSA", false, nil), k521}
		// Intermediates: no keyCertSign; an Ed25519 key; an RSA key.
		kuInter := issueUnder(t, rc.root, 610, "No keyCertSign intermediate", true, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature })
		underKU := issueUnder(t, kuInter, 611, "Under no keyCertSign", false, nil)
		edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
		edInter := issueKey(t, rc.root.cert, rc.root.key, edPub, 612, "Ed25519 intermediate", true, nil)
		edLeafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		underEd := tokLeaf{issueKey(t, edInter, edKey, edLeafKey.Public(), 613, "Under Ed25519", false, nil), edLeafKey}
		rsaIK := mk(2048)
		rsaInter := issueKey(t, rc.root.cert, rc.root.key, rsaIK.Public(), 614, "RSA intermediate", true, nil)
		var underRSA, underPSS tokLeaf
		{
			k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			underRSA = tokLeaf{issueKey(t, rsaInter, rsaIK, k.Public(), 615, "Under RSA sha384", false, func(c *x509.Certificate) { c.SignatureAlgorithm = x509.SHA384WithRSA }), k}
			k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			underPSS = tokLeaf{issueKey(t, rsaInter, rsaIK, k2.Public(), 616, "Under RSA PSS", false, func(c *x509.Certificate) { c.SignatureAlgorithm = x509.SHA256WithRSAPSS }), k2}
		}
		pss20 := tokLeaf{resignAny(t, underPSS.cert, rsaIK, tokTLV(0x30, tokOID(1, 2, 840, 113549, 1, 1, 10), tokTLV(0x30,
			tokTLV(0xa0, tokTLV(0x30, tokOIDsha256, []byte{5, 0})),
			tokTLV(0xa1, tokTLV(0x30, tokOID(1, 2, 840, 113549, 1, 1, 8), tokTLV(0x30, tokOIDsha256, []byte{5, 0}))),
			tokTLV(0xa2, tokInt(20)))), &rsa.PSSOptions{SaltLength: 20, Hash: crypto.SHA256}, nil), underPSS.key}
		// Leaves re-encoded under the second root.
		base := issueUnder(t, rc.root, 620, "Compressed point TSA", false, nil)
		compressed := tokLeaf{resignAny(t, base.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) {
			pub := base.key.PublicKey
			x := pub.X.FillBytes(make([]byte, 32))
			tbs.kids[6].kids[1] = tokRaw(tokTLV(3, []byte{0, 2 | byte(pub.Y.Bit(0))}, x))
		}), base.key}
		base2 := issueUnder(t, rc.root, 621, "Fractional notAfter TSA", false, nil)
		fraction := tokLeaf{resignAny(t, base2.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) {
			tbs.kids[4].kids[1] = tokRaw(tokTLV(0x18, []byte(now.AddDate(1, 0, 0).Format("20060102150405")+".5Z")))
		}), base2.key}
		base3 := issueUnder(t, rc.root, 622, "Offset notAfter TSA", false, nil)
		offset := tokLeaf{resignAny(t, base3.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) {
			tbs.kids[4].kids[1] = tokRaw(tokTLV(0x17, []byte(now.AddDate(1, 0, 0).Format("060102150405")+"+0100")))
		}), base3.key}
		base4 := issueUnder(t, rc.root, 623, "Minutes notAfter TSA", false, nil)
		minutes := tokLeaf{resignAny(t, base4.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) {
			tbs.kids[4].kids[1] = tokRaw(tokTLV(0x17, []byte(now.AddDate(1, 0, 0).Format("0601021504")+"Z")))
		}), base4.key}
		base5 := issueUnder(t, rc.root, 624, "GeneralizedTime 2049 notAfter TSA", false, nil)
		gen2049 := tokLeaf{resignAny(t, base5.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) {
			tbs.kids[4].kids[1] = tokRaw(tokTLV(0x18, []byte("20491231235959Z")))
		}), base5.key}
		base6 := issueUnder(t, rc.root, 625, "Serial zero TSA", false, nil)
		serial0 := tokLeaf{resignAny(t, base6.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) { tbs.kids[1] = tokRaw(tokInt(0)) }), base6.key}
		serial0.cert.SerialNumber = big.NewInt(0)
		long := new(big.Int).Lsh(big.NewInt(1), 160)
		longDER, _ := asn1.Marshal(long)
		base7 := issueUnder(t, rc.root, 626, "Serial 21 bytes TSA", false, nil)
		serial21 := tokLeaf{resignAny(t, base7.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) { tbs.kids[1] = tokRaw(longDER) }), base7.key}
		serial21.cert.SerialNumber = long
		certSignLeaf := issueUnder(t, rc.root, 627, "keyCertSign leaf TSA", false, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign })
		nrLeaf := issueUnder(t, rc.root, 628, "nonRepudiation leaf TSA", false, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageContentCommitment })
		base8 := issueUnder(t, rc.root, 629, "SHA-512 signed TSA", false, nil)
		sha512Signed := tokLeaf{resignAny(t, base8.cert, rc.root.key, tokTLV(0x30, tokOID(1, 2, 840, 10045, 4, 3, 4)), crypto.SHA512, nil), base8.key}
		noNull := tokLeaf{resignAny(t, underRSA.cert, rsaIK, tokTLV(0x30, tokOID(1, 2, 840, 113549, 1, 1, 11)), crypto.SHA256, nil), underRSA.key}
		base9 := issueUnder(t, rc.root, 630, "ECDSA NULL params TSA", false, nil)
		ecNull := tokLeaf{resignAny(t, base9.cert, rc.root.key, tokTLV(0x30, tokOID(1, 2, 840, 10045, 4, 3, 2), []byte{5, 0}), crypto.SHA256, nil), base9.key}
		mine := []opCase{
			{"RSA-2048 signer, sha256WithRSAEncryption", stamped(tokSignKey(t, r2048, content, crypto.SHA256, tokOIDsha256, rsaAlg(1, 2, 840, 113549, 1, 1, 11)).bytes()), none},
			{"RSA-2048 signer, rsaEncryption", stamped(tokSignKey(t, r2048, content, crypto.SHA256, tokOIDsha256, rsaAlg(1, 2, 840, 113549, 1, 1, 1)).bytes()), none},
			{"RSA-3072 signer, SHA-384, sha384WithRSA", stamped(tokSignKey(t, r3072, content, crypto.SHA384, oidSHA384, rsaAlg(1, 2, 840, 113549, 1, 1, 12)).bytes()), none},
			{"RSA-4096 signer, SHA-512, sha512WithRSA", stamped(tokSignKey(t, r4096, content, crypto.SHA512, oidSHA512, rsaAlg(1, 2, 840, 113549, 1, 1, 13)).bytes()), none},
			{"RSA-512 signer", stamped(tokSignKey(t, r512, content, crypto.SHA256, tokOIDsha256, rsaAlg(1, 2, 840, 113549, 1, 1, 11)).bytes()), ts},
			{"RSA exponent 2^32+15 signer", stamped(tokSignKey(t, rBigE, content, crypto.SHA256, tokOIDsha256, rsaAlg(1, 2, 840, 113549, 1, 1, 11)).bytes()), ts},
			{"RSA-1024 signer", stamped(tokSignKey(t, r1024, content, crypto.SHA256, tokOIDsha256, rsaAlg(1, 2, 840, 113549, 1, 1, 11)).bytes()), none},
			{"RSA exponent 3 signer", stamped(tokSignKey(t, r3, content, crypto.SHA256, tokOIDsha256, rsaAlg(1, 2, 840, 113549, 1, 1, 11)).bytes()), none},
			{"P-384 signer, ecdsa-with-SHA384", stamped(tokSignKey(t, p384, content, crypto.SHA384, oidSHA384, tokTLV(0x30, tokOID(1, 2, 840, 10045, 4, 3, 3))).bytes()), none},
			{"P-521 signer, ecdsa-with-SHA512", stamped(tokSignKey(t, p521, content, crypto.SHA512, oidSHA512, tokTLV(0x30, tokOID(1, 2, 840, 10045, 4, 3, 4))).bytes()), none},
			{"P-521 signer, ecdsa-with-SHA256", stamped(tokSignKey(t, p521, content, crypto.SHA256, tokOIDsha256, tokTLV(0x30, tokOID(1, 2, 840, 10045, 4, 3, 2))).bytes()), none},
			{"under an intermediate without keyCertSign", chain(underKU, kuInter.cert), ts},
			{"under an Ed25519 intermediate", chain(underEd, edInter), ts},
			{"under an RSA intermediate, sha384WithRSA", chain(underRSA, rsaInter), none},
			{"under an RSA intermediate, PSS as Go writes it", chain(underPSS, rsaInter), ts},
			{"under an RSA intermediate, PSS salt 20", chain(pss20, rsaInter), ts},
			{"signer with a compressed point", crafted(compressed, tstNow()), ts},
			{"signer notAfter GeneralizedTime with fraction", crafted(fraction, tstNow()), ts},
			{"signer notAfter UTCTime +0100", crafted(offset, tstNow()), ts},
			{"signer notAfter UTCTime without seconds", crafted(minutes, tstNow()), ts},
			{"signer notAfter GeneralizedTime 2049", crafted(gen2049, tstNow()), none},
			{"signer serial 0", crafted(serial0, tstNow()), none},
			{"signer serial 21 bytes", crafted(serial21, tstNow()), none},
			{"leaf with keyCertSign, no basicConstraints", crafted(certSignLeaf, tstNow()), none},
			{"leaf with only nonRepudiation", crafted(nrLeaf, tstNow()), none},
			{"under an RSA intermediate, sha256WithRSA without NULL", chain(noNull, rsaInter), none},
			{"leaf signed ecdsa-with-SHA256 with NULL parameters", crafted(ecNull, tstNow()), none},
			{"leaf signed ecdsa-with-SHA512 by P-256 root", crafted(sha512Signed, tstNow()), none},
		}
		compare(t, b, ctx, env, kl, doc, trust, g.jsRoots(), g.jsIntermediates(), mine)
		// Policy anchors Go's x509 cannot parse are refused by the browser too.
		fracRoot := resignAny(t, rc.root.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) {
			tbs.kids[4].kids[1] = tokRaw(tokTLV(0x18, []byte(now.AddDate(1, 0, 0).Format("20060102150405")+".5Z")))
		})
		compRoot := resignAny(t, rc.root.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) {
			pub := rc.root.key.PublicKey
			tbs.kids[6].kids[1] = tokRaw(tokTLV(3, []byte{0, 2 | byte(pub.Y.Bit(0))}, pub.X.FillBytes(make([]byte, 32))))
		})
		for name, c := range map[string]*x509.Certificate{"fractional notAfter": fracRoot, "compressed point": compRoot} {
			goErr, jsErr := anchorErrors(t, b, c)
			if goErr == nil || jsErr == "" {
				t.Errorf("a policy anchor with a %s: Go's tsa.ParseCertificates says %v, the portal's compilePolicy says %q; want both to refuse it", name, goErr, jsErr)
			}
		}
	}
}

// tokenRig is a sealed receipt and what re-stamping it takes: the
// stack's roots and authority, a second CA trusted beside them, and the
// trust Go's verifier is given (stamps required, the witness's quorum).
type tokenRig struct {
	env       map[string]string
	doc       *client.Document
	dl        *client.Download
	kl        *vault.KeyLog
	trust     vault.Trust
	rootPEM   []byte
	roots     []*x509.Certificate
	intact    vault.Bundle
	sig       []byte // the envelope's signature, what a token stamps
	tsr       []byte // the stack's token
	stackLeaf *x509.Certificate
	rc        *secondCA
	witness   note.Verifier
}

func newTokenRig(t *testing.T, env map[string]string) *tokenRig {
	t.Helper()
	g := &tokenRig{env: env}
	_, _, g.doc, g.dl, g.kl, g.trust = sealedReceipt(t, env)
	var err error
	if g.rootPEM, err = os.ReadFile(env["VAULT_TSA_ROOTS_FILE"]); err != nil {
		t.Fatal(err)
	}
	if g.roots, err = tsa.ParseCertificates(g.rootPEM); err != nil {
		t.Fatal(err)
	}
	if g.witness, err = witnessing.ParseVerifier(env["VAULT_WITNESS_KEY"]); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(g.dl.Receipt, &g.intact); err != nil {
		t.Fatal(err)
	}
	var env0 dsse.Envelope
	if err := json.Unmarshal(g.intact.Envelope, &env0); err != nil {
		t.Fatal(err)
	}
	g.sig, _ = base64.StdEncoding.DecodeString(env0.Signatures[0].Sig)
	g.tsr = g.intact.Timestamps[0]
	// The stack authority's own certificate, as its chain file holds it.
	for _, c := range tokCerts(tokParse(t, g.tsr)).kids {
		x, err := x509.ParseCertificate(c.enc())
		if err == nil && slices.Contains(x.ExtKeyUsage, x509.ExtKeyUsageTimeStamping) {
			g.stackLeaf = x
		}
	}
	if g.stackLeaf == nil {
		t.Fatal("the stack's token carries no time-stamping certificate")
	}
	g.rc = newSecondCA(t)
	g.trust.Stamps = &tsa.Trust{Roots: append(slices.Clone(g.roots), g.rc.root.cert), Intermediates: []*x509.Certificate{g.rc.proper.cert, g.stackLeaf}}
	g.trust.RequireStamp = true
	g.trust.Witnesses = &witnessing.Policy{Witnesses: []note.Verifier{g.witness}, Quorum: 1}
	return g
}

// with is the intact receipt with stamps for its timestamps and
// checkpoint for its log's.
func (g *tokenRig) with(stamps [][]byte, checkpoint string) []byte {
	p := *g.intact.Log
	p.Checkpoint = checkpoint
	raw, _ := json.Marshal(vault.Bundle{Envelope: g.intact.Envelope, Log: &p, Timestamps: stamps})
	return raw
}

// stamped is the intact receipt with tok its one timestamp.
func (g *tokenRig) stamped(tok []byte) []byte { return g.with([][]byte{tok}, g.intact.Log.Checkpoint) }

// crafted is the intact receipt stamped by l with the TSTInfo x.
func (g *tokenRig) crafted(t *testing.T, l tokLeaf, x tokTSTInfo) []byte {
	return g.stamped(tokSignTST(t, l, x.bytes(), nil, false).bytes())
}

// tstNow is a TSTInfo over the receipt's signature, made now.
func (g *tokenRig) tstNow() tokTSTInfo { return tokNewTST(g.sig, time.Now().UTC()) }

// jsRoots and jsIntermediates are the PEM the portal is given for the rig's
// trust.
func (g *tokenRig) jsRoots() []string { return []string{string(g.rootPEM), pemOf(g.rc.root.cert)} }
func (g *tokenRig) jsIntermediates() []string {
	return []string{pemOf(g.rc.proper.cert), pemOf(g.stackLeaf)}
}

// tokenStack is a local stack, a token rig on it and a browser on its
// portal; both stop when the test ends.
func tokenStack(t *testing.T) (*tokenRig, context.Context) {
	t.Helper()
	env, _, stop := testenv.LocalStack(t, t.TempDir())
	t.Cleanup(func() { stop() })
	return newTokenRig(t, env), portalPage(t, env)
}

// portalPage is a browser on the stack's portal.
func portalPage(t *testing.T, env map[string]string) context.Context {
	t.Helper()
	b := testenv.Browser(t)
	if err := chromedp.Do(b, chromedp.Navigate(env["VAULT_URL"]+"/portal/")); err != nil {
		t.Fatal(err)
	}
	return b
}

// anchorErrors is what Go's tsa.ParseCertificates and the portal's
// compilePolicy say of a policy that trusts c.
func anchorErrors(t *testing.T, b context.Context, c *x509.Certificate) (goErr error, jsErr string) {
	t.Helper()
	_, goErr = tsa.ParseCertificates([]byte(pemOf(c)))
	pol, _ := json.Marshal(map[string]any{"timestamps": map[string]any{"roots": []string{pemOf(c)}, "intermediates": []string{}}})
	jsErr, err := chromedp.Run(b, chromedp.Evaluate[string](`(async () => {
		const p = await import("/portal/policy.js");
		const c = await p.compilePolicy(`+string(pol)+`);
		return c.stamps.error || "";
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	return goErr, jsErr
}

// opCase is a receipt and the checks Go's verifier fails for it.
type opCase struct {
	name    string
	bundle  []byte
	goFails []string
}

// compare runs cases through Go's verifier under trust, wanting goFails,
// and through the portal's under the same roots and intermediates,
// wanting what Go answered.
func compare(t *testing.T, b, ctx context.Context, env map[string]string, kl *vault.KeyLog, doc *client.Document, trust vault.Trust, roots, intermediates []string, cases []opCase) {
	t.Helper()
	type jsCase struct {
		Name   string `json:"name"`
		Bundle []byte `json:"bundle"`
	}
	var in []jsCase
	want := map[string][]string{}
	for _, tc := range cases {
		in = append(in, jsCase{tc.name, tc.bundle})
		ver, _ := vault.VerifyOffline(ctx, tc.bundle, trust, doc.File.SHA256, doc.File.Size)
		want[tc.name] = nonNil(failedNames(ver.Checks))
		if !slices.Equal(want[tc.name], tc.goFails) {
			t.Errorf("%s: Go's verifier fails %v, want %v: %v", tc.name, want[tc.name], tc.goFails, ver.Checks)
		}
	}
	klJSON, _ := json.Marshal(kl)
	inJSON, _ := json.Marshal(in)
	policy, _ := json.Marshal(map[string]any{
		"timestamps": map[string]any{"roots": roots, "intermediates": intermediates, "qualified": trust.Stamps != nil && trust.Stamps.Qualified},
		"witnesses":  map[string]any{"keys": []string{env["VAULT_WITNESS_KEY"]}, "quorum": 1},
		"require":    true,
	})
	got, err := chromedp.Run(b, chromedp.Evaluate[map[string][]string](`(async () => {
		const v = await import("/portal/verify.js");
		const p = await import("/portal/policy.js");
		const kl = `+string(klJSON)+`;
		const { trust } = await v.trustLog(kl.origin, kl.checkpoint, kl.events, null);
		trust.policy = await p.compilePolicy(`+string(policy)+`);
		const out = {};
		for (const c of `+string(inJSON)+`) {
			try {
				// As download.js's verifyInHand reads a receipt file.
				const bytes = Uint8Array.from(atob(c.bundle), (ch) => ch.charCodeAt(0));
				let bundle;
				try {
					bundle = v.readReceipt(bytes);
				} catch (e) {
					out[c.name] = ["format"];
					out[c.name + " details"] = ["format: " + e.message];
					continue;
				}
				const r = await v.verifyReceipt(bundle, trust, `+jsString(doc.File.SHA256)+`, `+jsInt(doc.File.Size)+`);
				out[c.name] = r.checks.filter((x) => !x.passed).map((x) => x.name);
				out[c.name + " details"] = r.checks.filter((x) => !x.passed).map((x) => x.name + ": " + x.detail);
			} catch (e) {
				out[c.name] = ["threw " + e];
				out[c.name + " details"] = [];
			}
		}
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		if g := nonNil(got[tc.name]); !slices.Equal(g, want[tc.name]) {
			t.Errorf("%s: the portal fails %v, Go fails %v; the portal says %q", tc.name, g, want[tc.name], got[tc.name+" details"])
		}
	}
}

// --- DER, as a test takes tokens apart and builds them ------------

type tokNode struct {
	tag  byte
	body []byte
	kids []*tokNode
	raw  []byte // written as is when set
}

func tokParse(t *testing.T, b []byte) *tokNode {
	t.Helper()
	e, rest := readDER(t, b)
	if len(rest) > 0 {
		t.Fatal("tokParse: bytes after the element")
	}
	return tokFrom(t, e)
}

func tokFrom(t *testing.T, e der) *tokNode {
	n := &tokNode{tag: e.tag}
	if e.tag&0x20 == 0 {
		n.body = slices.Clone(e.body)
		return n
	}
	for _, c := range e.children(t) {
		n.kids = append(n.kids, tokFrom(t, c))
	}
	return n
}

func (n *tokNode) enc() []byte {
	if n.raw != nil {
		return n.raw
	}
	if n.tag&0x20 == 0 {
		return der{n.tag, n.body}.bytes()
	}
	var parts [][]byte
	for _, k := range n.kids {
		parts = append(parts, k.enc())
	}
	return constructed(n.tag, parts...).bytes()
}

func tokRaw(b []byte) *tokNode { return &tokNode{raw: b} }

// tokHeader is the tag and length of the encoded element b.
func tokHeader(b []byte) []byte {
	if b[1]&0x80 == 0 {
		return b[:2]
	}
	return b[:2+int(b[1]&0x7f)]
}

func tokCertsIn(sd *tokNode) *tokNode {
	for _, k := range sd.kids {
		if k.tag == 0xa0 {
			return k
		}
	}
	return nil
}

func tokCerts(r *tokNode) *tokNode { return tokCertsIn(r.kids[1].kids[1].kids[0]) }

func tokTLV(tag byte, parts ...[]byte) []byte { return der{tag, slices.Concat(parts...)}.bytes() }
func tokOID(ids ...int) []byte                { b, _ := asn1.Marshal(asn1.ObjectIdentifier(ids)); return b }
func tokInt(n int64) []byte                   { b, _ := asn1.Marshal(n); return b }
func tokAttr(id []byte, vals ...[]byte) []byte {
	return tokTLV(0x30, id, tokTLV(0x31, vals...))
}

var (
	tokOIDsha256 = tokOID(2, 16, 840, 1, 101, 3, 4, 2, 1)
	tokOIDtst    = tokOID(1, 2, 840, 113549, 1, 9, 16, 1, 4)
	tokOIDct     = tokOID(1, 2, 840, 113549, 1, 9, 3)
	tokOIDmd     = tokOID(1, 2, 840, 113549, 1, 9, 4)
)

type tokLeaf struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// tokTSTInfo is a TSTInfo as its fields, each a whole element.
type tokTSTInfo struct {
	version, policy, imprint, serial, genTime, accuracy, ordering, nonce, tsaName, exts, extra []byte
}

func (x tokTSTInfo) bytes() []byte {
	return tokTLV(0x30, x.version, x.policy, x.imprint, x.serial, x.genTime, x.accuracy, x.ordering, x.nonce, x.tsaName, x.exts, x.extra)
}

func tokNewTST(msg []byte, at time.Time) tokTSTInfo {
	h := sha256.Sum256(msg)
	return tokTSTInfo{version: tokInt(1), policy: tokOID(1, 2, 3, 4), imprint: tokTLV(0x30, tokTLV(0x30, tokOIDsha256, []byte{5, 0}), tokTLV(4, h[:])),
		serial: tokInt(12345), genTime: tokTLV(0x18, []byte(at.UTC().Format("20060102150405Z"))), accuracy: tokTLV(0x30, tokInt(1))}
}

// tokToken is a TimeStampResp as its parts, each a whole element.
type tokToken struct {
	status, ciOID, sdVersion, digestAlgs, eContentType, eContent, certs, crls []byte
	siVersion, sid, siDigestAlg, signedAttrs, sigAlg, sig, unsigned           []byte
}

func (k tokToken) bytes() []byte {
	si := tokTLV(0x30, k.siVersion, k.sid, k.siDigestAlg, k.signedAttrs, k.sigAlg, k.sig, k.unsigned)
	encap := tokTLV(0x30, k.eContentType, tokTLV(0xa0, k.eContent))
	sd := tokTLV(0x30, k.sdVersion, k.digestAlgs, encap, k.certs, k.crls, tokTLV(0x31, si))
	return tokTLV(0x30, k.status, tokTLV(0x30, k.ciOID, tokTLV(0xa0, sd)))
}

// tokSign makes a token over content signed by l over attrs, DER-sorted
// unless unsorted.
func tokSign(t *testing.T, l tokLeaf, content []byte, attrs [][]byte, unsorted bool) tokToken {
	t.Helper()
	// The signing certificate attribute RFC 3161 requires, unless attrs
	// hold one of their own.
	if !slices.ContainsFunc(attrs, func(a []byte) bool { return bytes.Contains(a, tokOIDessV2) || bytes.Contains(a, tokOIDessV1) }) {
		attrs = append(slices.Clone(attrs), tokESS(l.cert))
	}
	return tokSignBare(t, l, content, attrs, unsorted)
}

// tokSignBare is tokSign with attrs alone.
func tokSignBare(t *testing.T, l tokLeaf, content []byte, attrs [][]byte, unsorted bool) tokToken {
	t.Helper()
	return tokSignWith(t, l.cert, l.key, content, crypto.SHA256, tokOIDsha256, tokTLV(0x30, tokOID(1, 2, 840, 10045, 4, 3, 2)), attrs, unsorted)
}

// tokSignWith makes a token over content signed by key (of cert) over
// attrs, DER-sorted unless unsorted, with hash as the signer's digest
// (digestOID) and sigAlg as its signature algorithm.
func tokSignWith(t *testing.T, cert *x509.Certificate, key crypto.Signer, content []byte, hash crypto.Hash, digestOID, sigAlg []byte, attrs [][]byte, unsorted bool) tokToken {
	t.Helper()
	if !unsorted {
		attrs = slices.Clone(attrs)
		sort.Slice(attrs, func(i, j int) bool { return bytes.Compare(attrs[i], attrs[j]) < 0 })
	}
	set := tokTLV(0x31, attrs...)
	h := hash.New()
	h.Write(set)
	s, err := key.Sign(rand.Reader, h.Sum(nil), hash)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := asn1.Marshal(cert.SerialNumber)
	return tokToken{status: tokTLV(0x30, tokInt(0)), ciOID: tokOID(1, 2, 840, 113549, 1, 7, 2), sdVersion: tokInt(3),
		digestAlgs: tokTLV(0x31, tokTLV(0x30, digestOID)), eContentType: tokOIDtst, eContent: tokTLV(4, content), certs: tokTLV(0xa0, cert.Raw),
		siVersion: tokInt(1), sid: tokTLV(0x30, cert.RawIssuer, serial), siDigestAlg: tokTLV(0x30, digestOID),
		signedAttrs: slices.Concat([]byte{0xa0}, set[1:]), sigAlg: sigAlg, sig: tokTLV(4, s)}
}

var (
	tokOIDessV1 = tokOID(1, 2, 840, 113549, 1, 9, 16, 2, 12)
	tokOIDessV2 = tokOID(1, 2, 840, 113549, 1, 9, 16, 2, 47)
)

// tokESS is a signingCertificateV2 attribute naming c (by its SHA-256,
// issuer and serial number), as digitorus/timestamp writes it.
func tokESS(c *x509.Certificate) []byte {
	h := sha256.Sum256(c.Raw)
	serial, _ := asn1.Marshal(c.SerialNumber)
	return tokAttr(tokOIDessV2, tokTLV(0x30, tokTLV(0x30, tokTLV(0x30, tokTLV(4, h[:]), tokTLV(0x30, tokTLV(0x30, tokTLV(0xa4, c.RawIssuer)), serial)))))
}

// tokSignTST signs content with the usual contentType and messageDigest
// attributes, and extra ones.
func tokSignTST(t *testing.T, l tokLeaf, content []byte, extra [][]byte, unsorted bool) tokToken {
	h := sha256.Sum256(content)
	return tokSign(t, l, content, append([][]byte{tokAttr(tokOIDct, tokOIDtst), tokAttr(tokOIDmd, tokTLV(4, h[:]))}, extra...), unsorted)
}

type secondCA struct {
	root, proper, expiring tokLeaf
}

func newSecondCA(t *testing.T) *secondCA {
	t.Helper()
	now := time.Now().UTC()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Second root"}, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rd, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rd)
	ca := &secondCA{root: tokLeaf{root, key}}
	issue := func(serial int64, name string, notAfter time.Time) tokLeaf {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, NotBefore: now.Add(-time.Hour), NotAfter: notAfter,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}}
		d, err := x509.CreateCertificate(rand.Reader, tmpl, root, k.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(d)
		return tokLeaf{c, k}
	}
	ca.proper = issue(2, "Second TSA", now.AddDate(1, 0, 0))
	// Expires in a few minutes: a genTime just after it is still after
	// the receipt was sealed.
	ca.expiring = issue(3, "Second TSA, expiring", now.Add(5*time.Minute).Truncate(time.Second))
	return ca
}

// TestPortalPolicyAnswers: how the portal's kept policy meets a vault's
// answer that names a requirement it has no say in, or names nothing, and
// a kept policy whose trust anchors are not certificates.
func TestPortalPolicyAnswers(t *testing.T) {
	env, _, stop := testenv.LocalStack(t, t.TempDir())
	defer stop()
	_, _, _, dl, _, _ := sealedReceipt(t, env)
	rootPEM, err := os.ReadFile(env["VAULT_TSA_ROOTS_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	b := portalPage(t, env)
	type outcome struct {
		Changed bool     `json:"changed"`
		Changes []string `json:"changes"`
		Stamps  string   `json:"stamps"`
		Failed  []string `json:"failed"`
		Checks  []string `json:"checks"`
		Error   string   `json:"error"`
	}
	got, err := chromedp.Run(b, chromedp.Evaluate[map[string]outcome](`(async () => {
		const v = await import("/portal/verify.js");
		const p = await import("/portal/policy.js");
		const token = `+jsString(env["VAULT_UPLOADER_TOKEN"])+`;
		const real = (path) => fetch(path, { headers: { Authorization: "Bearer " + token } }).then((r) => r.json());
		const receipt = `+string(dl.Receipt)+`;
		const KEY = "evidencevault.policy";
		const roots = [`+jsString(string(rootPEM))+`];
		const out = {};
		const vp = async (name, kept, offered) => {
			try {
				localStorage.clear();
				if (kept !== undefined) localStorage.setItem(KEY, JSON.stringify(kept));
				const r = await p.verificationPolicy(offered);
				out[name] = { changed: r.changed, changes: r.changes, stamps: r.compiled.stamps === null ? "none" : r.compiled.stamps.error ? "error: " + r.compiled.stamps.error : "checked" };
			} catch (e) { out[name] = { error: "threw " + e }; }
		};
		// The vault now requires a timestamp on every receipt; the kept policy does not.
		await vp("requireAdded", { timestamps: { roots }, require: false, source: "you" }, async () => ({ timestamps: { roots }, require: true }));
		// The vault no longer requires one; the kept policy does.
		await vp("requireDropped", { timestamps: { roots }, require: true, source: "you" }, async () => ({ timestamps: { roots }, require: false }));
		// The vault answers 404: it names no policy now.
		await vp("vault404", { timestamps: { roots }, require: true, source: "you" }, async () => { const e = new Error("not found"); e.status = 404; throw e; });
		// The vault answers {}: it names nothing.
		await vp("vaultEmpty", { timestamps: { roots }, require: true, source: "you" }, async () => ({}));
		// A kept policy whose trust anchors are no PEM certificates.
		await vp("keptRootsNotPEM", { timestamps: { roots: ["not a certificate"] }, require: true, source: "you" }, async () => ({ timestamps: { roots: ["not a certificate"] }, require: true }));
		// The same, through openLog and verifyReceipt, with the vault's own policy offered.
		localStorage.clear();
		localStorage.setItem(KEY, JSON.stringify({ timestamps: { roots: ["not a certificate"] }, require: true, source: "you" }));
		try {
			const view = await v.openLog(real);
			const ver = await v.verifyReceipt(receipt, view.trust);
			out.keptRootsNotPEMVerify = { changed: view.policy.changed, changes: view.policy.changes, checks: ver.checks.map((c) => c.name + (c.passed ? "" : " FAILED")) };
		} catch (e) { out.keptRootsNotPEMVerify = { error: "threw " + e }; }
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"requireAdded", "requireDropped", "vault404", "vaultEmpty", "keptRootsNotPEM", "keptRootsNotPEMVerify"} {
		t.Logf("%s: %+v", k, got[k])
	}
	// Whether a timestamp is required is this browser's own choice: the
	// vault's policy (GET /v1/verification-policy) names none, and a
	// member of that name in its answer changes nothing.
	for _, k := range []string{"requireAdded", "requireDropped"} {
		if g := got[k]; g.Changed || g.Stamps != "checked" || g.Error != "" {
			t.Errorf("%s: got %+v, want no change and timestamps checked", k, g)
		}
	}
	// A vault that names no policy now, by 404 or by naming nothing,
	// differs from the one kept.
	for _, k := range []string{"vault404", "vaultEmpty"} {
		if g := got[k]; !g.Changed || !slices.Contains(g.Changes, "the vault names no timestamp authority now") {
			t.Errorf("%s: got %+v, want the change shown", k, g)
		}
	}
	// Trust anchors that are no certificates: the kept policy cannot be
	// read, and the timestamp check fails rather than being left out.
	if g := got["keptRootsNotPEM"]; !strings.HasPrefix(g.Stamps, "error: the verification policy this browser kept cannot be read") {
		t.Errorf("keptRootsNotPEM: got %+v, want the timestamp check to fail", g)
	}
	if g := got["keptRootsNotPEMVerify"]; !slices.Contains(g.Checks, "timestamp FAILED") || !slices.Contains(g.Checks, "witnessed FAILED") {
		t.Errorf("keptRootsNotPEMVerify: got %+v, want timestamp and witnessed to fail", g)
	}
}

// Certificates for the cases above.

// flipStrings re-encodes every PrintableString under n as a UTF8String.
func flipStrings(n *tokNode) {
	if n.tag == 0x13 {
		n.tag = 0x0c
	}
	for _, k := range n.kids {
		flipStrings(k)
	}
}

// resignCert changes a certificate's TBS with f and signs it again with key.
func resignCert(t *testing.T, raw []byte, key *ecdsa.PrivateKey, f func(tbs *tokNode)) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(resignAny(t, &x509.Certificate{Raw: raw}, key, nil, crypto.SHA256, f).Raw)
	if err != nil {
		t.Fatalf("resignCert: %v", err)
	}
	return c
}

// oddCerts are certificates a trusted CA might issue that Go's x509 and
// pkijs read differently: an unknown or a qcStatements extension marked
// critical, an issuer name re-encoded, a version 1 root.
type oddCerts struct {
	critLeaf, utf8Issuer, v1root, underV1, qcInter, underQC, critQCLeaf tokLeaf
}

func newOddCerts(t *testing.T, rc *secondCA) *oddCerts {
	t.Helper()
	serial := int64(100)
	issue := func(parent tokLeaf, name string, f func(*x509.Certificate)) tokLeaf {
		serial++
		return issueUnder(t, parent, serial, name, false, f)
	}
	rv := &oddCerts{}
	rv.critLeaf = issue(rc.root, "Critical unknown TSA", func(c *x509.Certificate) {
		c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3, 4, 5, 6}, Critical: true, Value: []byte{5, 0}})
	})
	p := issue(rc.root, "UTF8 issuer TSA", nil)
	rv.utf8Issuer = tokLeaf{resignCert(t, p.cert.Raw, rc.root.key, func(tbs *tokNode) { flipStrings(tbs.kids[3]) }), p.key}
	// A v1 root: no version field, no extensions.
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	v1 := resignCert(t, issueKey(t, nil, rk, rk.Public(), 90, "V1 root", false, nil).Raw, rk, func(tbs *tokNode) {
		tbs.kids = slices.DeleteFunc(tbs.kids, func(n *tokNode) bool { return n.tag == 0xa0 || n.tag == 0xa3 })
	})
	if v1.Version != 1 {
		t.Fatalf("v1 root is version %d", v1.Version)
	}
	rv.v1root = tokLeaf{v1, rk}
	rv.underV1 = issue(rv.v1root, "Under the v1 root", nil)
	qc := tokTLV(0x30, tokTLV(0x30, tokOID(0, 4, 0, 1862, 1, 1)))
	rv.qcInter = issue(rc.root, "QC intermediate", func(c *x509.Certificate) {
		c.IsCA, c.BasicConstraintsValid, c.KeyUsage = true, true, x509.KeyUsageCertSign
		c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}, Critical: true, Value: qc}}
	})
	rv.underQC = issue(rv.qcInter, "Under the QC intermediate", nil)
	rv.critQCLeaf = issue(rc.root, "Critical QC TSA", func(c *x509.Certificate) {
		c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}, Critical: true, Value: qc})
	})
	return rv
}

// carrying is the intact receipt stamped by l over content, its token
// carrying certs in that order.
func (g *tokenRig) carrying(t *testing.T, l tokLeaf, content []byte, certs ...*x509.Certificate) []byte {
	k := tokSignTST(t, l, content, nil, false)
	var raws [][]byte
	for _, c := range certs {
		raws = append(raws, c.Raw)
	}
	k.certs = tokTLV(0xa0, raws...)
	return g.stamped(k.bytes())
}
