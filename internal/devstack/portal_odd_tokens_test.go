package devstack_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"slices"
	"sort"
	"testing"
	"time"
)

// resignRaw changes a certificate's TBS with f and signs it again with
// key, without parsing it with Go's x509 (which may refuse it).
func resignRaw(t *testing.T, c *x509.Certificate, key *ecdsa.PrivateKey, f func(tbs *tokNode)) *x509.Certificate {
	t.Helper()
	n := tokParse(t, c.Raw)
	f(n.kids[0])
	h := sha256.Sum256(n.kids[0].enc())
	s, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	n.kids[2] = tokRaw(tokTLV(3, []byte{0}, s))
	raw := n.enc()
	return &x509.Certificate{Raw: raw, RawIssuer: c.RawIssuer, RawSubject: c.RawSubject, SerialNumber: c.SerialNumber}
}

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

// issueUnder issues a time-stamping leaf (or a CA if ca) under parent with f's changes.
func issueUnder(t *testing.T, parent tokLeaf, serial int64, name string, ca bool, f func(*x509.Certificate)) tokLeaf {
	t.Helper()
	now := time.Now().UTC()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}}
	if ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage, tmpl.ExtraExtensions = true, true, x509.KeyUsageCertSign, nil
	}
	if f != nil {
		f(tmpl)
	}
	d, err := x509.CreateCertificate(rand.Reader, tmpl, parent.cert, k.Public(), parent.key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(d)
	if err != nil {
		t.Fatal(err)
	}
	return tokLeaf{c, k}
}

// tokSignHash is tokSignBare with another digest and signature algorithm.
func tokSignHash(t *testing.T, l tokLeaf, content []byte, hash crypto.Hash, digestOID, sigAlg []byte, extra [][]byte) tokToken {
	t.Helper()
	d := hash.New()
	d.Write(content)
	attrs := append([][]byte{tokAttr(tokOIDct, tokOIDtst), tokAttr(tokOIDmd, tokTLV(4, d.Sum(nil))), tokESS(l.cert)}, extra...)
	sort.Slice(attrs, func(i, j int) bool { return bytes.Compare(attrs[i], attrs[j]) < 0 })
	set := tokTLV(0x31, attrs...)
	h := hash.New()
	h.Write(set)
	s, err := ecdsa.SignASN1(rand.Reader, l.key, h.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := asn1.Marshal(l.cert.SerialNumber)
	return tokToken{status: tokTLV(0x30, tokInt(0)), ciOID: tokOID(1, 2, 840, 113549, 1, 7, 2), sdVersion: tokInt(3),
		digestAlgs: tokTLV(0x31, tokTLV(0x30, digestOID)), eContentType: tokOIDtst, eContent: tokTLV(4, content), certs: tokTLV(0xa0, l.cert.Raw),
		siVersion: tokInt(1), sid: tokTLV(0x30, l.cert.RawIssuer, serial), siDigestAlg: tokTLV(0x30, digestOID),
		signedAttrs: slices.Concat([]byte{0xa0}, set[1:]), sigAlg: sigAlg, sig: tokTLV(4, s)}
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
	r.akiCrit = tokLeaf{resignRaw(t, l.cert, rc.root.key, func(tbs *tokNode) {
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
	r.dupExt = tokLeaf{resignRaw(t, l.cert, rc.root.key, func(tbs *tokNode) {
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
