package devstack_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
)

// tbsExts is the extensions SEQUENCE of a TBS.
func tbsExts(t *testing.T, tbs *tokNode) *tokNode {
	for _, k := range tbs.kids {
		if k.tag == 0xa3 {
			return k.kids[0]
		}
	}
	t.Fatal("no extensions")
	return nil
}

// issueUnder issues a time-stamping leaf (or a CA if ca) with a new P-256
// key under parent, with f's changes.
func issueUnder(t *testing.T, parent tokLeaf, serial int64, name string, ca bool, f func(*x509.Certificate)) tokLeaf {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return tokLeaf{issueKey(t, parent.cert, parent.key, k.Public(), serial, name, ca, f), k}
}

// chainCerts are certificates a trusted CA might issue whose chains Go's
// x509 and pkijs validate apart: a critical authorityKeyIdentifier or
// subjectAltName of directory names, an extension twice, name and policy
// constraints, path lengths.
type chainCerts struct {
	akiCrit, dupExt, sanDir, ncCrit, underNC, ncEx, underNCx, rep0, pl0, plLow, underPL, ncDNS, underDNS, repInter, underREP tokLeaf
}

func newChainCerts(t *testing.T, rc *secondCA) *chainCerts {
	t.Helper()
	r := &chainCerts{}
	oidIs := func(e *tokNode, ids ...int) bool { return bytes.Equal(e.kids[0].enc(), tokOID(ids...)) }
	l := issueUnder(t, rc.root, 500, "Critical AKI TSA", false, nil)
	found := false
	r.akiCrit = tokLeaf{resignAny(t, l.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) {
		for _, e := range tbsExts(t, tbs).kids {
			if oidIs(e, 2, 5, 29, 35) {
				e.kids = []*tokNode{e.kids[0], tokRaw([]byte{1, 1, 0xff}), e.kids[len(e.kids)-1]}
				found = true
			}
		}
	}), l.key}
	if !found {
		t.Fatal("no AKI")
	}
	l = issueUnder(t, rc.root, 501, "Duplicate extension TSA", false, nil)
	r.dupExt = tokLeaf{resignAny(t, l.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) {
		x := tbsExts(t, tbs)
		u := tokRaw(tokTLV(0x30, tokOID(1, 2, 3, 4, 5, 7), tokTLV(4, []byte{5, 0})))
		x.kids = append(x.kids, u, u)
	}), l.key}
	r.sanDir = issueUnder(t, rc.root, 502, "SAN dirName TSA", false, func(c *x509.Certificate) {
		c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Critical: true, Value: tokTLV(0x30, tokTLV(0xa4, rc.root.cert.RawSubject))})
	})
	r.ncCrit = issueUnder(t, rc.root, 503, "NC critical intermediate", true, func(c *x509.Certificate) {
		c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 30}, Critical: true, Value: tokTLV(0x30, tokTLV(0xa0, tokTLV(0x30, tokTLV(0xa4, []byte{0x30, 0}))))}}
	})
	r.underNC = issueUnder(t, r.ncCrit, 504, "Under NC critical", false, nil)
	r.ncEx = issueUnder(t, rc.root, 505, "NC excluded intermediate", true, func(c *x509.Certificate) {
		c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 30}, Critical: false, Value: tokTLV(0x30, tokTLV(0xa1, tokTLV(0x30, tokTLV(0xa4, []byte{0x30, 0}))))}}
	})
	r.underNCx = issueUnder(t, r.ncEx, 506, "Under NC excluded", false, nil)
	r.rep0 = issueUnder(t, rc.root, 507, "REP0 TSA", false, func(c *x509.Certificate) {
		c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 36}, Critical: true, Value: []byte{0x30, 3, 0x80, 1, 0}})
	})
	r.pl0 = issueUnder(t, rc.root, 508, "PathLen 0 intermediate", true, func(c *x509.Certificate) { c.MaxPathLen, c.MaxPathLenZero = 0, true })
	r.plLow = issueUnder(t, r.pl0, 509, "Below pathLen 0", true, nil)
	r.underPL = issueUnder(t, r.plLow, 510, "Under pathLen", false, nil)
	r.ncDNS = issueUnder(t, rc.root, 511, "DNS NC intermediate", true, func(c *x509.Certificate) {
		c.PermittedDNSDomainsCritical, c.PermittedDNSDomains = true, []string{"example.com"}
	})
	r.underDNS = issueUnder(t, r.ncDNS, 512, "Under DNS NC", false, nil)
	pol := x509.OID{}
	pol, _ = x509.OIDFromInts([]uint64{1, 2, 3})
	r.repInter = issueUnder(t, rc.root, 513, "REP0 intermediate", true, func(c *x509.Certificate) {
		c.Policies = []x509.OID{pol}
		c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 36}, Critical: true, Value: []byte{0x30, 3, 0x80, 1, 0}}}
	})
	r.underREP = issueUnder(t, r.repInter, 514, "Under REP0", false, func(c *x509.Certificate) { c.Policies = []x509.OID{pol} })
	return r
}
