package devstack_test

import (
	"bytes"
	"context"
	"crypto"
	"slices"
	"sort"
	"testing"
)

// TestPortalMatchesGoOnNames: names in the certificates a token carries
// or the policy trusts, and in the TSTInfo's tsa, whose values Go's x509
// reads as strings only of some types and alphabets and pkijs reads
// whatever they hold. The portal must refuse what Go refuses.
func TestPortalMatchesGoOnNames(t *testing.T) {
	g, b := tokenStack(t)
	env, ctx := g.env, context.Background()
	rc := g.rc
	none, ts := []string{}, []string{"timestamp"}

	cn := tokOID(2, 5, 4, 3)
	atv := func(tag byte, v []byte) []byte { return tokTLV(0x30, cn, tokTLV(tag, v)) }
	rdn := func(atvs ...[]byte) []byte {
		atvs = slices.Clone(atvs)
		sort.Slice(atvs, func(i, j int) bool { return bytes.Compare(atvs[i], atvs[j]) < 0 })
		return tokTLV(0x31, atvs...)
	}
	name := func(rdns ...[]byte) []byte { return tokTLV(0x30, rdns...) }
	cnName := func(tag byte, v []byte) []byte { return name(rdn(atv(tag, v))) }
	ucs2 := func(s string) (b []byte) {
		for _, r := range s {
			b = append(b, byte(r>>8), byte(r))
		}
		return b
	}
	ucs4 := func(s string) (b []byte) {
		for _, r := range s {
			b = append(b, byte(r>>24), byte(r>>16), byte(r>>8), byte(r))
		}
		return b
	}
	serial := int64(800)
	withSubject := func(subject []byte) tokLeaf {
		serial++
		base := issueUnder(t, rc.root, serial, "Renamed TSA", false, nil)
		return tokLeaf{resignAny(t, base.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) { tbs.kids[5] = tokRaw(subject) }), base.key}
	}
	subject := func(n []byte) []byte { return g.crafted(t, withSubject(n), g.tstNow()) }
	tsaName := func(n []byte) []byte {
		x := g.tstNow()
		x.tsaName = tokTLV(0xa0, tokTLV(0xa4, n))
		return g.crafted(t, rc.proper, x)
	}
	compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
		{"leaf subject CN a UTF8String", subject(cnName(0x0c, []byte("Zeitstempel Ä"))), none},
		{"leaf subject CN a BMPString", subject(cnName(0x1e, ucs2("BMP TSA"))), none},
		{"leaf subject CN a BMPString of odd length", subject(cnName(0x1e, append(ucs2("BMP TSA"), 0x41))), ts},
		{"leaf subject CN a BMPString holding a surrogate", subject(cnName(0x1e, []byte{0xd8, 0x00, 0x00, 0x41})), ts},
		{"leaf subject CN a T61String with 0xE9", subject(cnName(0x14, []byte("T61 TSA \xe9"))), none},
		{"leaf subject CN a PrintableString with '&' and '*'", subject(cnName(0x13, []byte("A&B *.example"))), none},
		{"leaf subject CN a PrintableString with '@'", subject(cnName(0x13, []byte("tsa@example.com"))), ts},
		{"leaf subject CN an IA5String", subject(cnName(0x16, []byte("tsa@example.com"))), none},
		{"leaf subject CN an IA5String with 0xFF", subject(cnName(0x16, []byte("IA5 \xff"))), ts},
		{"leaf subject CN a NumericString", subject(cnName(0x12, []byte("0197"))), none},
		{"leaf subject CN a NumericString with a letter", subject(cnName(0x12, []byte("NB 0197"))), ts},
		{"leaf subject CN a UniversalString", subject(cnName(0x1c, ucs4("Universal TSA"))), ts},
		{"leaf subject CN a VisibleString", subject(cnName(0x1a, []byte("Visible TSA"))), ts},
		{"leaf subject CN an INTEGER", subject(name(rdn(tokTLV(0x30, cn, tokInt(7))))), ts},
		{"leaf subject with an empty RDN", subject(name(rdn(atv(0x0c, []byte("Empty RDN TSA"))), []byte{0x31, 0})), none},
		{"leaf subject an empty SEQUENCE", subject(name()), none},
		{"leaf subject with CN twice in one RDN", subject(name(rdn(atv(0x0c, []byte("Twice")), atv(0x0c, []byte("Twice"))))), none},
		{"tsa directoryName with a T61String CN", tsaName(cnName(0x14, []byte("T61 \xe9"))), none},
		{"tsa directoryName with a BMPString CN", tsaName(cnName(0x1e, ucs2("BMP TSA"))), none},
		{"tsa directoryName with a BMPString CN of odd length", tsaName(cnName(0x1e, []byte{0, 0x41, 0})), ts},
		// pkijs reads a UniversalString Go's x509 would not; Go's
		// verifier does not parse the tsa's name, the profile holds it to
		// what a certificate's would be.
		{"tsa directoryName with a UniversalString CN", tsaName(cnName(0x1c, ucs4("Universal TSA"))), ts},
		{"tsa directoryName with a UniversalString CN of 3 bytes", tsaName(cnName(0x1c, []byte{0, 0, 0x41})), ts},
		{"tsa directoryName with a PrintableString CN with '@'", tsaName(cnName(0x13, []byte("tsa@example.com"))), ts},
		{"tsa directoryName an empty Name", tsaName(name()), none},
		{"tsa directoryName with CN twice in one RDN", tsaName(name(rdn(atv(0x0c, []byte("a")), atv(0x0c, []byte("a"))))), none},
	})

	// Policy anchors: a name Go's x509 cannot read is refused by both.
	renamedRoot := func(n []byte) func(tbs *tokNode) {
		return func(tbs *tokNode) { tbs.kids[3], tbs.kids[5] = tokRaw(n), tokRaw(n) }
	}
	for _, c := range []struct {
		name string
		n    []byte
		ok   bool
	}{
		{"a UTF8String name", cnName(0x0c, []byte("Second root")), true},
		{"a UniversalString name", cnName(0x1c, ucs4("Second root")), false},
		{"a PrintableString name with '@'", cnName(0x13, []byte("root@example")), false},
		{"a BMPString name of odd length", cnName(0x1e, []byte{0, 0x41, 0}), false},
	} {
		root := resignAny(t, rc.root.cert, rc.root.key, nil, crypto.SHA256, renamedRoot(c.n))
		goErr, jsErr := anchorErrors(t, b, root)
		if (goErr == nil) != c.ok || (jsErr == "") != c.ok {
			t.Errorf("a policy anchor with %s: Go's tsa.ParseCertificates says %v, the portal's compilePolicy says %q; want ok %v from both", c.name, goErr, jsErr, c.ok)
		}
	}
}
