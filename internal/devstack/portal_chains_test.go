package devstack_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/evidencevault/vault/internal/tsa"
	"github.com/evidencevault/vault/internal/vault"
)

// TestPortalMatchesGoOnIssuerChoice: chains Go's x509 builds by trying
// every issuer whose subject is a certificate's issuer and whose key
// verifies it, whatever an authority key identifier says, taking the
// token if any chain holds. pkijs's own path finding follows the
// identifier and validates the shortest chain alone; the portal must
// answer as Go does.
func TestPortalMatchesGoOnIssuerChoice(t *testing.T) {
	g, b := tokenStack(t)
	env, ctx := g.env, context.Background()
	rc := g.rc
	none, ts := []string{}, []string{"timestamp"}
	now := time.Now().UTC()
	content := g.tstNow().bytes()
	// chain is the receipt stamped by l, carrying the certificates above.
	chain := func(l tokLeaf, above ...*x509.Certificate) []byte {
		return g.carrying(t, l, content, append([]*x509.Certificate{l.cert}, above...)...)
	}
	// policy is the rig's trust with f's changes to its authorities.
	policy := func(f func(*tsa.Trust)) vault.Trust {
		st := *g.trust.Stamps
		st.Roots, st.Intermediates = slices.Clone(st.Roots), slices.Clone(st.Intermediates)
		f(&st)
		tr := g.trust
		tr.Stamps = &st
		return tr
	}

	// Authority key identifiers that name no certificate, or name the
	// issuer by its issuer and serial.
	serial := int64(910)
	withAKI := func(value []byte) tokLeaf {
		serial++
		base := issueUnder(t, rc.root, serial, "AKI TSA", false, nil)
		found := false
		l := tokLeaf{resignAny(t, base.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) {
			for _, e := range tbsExts(t, tbs).kids {
				if bytes.Equal(e.kids[0].enc(), tokOID(2, 5, 29, 35)) {
					e.kids[len(e.kids)-1] = tokRaw(tokTLV(4, value))
					found = true
				}
			}
		}), base.key}
		if !found {
			t.Fatal("no authorityKeyIdentifier to replace")
		}
		return l
	}
	rootSerial, _ := asn1.Marshal(rc.root.cert.SerialNumber)
	compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
		{"control: the second CA's proper signer", g.crafted(t, rc.proper, g.tstNow()), none},
		{"leaf AKI keyIdentifier not the root's SKI", g.crafted(t, withAKI(tokTLV(0x30, tokTLV(0x80, bytes.Repeat([]byte{0x42}, 20)))), g.tstNow()), none},
		{"leaf AKI by authorityCertIssuer and serial (the root's)", g.crafted(t, withAKI(tokTLV(0x30, tokTLV(0xa1, tokTLV(0xa4, rc.root.cert.RawSubject)), tokTLV(0x82, rootSerial[2:]))), g.tstNow()), none},
		{"leaf AKI by authorityCertIssuer and another serial", g.crafted(t, withAKI(tokTLV(0x30, tokTLV(0xa1, tokTLV(0xa4, rc.root.cert.RawSubject)), tokTLV(0x82, []byte{0x7f}))), g.tstNow()), none},
	})

	// Issuers by the same name and key, one of them not valid: an
	// intermediate renewed, its expired or inverted copy carried.
	inter := issueUnder(t, rc.root, 950, "Renewed intermediate", true, nil)
	under := issueUnder(t, inter, 951, "Under the renewed intermediate", false, nil)
	copyOf := func(serial int64, nb, na time.Time) *x509.Certificate {
		return issueKey(t, rc.root.cert, rc.root.key, inter.key.Public(), serial, "Renewed intermediate", true, func(c *x509.Certificate) { c.NotBefore, c.NotAfter = nb, na })
	}
	expiredCopy := copyOf(952, now.AddDate(-2, 0, 0), now.AddDate(-1, 0, 0))
	invertedCopy := copyOf(953, now.AddDate(1, 0, 0), now.AddDate(-1, 0, 0))
	renewed := policy(func(tr *tsa.Trust) { tr.Intermediates = append(tr.Intermediates, inter.cert) })
	compare(t, b, ctx, env, g.kl, g.doc, renewed, g.jsRoots(), append(g.jsIntermediates(), pemOf(inter.cert)), []opCase{
		{"control: under the renewed intermediate, carried", chain(under, inter.cert), none},
		{"control: under the renewed intermediate, from the policy", chain(under), none},
		{"an expired copy of the intermediate carried, the valid one in the policy", chain(under, expiredCopy), none},
		{"a copy of the intermediate with notBefore after notAfter carried, the valid one in the policy", chain(under, invertedCopy), none},
		{"only an expired copy of the intermediate carried, none in the policy", chain(under, expiredCopy), none},
	})
	compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
		{"only an expired copy of the intermediate, none valid", chain(under, expiredCopy), ts},
	})

	// A root renewed with the same name and key, the expired one kept in
	// the policy before it.
	oldRoot := issueKey(t, nil, rc.root.key, rc.root.key.Public(), 1, "Second root", true, func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = now.AddDate(-2, 0, 0), now.AddDate(0, 0, -1)
	})
	both := policy(func(tr *tsa.Trust) { tr.Roots = append(slices.Clone(g.roots), oldRoot, rc.root.cert) })
	compare(t, b, ctx, env, g.kl, g.doc, both, []string{string(g.rootPEM), pemOf(oldRoot), pemOf(rc.root.cert)}, g.jsIntermediates(), []opCase{
		{"an expired copy of the root before the renewed one in the policy", g.crafted(t, rc.proper, g.tstNow()), none},
	})
	onlyOld := policy(func(tr *tsa.Trust) { tr.Roots = append(slices.Clone(g.roots), oldRoot) })
	compare(t, b, ctx, env, g.kl, g.doc, onlyOld, []string{string(g.rootPEM), pemOf(oldRoot)}, g.jsIntermediates(), []opCase{
		{"only the expired copy of the root in the policy", g.crafted(t, rc.proper, g.tstNow()), ts},
	})

	// An authority's own certificate pinned as the anchor is the whole
	// chain: its validity at the token's time is what is checked.
	pinned := func(serial int64, na time.Time) tokLeaf {
		return issueUnder(t, rc.root, serial, "Pinned TSA", false, func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.AddDate(-1, 0, 0), na })
	}
	valid, expired := pinned(960, now.AddDate(1, 0, 0)), pinned(961, now.Add(-time.Hour))
	for _, c := range []struct {
		name string
		leaf tokLeaf
		want []string
	}{
		{"the authority's own certificate pinned", valid, none},
		{"the authority's own certificate pinned, expired at the token's time", expired, ts},
	} {
		pin := policy(func(tr *tsa.Trust) { tr.Roots, tr.Intermediates = append(slices.Clone(g.roots), c.leaf.cert), nil })
		compare(t, b, ctx, env, g.kl, g.doc, pin, []string{string(g.rootPEM), pemOf(c.leaf.cert)}, []string{}, []opCase{
			{c.name, chain(c.leaf), c.want},
		})
	}

	// Go counts every candidate issuer, even one it then skips as already
	// in the chain (by subject, key and subjectAltName), and at 100 stops
	// with the chains it found.
	selfCopies := func(n int, f func(i int, c *x509.Certificate)) []*x509.Certificate {
		var out []*x509.Certificate
		for i := range n {
			out = append(out, issueKey(t, nil, inter.key, inter.key.Public(), int64(970+i), "Renewed intermediate", true, func(c *x509.Certificate) {
				if f != nil {
					f(i, c)
				}
			}))
		}
		return out
	}
	serverAuth := func(i int, c *x509.Certificate) {
		c.DNSNames, c.ExtKeyUsage = []string{fmt.Sprintf("copy%d.example", i)}, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	// decoys are n CA certificates named as the root, each with its own
	// key, their key identifiers the root's if ski.
	decoys := func(n int, ski bool) []*x509.Certificate {
		var out []*x509.Certificate
		for i := range n {
			k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			out = append(out, issueKey(t, nil, k, k.Public(), int64(2000+i), "Second root", true, func(c *x509.Certificate) {
				if ski {
					c.SubjectKeyId = rc.root.cert.SubjectKeyId
				}
			}))
		}
		return out
	}
	hundred, sameID := decoys(100, false), decoys(100, true)
	compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
		{"2 self-signed copies of the intermediate carried before it", chain(under, append(selfCopies(2, nil), inter.cert)...), none},
		{"10 self-signed copies of the intermediate carried before it (the limit is reached first)", chain(under, append(selfCopies(10, nil), inter.cert)...), ts},
		{"4 copies of the intermediate with their own names and serverAuth carried before it", chain(under, append(selfCopies(4, serverAuth), inter.cert)...), ts},
		{"100 decoys named as the root carried beside a signer the root issued", chain(rc.proper, hundred...), none},
	})
	// Go tries the anchors whose key identifier is the signer's
	// authority key identifier first, the rest in the policy's order.
	for _, c := range []struct {
		name   string
		decoys []*x509.Certificate
		want   []string
	}{
		{"100 decoy anchors named as the root before it, with other key identifiers", hundred, none},
		{"100 decoy anchors named as the root before it, with its key identifier (the limit is reached first)", sameID, ts},
	} {
		roots := policy(func(tr *tsa.Trust) { tr.Roots = append(append(slices.Clone(g.roots), c.decoys...), rc.root.cert) })
		pems := []string{string(g.rootPEM)}
		for _, d := range c.decoys {
			pems = append(pems, pemOf(d))
		}
		compare(t, b, ctx, env, g.kl, g.doc, roots, append(pems, pemOf(rc.root.cert)), g.jsIntermediates(), []opCase{
			{c.name, g.crafted(t, rc.proper, g.tstNow()), c.want},
		})
	}

	// A pinned certificate is the whole chain only when the token
	// carries it byte for byte: Go's pool compares whole certificates,
	// pkijs only what is signed.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	resigned := tokLeaf{resignAny(t, valid.cert, rc.root.key, nil, crypto.SHA256, nil), valid.key}
	altered := tokLeaf{resignAny(t, valid.cert, other, nil, crypto.SHA256, nil), valid.key}
	pinOnly := policy(func(tr *tsa.Trust) { tr.Roots, tr.Intermediates = append(slices.Clone(g.roots), valid.cert), nil })
	compare(t, b, ctx, env, g.kl, g.doc, pinOnly, []string{string(g.rootPEM), pemOf(valid.cert)}, []string{}, []opCase{
		{"the pinned certificate carried re-signed by its CA", chain(resigned), ts},
		{"the pinned certificate carried with another signature", chain(altered), ts},
	})
	pinAndCA := policy(func(tr *tsa.Trust) {
		tr.Roots, tr.Intermediates = append(slices.Clone(g.roots), rc.root.cert, valid.cert), nil
	})
	compare(t, b, ctx, env, g.kl, g.doc, pinAndCA, []string{string(g.rootPEM), pemOf(rc.root.cert), pemOf(valid.cert)}, []string{}, []opCase{
		{"control: pinned, its CA trusted, carried re-signed by the CA", chain(resigned), none},
		{"pinned, its CA trusted, carried with another signature", chain(altered), ts},
	})

	// Key usages Go's x509 and pkijs read apart: a keyUsage of no bits
	// Go reads as none (and lets a CA issue), pkijs as a CA that may not;
	// an empty extKeyUsage Go reads as unrestricted.
	// withExt is a signer under an intermediate holding the critical
	// extension id = value, written in place of a placeholder after Go
	// issued it (Go refuses to issue some of these).
	placeholder := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}
	withExt := func(serial int64, id asn1.ObjectIdentifier, value []byte) []byte {
		i := issueUnder(t, rc.root, serial, fmt.Sprintf("Intermediate %d", serial), true, func(c *x509.Certificate) {
			c.ExtraExtensions = []pkix.Extension{{Id: placeholder, Value: []byte{5, 0}}}
			if id.Equal(asn1.ObjectIdentifier{2, 5, 29, 15}) {
				c.KeyUsage = 0 // the one keyUsage is the row's
			}
		})
		l := issueUnder(t, i, serial+1, fmt.Sprintf("Under intermediate %d", serial), false, nil)
		oid, _ := asn1.Marshal(id)
		mark, _ := asn1.Marshal(placeholder)
		found := false
		inter := resignAny(t, i.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) {
			for _, e := range tbsExts(t, tbs).kids {
				if bytes.Equal(e.kids[0].enc(), mark) {
					e.kids = []*tokNode{tokRaw(oid), tokRaw([]byte{1, 1, 0xff}), tokRaw(tokTLV(4, value))}
					found = true
				}
			}
		})
		if !found {
			t.Fatal("no placeholder extension to replace")
		}
		return chain(l, inter)
	}
	ku, ekuID, nc := asn1.ObjectIdentifier{2, 5, 29, 15}, asn1.ObjectIdentifier{2, 5, 29, 37}, asn1.ObjectIdentifier{2, 5, 29, 30}
	compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
		{"control: an intermediate with keyUsage keyCertSign", withExt(3000, ku, []byte{3, 2, 2, 0x04}), none},
		{"an intermediate with an empty keyUsage", withExt(3002, ku, []byte{3, 1, 0}), ts},
		{"an intermediate with keyUsage bits 0 to 8 clear", withExt(3004, ku, []byte{3, 2, 0, 0}), ts},
		{"an intermediate with keyUsage digitalSignature only", withExt(3006, ku, []byte{3, 2, 7, 0x80}), ts},
		{"an intermediate with an empty extKeyUsage", withExt(3008, ekuID, []byte{0x30, 0}), none},
		{"an intermediate with an empty list of excluded names", withExt(3010, nc, []byte{0x30, 2, 0xa1, 0}), ts},
		{"an intermediate permitting only dNSName example.com", withExt(3012, nc, append([]byte{0x30, 0x11, 0xa0, 0x0f, 0x30, 0x0d, 0x82, 0x0b}, "example.com"...)), ts},
	})

	// An anchor with name constraints (which pkijs ignores on anchors) is
	// refused when the policy is read, by Go and by the portal.
	ncRoot := issueKey(t, nil, rc.root.key, rc.root.key.Public(), 3020, "Constrained root", true, func(c *x509.Certificate) {
		c.PermittedDNSDomainsCritical, c.PermittedDNSDomains = true, []string{"example.com"}
	})
	if _, err := tsa.ParseCertificates([]byte(pemOf(ncRoot))); err == nil {
		t.Error("tsa.ParseCertificates took an anchor with name constraints, want it refused")
	}
	refused, err := chromedp.Run(b, chromedp.Evaluate[string](fmt.Sprintf(`(async () => {
		const ts = await import("/portal/timestamps.js");
		try { await ts.parseCertificates([%q]); return ""; } catch (e) { return e.message; }
	})()`, pemOf(ncRoot)), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(refused, "name constraints") {
		t.Errorf("the portal read an anchor with name constraints: got %q, want a refusal naming them", refused)
	}

	// A self-issued CA certificate (a key rollover: issuer and subject
	// the root's name, its own key, signed by the root's key) is no
	// anchor: its signature is checked. Go's x509 takes RSASSA-PSS only
	// with MGF1 of the same hash and a salt as long as the hash, pkijs
	// any parameters (SHA-1 too): the profile takes no RSASSA-PSS at all.
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaRoot := issueKey(t, nil, rsaKey, rsaKey.Public(), 4000, "RSA root", true, nil)
	rollKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	roll := issueKey(t, rsaRoot, rsaKey, rollKey.Public(), 4001, "RSA root", true, nil)
	underRoll := tokLeaf{issueKey(t, roll, rollKey, g.rc.proper.key.Public(), 4002, "Under the rollover", false, nil), g.rc.proper.key}
	oidSHA256, oidMGF1 := tokOID(2, 16, 840, 1, 101, 3, 4, 2, 1), tokOID(1, 2, 840, 113549, 1, 1, 8)
	pss := func(params ...[]byte) []byte {
		return tokTLV(0x30, tokOID(1, 2, 840, 113549, 1, 1, 10), tokTLV(0x30, params...))
	}
	hashAI := func(oid []byte) []byte { return tokTLV(0x30, oid, []byte{5, 0}) }
	pssSHA256 := func(salt int64) []byte {
		return pss(tokTLV(0xa0, hashAI(oidSHA256)), tokTLV(0xa1, tokTLV(0x30, oidMGF1, hashAI(oidSHA256))), tokTLV(0xa2, tokInt(salt)))
	}
	rollPSS := func(alg []byte, opts *rsa.PSSOptions) []byte {
		return chain(underRoll, resignAny(t, roll, rsaKey, alg, opts, nil))
	}
	withRSARoot := policy(func(tr *tsa.Trust) { tr.Roots = append(slices.Clone(tr.Roots), rsaRoot) })
	compare(t, b, ctx, env, g.kl, g.doc, withRSARoot, append(g.jsRoots(), pemOf(rsaRoot)), g.jsIntermediates(), []opCase{
		{"control: a self-issued rollover CA signed sha256WithRSAEncryption", chain(underRoll, roll), none},
		{"a self-issued rollover CA signed RSASSA-PSS, SHA-256, salt 32", rollPSS(pssSHA256(32), &rsa.PSSOptions{SaltLength: 32, Hash: crypto.SHA256}), ts},
		{"a self-issued rollover CA signed RSASSA-PSS, SHA-256, salt 20", rollPSS(pssSHA256(20), &rsa.PSSOptions{SaltLength: 20, Hash: crypto.SHA256}), ts},
		{"a self-issued rollover CA signed RSASSA-PSS with default parameters (SHA-1)", rollPSS(pss(), &rsa.PSSOptions{SaltLength: 20, Hash: crypto.SHA1}), ts},
	})

	// A version 1 or 2 certificate with an extensions field: Go's x509
	// reads extensions of version 3 only, pkijs whatever the version; the
	// profile takes version 3 only.
	asVersion := func(v int64) func(tbs *tokNode) {
		return func(tbs *tokNode) {
			if v == 0 {
				tbs.kids = tbs.kids[1:] // version 1: the field left out
			} else {
				tbs.kids[0] = tokRaw(tokTLV(0xa0, tokInt(v)))
			}
		}
	}
	v3Leaf := issueUnder(t, rc.root, 4010, "Version 1 TSA", false, nil)
	v1Leaf := tokLeaf{resignAny(t, v3Leaf.cert, rc.root.key, nil, crypto.SHA256, asVersion(0)), v3Leaf.key}
	v3Leaf2 := issueUnder(t, rc.root, 4011, "Version 2 TSA", false, nil)
	v2Leaf := tokLeaf{resignAny(t, v3Leaf2.cert, rc.root.key, nil, crypto.SHA256, asVersion(1)), v3Leaf2.key}
	v3Inter := issueUnder(t, rc.root, 4012, "Version 1 intermediate", true, nil)
	underV1 := issueUnder(t, v3Inter, 4013, "Under the version 1 intermediate", false, nil)
	v1Inter := resignAny(t, v3Inter.cert, rc.root.key, nil, crypto.SHA256, asVersion(0))
	compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
		{"control: under a version 3 intermediate", chain(underV1, v3Inter.cert), none},
		{"a version 1 signer certificate with extensions (its critical timeStamping among them)", g.crafted(t, v1Leaf, g.tstNow()), ts},
		{"a version 2 signer certificate with extensions (its critical timeStamping among them)", g.crafted(t, v2Leaf, g.tstNow()), ts},
		{"under a version 1 intermediate with extensions (basicConstraints cA among them)", chain(underV1, v1Inter), ts},
	})
	// A version 1 anchor with basicConstraints cA in an extensions field:
	// Go reads no basicConstraints and refuses the anchor (tsa's anchor).
	v1Root := resignAny(t, rc.root.cert, rc.root.key, nil, crypto.SHA256, asVersion(0))
	v1Roots := policy(func(tr *tsa.Trust) {
		c, err := x509.ParseCertificate(v1Root.Raw)
		if err != nil {
			t.Fatal(err)
		}
		tr.Roots = append(slices.Clone(g.roots), c)
	})
	compare(t, b, ctx, env, g.kl, g.doc, v1Roots, []string{string(g.rootPEM), pemOf(v1Root)}, g.jsIntermediates(), []opCase{
		{"a version 1 anchor with extensions (basicConstraints cA among them)", g.crafted(t, rc.proper, g.tstNow()), ts},
	})

	// A path length constraint of 2^24 (four content bytes): Go reads it
	// as a number, pkijs keeps it as an INTEGER it did not decode; the
	// portal reads basic constraints as Go does.
	bigPL := issueUnder(t, rc.root, 4020, "Path length 2^24 intermediate", true, func(c *x509.Certificate) { c.MaxPathLen = 1 << 24 })
	underBigPL := issueUnder(t, bigPL, 4021, "Under the path length 2^24 intermediate", false, nil)
	smallPL := issueUnder(t, rc.root, 4022, "Path length 2^22 intermediate", true, func(c *x509.Certificate) { c.MaxPathLen = 1 << 22 })
	underSmallPL := issueUnder(t, smallPL, 4023, "Under the path length 2^22 intermediate", false, nil)
	compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
		{"control: under an intermediate with pathLenConstraint 2^22", chain(underSmallPL, smallPL.cert), none},
		{"under an intermediate with pathLenConstraint 2^24", chain(underBigPL, bigPL.cert), none},
	})

	// Extension values Go's x509 cannot parse (so that it refuses the
	// certificate, and the token), which pkijs reads or leaves aside: the
	// portal parses the extensions Go parses as Go does.
	placeholder2 := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 2}
	mark2, _ := asn1.Marshal(placeholder2)
	leafWith := func(serial int64, ext []byte) tokLeaf {
		base := issueUnder(t, rc.root, serial, fmt.Sprintf("Odd extension TSA %d", serial), false, func(c *x509.Certificate) {
			c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: placeholder2, Value: []byte{5, 0}})
		})
		found := false
		l := tokLeaf{resignAny(t, base.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) {
			for _, e := range tbsExts(t, tbs).kids {
				if bytes.Equal(e.kids[0].enc(), mark2) {
					e.raw, found = ext, true
				}
			}
		}), base.key}
		if !found {
			t.Fatal("no placeholder extension to replace")
		}
		return l
	}
	san := tokOID(2, 5, 29, 17)
	bcInter := issueUnder(t, rc.root, 4040, "BER basicConstraints intermediate", true, nil)
	underBC := issueUnder(t, bcInter, 4041, "Under the BER basicConstraints intermediate", false, nil)
	berBC := resignAny(t, bcInter.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) {
		for _, e := range tbsExts(t, tbs).kids {
			if bytes.Equal(e.kids[0].enc(), tokOID(2, 5, 29, 19)) {
				e.kids[len(e.kids)-1] = tokRaw(tokTLV(4, []byte{0x30, 3, 1, 1, 1})) // cA BOOLEAN 01
			}
		}
	})
	compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
		{"control: a signer with subjectAltName iPAddress 1.2.3.4", g.crafted(t, leafWith(4030, tokTLV(0x30, san, tokTLV(4, tokTLV(0x30, tokTLV(0x87, []byte{1, 2, 3, 4}))))), g.tstNow()), none},
		{"a signer with subjectAltName iPAddress of 5 bytes", g.crafted(t, leafWith(4032, tokTLV(0x30, san, tokTLV(4, tokTLV(0x30, tokTLV(0x87, []byte{1, 2, 3, 4, 5}))))), g.tstNow()), ts},
		{"a signer with subjectAltName dNSName not IA5", g.crafted(t, leafWith(4034, tokTLV(0x30, san, tokTLV(4, tokTLV(0x30, tokTLV(0x82, []byte("a\xffb.example")))))), g.tstNow()), ts},
		{"under an intermediate whose basicConstraints cA is BOOLEAN 01", chain(underBC, berBC), ts},
	})
	ext := func(oid []byte, critical bool, value []byte) []byte {
		if critical {
			return tokTLV(0x30, oid, []byte{1, 1, 0xff}, tokTLV(4, value))
		}
		return tokTLV(0x30, oid, tokTLV(4, value))
	}
	uri := func(s string) []byte { return tokTLV(0x86, []byte(s)) }
	crldp, aia, policies := tokOID(2, 5, 29, 31), tokOID(1, 3, 6, 1, 5, 5, 7, 1, 1), tokOID(2, 5, 29, 32)
	ocsp := tokOID(1, 3, 6, 1, 5, 5, 7, 48, 1)
	odd := func(serial int64, e []byte) []byte { return g.crafted(t, leafWith(serial, e), g.tstNow()) }
	compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
		{"control: a signer with subjectAltName rfc822Name and dNSName, critical", odd(4050, ext(san, true, tokTLV(0x30, tokTLV(0x81, []byte("tsa@example.com")), tokTLV(0x82, []byte("tsa.example"))))), none},
		{"a signer whose critical subjectAltName holds a directoryName only (unhandled by Go)", odd(4051, ext(san, true, tokTLV(0x30, tokTLV(0xa4, tokTLV(0x30, tokTLV(0x31, tokTLV(0x30, tokOID(2, 5, 4, 3), tokTLV(0x0c, []byte("TSA"))))))))), ts},
		{"a signer with a URI subjectAltName", odd(4052, ext(san, false, tokTLV(0x30, uri("https://tsa.example/")))), ts},
		{"control: a signer with a CRL distribution point", odd(4053, ext(crldp, false, tokTLV(0x30, tokTLV(0x30, tokTLV(0xa0, tokTLV(0xa0, uri("http://crl.example/ca.crl"))))))), none},
		{"a signer whose CRL distribution point is named relative to the issuer", odd(4054, ext(crldp, false, tokTLV(0x30, tokTLV(0x30, tokTLV(0xa0, tokTLV(0xa1, tokTLV(0x30, tokOID(2, 5, 4, 3), tokTLV(0x0c, []byte("CRL"))))))))), ts},
		{"a signer whose CRL distribution point is no SEQUENCE", odd(4055, ext(crldp, false, tokTLV(0x30, tokTLV(0x31)))), ts},
		{"control: a signer with authority information access", odd(4056, ext(aia, false, tokTLV(0x30, tokTLV(0x30, ocsp, uri("http://ocsp.example/"))))), none},
		{"a signer whose access method is no minimal identifier", odd(4057, ext(aia, false, tokTLV(0x30, tokTLV(0x30, tokTLV(6, []byte{0x2b, 0x80, 0x06}), uri("http://ocsp.example/"))))), ts},
		{"control: a signer with two certificate policies", odd(4058, ext(policies, false, tokTLV(0x30, tokTLV(0x30, tokOID(1, 3, 6, 1, 4, 1, 99999, 7)), tokTLV(0x30, tokOID(2, 5, 29, 32, 0))))), none},
		{"a signer with a certificate policy twice", odd(4059, ext(policies, false, tokTLV(0x30, tokTLV(0x30, tokOID(1, 3, 6, 1, 4, 1, 99999, 7)), tokTLV(0x30, tokOID(1, 3, 6, 1, 4, 1, 99999, 7))))), ts},
		{"a signer whose certificate policies are no SEQUENCE", odd(4060, ext(policies, false, tokTLV(0x31, tokTLV(0x30, tokOID(1, 3, 6, 1, 4, 1, 99999, 7))))), ts},
	})
	// Key identifiers Go's x509 cannot parse.
	skiOID, akiOID := tokOID(2, 5, 29, 14), tokOID(2, 5, 29, 35)
	akiBase := issueUnder(t, rc.root, 4062, "Odd key identifier TSA", false, nil)
	badAKI := tokLeaf{resignAny(t, akiBase.cert, rc.root.key, nil, crypto.SHA256, func(tbs *tokNode) {
		for _, e := range tbsExts(t, tbs).kids {
			if bytes.Equal(e.kids[0].enc(), akiOID) {
				e.raw = ext(akiOID, false, tokTLV(4, []byte{1, 2}))
			}
		}
	}), akiBase.key}
	compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
		{"a signer whose subjectKeyIdentifier is a SEQUENCE", odd(4061, ext(skiOID, false, tokTLV(0x30, tokTLV(4, []byte{1, 2})))), ts},
		{"a signer whose authorityKeyIdentifier is no SEQUENCE", g.crafted(t, badAKI, g.tstNow()), ts},
	})

	// Keys Go's x509 cannot parse (it refuses every
	// certificate the token carries then), on a decoy named as the root
	// that the page only tries as an issuer.
	decoy := func(serial int64, key crypto.Signer, spki []byte) *x509.Certificate {
		base := issueKey(t, nil, key, key.Public(), serial, "Second root", true, nil)
		return resignAny(t, base, key, nil, crypto.SHA256, func(tbs *tokNode) { tbs.kids[6] = tokRaw(spki) })
	}
	decoyKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	onCurveKey := decoyKey.PublicKey
	decoySPKI, _ := x509.MarshalPKIXPublicKey(&onCurveKey)
	offCurve := slices.Clone(decoySPKI)
	offCurve[len(offCurve)-1] ^= 1 // y changed: the point is no longer on P-256
	rsaSPKI := func(n, e []byte) []byte {
		return tokTLV(0x30, tokTLV(0x30, tokOID(1, 2, 840, 113549, 1, 1, 1), []byte{5, 0}), tokTLV(3, []byte{0}, tokTLV(0x30, tokTLV(2, n), tokTLV(2, e))))
	}
	nb := append([]byte{0}, rsaKey.N.Bytes()...) // minimal: N's top bit is set
	compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
		{"a decoy named as the root, its EC key as Go writes it", chain(rc.proper, decoy(5000, decoyKey, decoySPKI)), none},
		{"a decoy named as the root whose EC point is not on P-256", chain(rc.proper, decoy(5001, decoyKey, offCurve)), ts},
		{"a decoy named as the root, its RSA key minimal", chain(rc.proper, decoy(5002, rsaKey, rsaSPKI(nb, []byte{1, 0, 1}))), none},
		{"a decoy named as the root whose RSA modulus has a needless zero byte", chain(rc.proper, decoy(5003, rsaKey, rsaSPKI(append([]byte{0}, nb...), []byte{1, 0, 1}))), ts},
		{"a decoy named as the root whose RSA exponent has a needless zero byte", chain(rc.proper, decoy(5004, rsaKey, rsaSPKI(nb, []byte{0, 1, 0, 1}))), ts},
	})

	// The authority each verifier names for a token that
	// passes. Go's tsa names the first carried certificate whose key
	// purposes include timeStamping (signerOf), the portal the signer.
	authorityIn := func(detail string) string {
		_, after, _ := strings.Cut(detail, " by ")
		name, _, _ := strings.Cut(after, " at ")
		return name
	}
	sameAuthority := func(name string, bundle []byte) {
		t.Helper()
		ver, _ := vault.VerifyOffline(ctx, bundle, g.trust, g.doc.File.SHA256, g.doc.File.Size)
		goDetail := ""
		for _, c := range ver.Checks {
			if c.Name == "timestamp" {
				goDetail = c.Detail
			}
		}
		klJSON, _ := json.Marshal(g.kl)
		pol, _ := json.Marshal(map[string]any{
			"timestamps": map[string]any{"roots": g.jsRoots(), "intermediates": g.jsIntermediates(), "qualified": false},
			"witnesses":  map[string]any{"keys": []string{env["VAULT_WITNESS_KEY"]}, "quorum": 1},
			"require":    true,
		})
		jsDetail, err := chromedp.Run(b, chromedp.Evaluate[string](`(async () => {
			const v = await import("/portal/verify.js");
			const p = await import("/portal/policy.js");
			const kl = `+string(klJSON)+`;
			const { trust } = await v.trustLog(kl.origin, kl.checkpoint, kl.events, null);
			trust.policy = await p.compilePolicy(`+string(pol)+`);
			const bytes = Uint8Array.from(atob(`+jsString(base64.StdEncoding.EncodeToString(bundle))+`), (ch) => ch.charCodeAt(0));
			const r = await v.verifyReceipt(v.readReceipt(bytes), trust, `+jsString(g.doc.File.SHA256)+`, `+jsInt(g.doc.File.Size)+`);
			return r.checks.find((x) => x.name === "timestamp").detail;
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if authorityIn(goDetail) == "" || authorityIn(goDetail) != authorityIn(jsDetail) {
			t.Errorf("%s: Go says %q, the portal %q", name, goDetail, jsDetail)
		}
	}
	tsCA := issueUnder(t, rc.root, 5010, "Time-stamping CA", true, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping} })
	underTSCA := issueUnder(t, tsCA, 5011, "Signer under the time-stamping CA", false, nil)
	sameAuthority("the signer carried first, its CA's key purpose timeStamping", g.carrying(t, underTSCA, content, underTSCA.cert, tsCA.cert))
	sameAuthority("the CA (key purpose timeStamping) carried before the signer", g.carrying(t, underTSCA, content, tsCA.cert, underTSCA.cert))
	// Names Go's pkix.Name.String writes otherwise than the portal's
	// subjectOf: attributes out of Go's fixed order, a comma, two values
	// of one type, an attribute it does not name.
	named := func(serial int64, rdns pkix.RDNSequence) []byte {
		raw, err := asn1.Marshal(rdns)
		if err != nil {
			t.Fatal(err)
		}
		l := issueUnder(t, rc.root, serial, "unused", false, func(c *x509.Certificate) { c.RawSubject = raw })
		return g.crafted(t, l, g.tstNow())
	}
	atv := func(id asn1.ObjectIdentifier, v string) []pkix.AttributeTypeAndValue {
		return []pkix.AttributeTypeAndValue{{Type: id, Value: v}}
	}
	cn, o, ou, email := asn1.ObjectIdentifier{2, 5, 4, 3}, asn1.ObjectIdentifier{2, 5, 4, 10}, asn1.ObjectIdentifier{2, 5, 4, 11}, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	sameAuthority("O then CN", named(5020, pkix.RDNSequence{atv(o, "Org"), atv(cn, "TSA")}))
	sameAuthority("CN then O", named(5021, pkix.RDNSequence{atv(cn, "TSA"), atv(o, "Org")}))
	sameAuthority("a CN with a comma", named(5022, pkix.RDNSequence{atv(cn, "TSA, Inc")}))
	sameAuthority("two OUs", named(5023, pkix.RDNSequence{atv(ou, "A"), atv(ou, "B"), atv(cn, "TSA")}))
	sameAuthority("an emailAddress", named(5024, pkix.RDNSequence{atv(cn, "TSA"), atv(email, "tsa@example.com")}))
	// Raw values: string types Go reads each its own way.
	rawATV := func(id asn1.ObjectIdentifier, tag int, v []byte) []pkix.AttributeTypeAndValue {
		return []pkix.AttributeTypeAndValue{{Type: id, Value: asn1.RawValue{Tag: tag, Bytes: v}}}
	}
	street, postal, serialNumber, surname := asn1.ObjectIdentifier{2, 5, 4, 9}, asn1.ObjectIdentifier{2, 5, 4, 17}, asn1.ObjectIdentifier{2, 5, 4, 5}, asn1.ObjectIdentifier{2, 5, 4, 4}
	long := strings.Repeat("a long surname ", 10)
	for i, tt := range []struct {
		name string
		rdns pkix.RDNSequence
	}{
		{"a CN that starts with '#' and ends with a space", pkix.RDNSequence{atv(cn, "#TSA ")}},
		{"a CN that starts with a space and holds every character escaped", pkix.RDNSequence{atv(cn, ` a,b+c"d\e<f>g;h`)}},
		{"two CNs, the last empty", pkix.RDNSequence{atv(o, "Org"), atv(cn, "TSA"), atv(cn, "")}},
		{"a T61String CN in Latin-1", pkix.RDNSequence{rawATV(cn, asn1.TagT61String, []byte("T\xe9l\xe9 TSA"))}},
		{"a BMPString CN with its terminator", pkix.RDNSequence{rawATV(cn, asn1.TagBMPString, []byte{0, 'T', 0x20, 0xac, 0, 0})}},
		{"every named attribute, out of order", pkix.RDNSequence{atv(serialNumber, "42"), atv(cn, "TSA"), atv(postal, "50667"), atv(street, "Am Grauen Stein"),
			atv(asn1.ObjectIdentifier{2, 5, 4, 7}, "Köln"), atv(asn1.ObjectIdentifier{2, 5, 4, 8}, "NRW"), atv(asn1.ObjectIdentifier{2, 5, 4, 6}, "DE"), atv(o, "Org")}},
		{"two attributes in one RDN", pkix.RDNSequence{[]pkix.AttributeTypeAndValue{{Type: o, Value: "Org"}, {Type: cn, Value: "TSA"}}}},
		{"an unnamed attribute of 150 characters", pkix.RDNSequence{atv(cn, "TSA"), atv(surname, long)}},
		{"an unnamed attribute with '*' and '&', an IA5String", pkix.RDNSequence{atv(cn, "TSA"), rawATV(surname, asn1.TagIA5String, []byte("a*b&c"))}},
		{"an unnamed attribute in UTF-8", pkix.RDNSequence{rawATV(surname, asn1.TagUTF8String, []byte("Zeitstempel-Dienst ✓")), atv(cn, "TSA")}},
	} {
		sameAuthority(tt.name, named(int64(5100+i), tt.rdns))
	}

	// What is around the extensions and the signature.
	tbsEdit := func(serial int64, f func(tbs *tokNode)) tokLeaf {
		base := issueUnder(t, rc.root, serial, fmt.Sprintf("TBS edit TSA %d", serial), false, nil)
		return tokLeaf{resignAny(t, base.cert, rc.root.key, nil, crypto.SHA256, f), base.key}
	}
	insertBefore := func(tbs *tokNode, at int, raws ...[]byte) {
		var kids []*tokNode
		for _, r := range raws {
			kids = append(kids, tokRaw(r))
		}
		tbs.kids = slices.Insert(tbs.kids, at, kids...)
	}
	trailing := issueUnder(t, rc.root, 5034, "Trailing TSA", false, nil)
	trailingCert := func() tokLeaf {
		n := tokParse(t, trailing.cert.Raw)
		n.kids = append(n.kids, tokRaw([]byte{5, 0}))
		return tokLeaf{&x509.Certificate{Raw: n.enc(), RawIssuer: trailing.cert.RawIssuer, RawSubject: trailing.cert.RawSubject, SerialNumber: trailing.cert.SerialNumber}, trailing.key}
	}()
	compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
		{"a signer whose extensions follow a constructed [1] (Go reads none)", g.crafted(t, tbsEdit(5030, func(tbs *tokNode) { insertBefore(tbs, 7, []byte{0xa1, 0}) }), g.tstNow()), ts},
		{"a signer whose extensions follow subjectUniqueID then issuerUniqueID (Go reads none)", g.crafted(t, tbsEdit(5031, func(tbs *tokNode) { insertBefore(tbs, 7, []byte{0x82, 1, 0}, []byte{0x81, 1, 0}) }), g.tstNow()), ts},
		{"a signer with both unique identifiers", g.crafted(t, tbsEdit(5032, func(tbs *tokNode) { insertBefore(tbs, 7, []byte{0x81, 1, 0}, []byte{0x82, 1, 0}) }), g.tstNow()), none},
		{"a signer with a NULL after its extensions in the TBS", g.crafted(t, tbsEdit(5033, func(tbs *tokNode) { tbs.kids = append(tbs.kids, tokRaw([]byte{5, 0})) }), g.tstNow()), none},
		{"a signer with a NULL after its signature", g.crafted(t, trailingCert, g.tstNow()), none},
	})
	// How goExtension reads what Go reads past.
	ekuOID, bcOID := tokOID(2, 5, 29, 37), tokOID(2, 5, 29, 19)
	tsOID := tokOID(1, 3, 6, 1, 5, 5, 7, 3, 8)
	// swapExt puts with in place of the extension whose OID is oid.
	swapExt := func(oid, with []byte) func(tbs *tokNode) {
		return func(tbs *tokNode) {
			for _, e := range tbsExts(t, tbs).kids {
				if bytes.Equal(e.kids[0].enc(), oid) {
					e.raw = with
				}
			}
		}
	}
	replaceExt := func(serial int64, oid, with []byte) tokLeaf { return tbsEdit(serial, swapExt(oid, with)) }
	// interSwapped is a signer under an intermediate, re-signed by the
	// root, whose extension oid is replaced by with.
	interSwapped := func(serial int64, setup func(*x509.Certificate), oid, with []byte) []byte {
		i := issueUnder(t, rc.root, serial, fmt.Sprintf("Intermediate %d", serial), true, setup)
		l := issueUnder(t, i, serial+1, fmt.Sprintf("Under intermediate %d", serial), false, nil)
		return chain(l, resignAny(t, i.cert, rc.root.key, nil, crypto.SHA256, swapExt(oid, with)))
	}
	bcInterWith := func(serial int64, value []byte) []byte {
		return interSwapped(serial, nil, bcOID, ext(bcOID, true, value))
	}
	compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
		{"an intermediate whose basicConstraints is {pathLen 0, cA TRUE}", bcInterWith(5040, tokTLV(0x30, tokInt(0), []byte{1, 1, 0xff})), ts},
		{"an intermediate whose basicConstraints has a NULL after the SEQUENCE", bcInterWith(5042, append(tokTLV(0x30, []byte{1, 1, 0xff}), 5, 0)), none},
		{"an intermediate whose basicConstraints cA is FALSE with pathLen 3", bcInterWith(5044, tokTLV(0x30, []byte{1, 1, 0}, tokInt(3))), ts},
		{"an intermediate whose basicConstraints holds junk after cA", bcInterWith(5046, tokTLV(0x30, []byte{1, 1, 0xff}, []byte{0x04, 0x7f})), none},
		{"a signer's EKU with a NULL after the SEQUENCE", g.crafted(t, replaceExt(5050, ekuOID, ext(ekuOID, true, append(tokTLV(0x30, tsOID), 5, 0))), g.tstNow()), none},
		{"a signer's EKU with a stray byte after the SEQUENCE", g.crafted(t, replaceExt(5051, ekuOID, ext(ekuOID, true, append(tokTLV(0x30, tsOID), 0xff))), g.tstNow()), none},
		{"a signer's EKU timeStamping twice", g.crafted(t, replaceExt(5052, ekuOID, ext(ekuOID, true, tokTLV(0x30, tsOID, tsOID))), g.tstNow()), ts},
		{"a signer's critical SAN with an otherName only", odd(5053, ext(san, true, tokTLV(0x30, tokTLV(0xa0, tokOID(1, 2, 3), tokTLV(0xa0, tokTLV(0x0c, []byte("x"))))))), ts},
		{"a signer's critical SAN with an empty dNSName", odd(5054, ext(san, true, tokTLV(0x30, tokTLV(0x82)))), none},
		{"a signer's AIA with a constructed [6] location", odd(5055, ext(aia, false, tokTLV(0x30, tokTLV(0x30, ocsp, tokTLV(0xa6, tokTLV(0x04)))))), none},
		{"a signer's SAN with a registeredID and an x400Address", odd(5056, ext(san, false, tokTLV(0x30, tokTLV(0x88, []byte{0x2a}), tokTLV(0xa3)))), none},
	})
	// Values Go reads the first part of and ignores the rest
	// of (cryptobyte reads one element), where the rest is no element.
	junk := []byte{0x04, 0x7f} // an OCTET STRING header claiming 127 bytes that are not there
	anyPolicy := tokOID(2, 5, 29, 32, 0)
	interWith := func(serial int64, oid []byte, critical bool, value []byte) []byte {
		placeholder := func(c *x509.Certificate) {
			c.ExtraExtensions = []pkix.Extension{{Id: placeholder2, Value: []byte{5, 0}}}
		}
		return interSwapped(serial, placeholder, mark2, ext(oid, critical, value))
	}
	compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
		{"an intermediate whose basicConstraints SEQUENCE holds cA TRUE, then a truncated element", bcInterWith(5060, tokTLV(0x30, []byte{1, 1, 0xff}, junk)), none},
		{"an intermediate whose certificate policy is followed inside its PolicyInformation by a truncated element", interWith(5062, policies, false, tokTLV(0x30, tokTLV(0x30, anyPolicy, junk))), none},
		{"an intermediate whose authorityInfoAccess description ends in a truncated element", interWith(5064, aia, false, tokTLV(0x30, tokTLV(0x30, ocsp, uri("http://ocsp.example/"), junk))), none},
		{"an intermediate whose CRL distribution point ends in a truncated element", interWith(5066, crldp, false, tokTLV(0x30, tokTLV(0x30, tokTLV(0xa0, tokTLV(0xa0, uri("http://crl.example/ca.crl"))), junk))), none},
		{"a signer whose certificate policy is followed inside its PolicyInformation by a truncated element", odd(5068, ext(policies, false, tokTLV(0x30, tokTLV(0x30, anyPolicy, junk)))), none},
		{"a signer whose authorityKeyIdentifier ends in a truncated element", g.crafted(t, replaceExt(5069, akiOID, ext(akiOID, false, tokTLV(0x30, tokTLV(0x80, rc.root.cert.SubjectKeyId), junk))), g.tstNow()), none},
		{"a signer whose basicConstraints SEQUENCE holds cA FALSE, then a truncated element", odd(5070, ext(tokOID(2, 5, 29, 19), false, tokTLV(0x30, []byte{1, 1, 0}, junk))), none},
	})

	// A tenth review: names, keys, chains, signature encodings, key sizes.
	// Names: sameAuthority (Go's pkix.Name.String against goName).
	{
		givenName, title := asn1.ObjectIdentifier{2, 5, 4, 42}, asn1.ObjectIdentifier{2, 5, 4, 12}
		c, st, l := asn1.ObjectIdentifier{2, 5, 4, 6}, asn1.ObjectIdentifier{2, 5, 4, 8}, asn1.ObjectIdentifier{2, 5, 4, 7}
		bmp := func(s string) []byte {
			var out []byte
			for _, r := range s {
				out = append(out, byte(r>>8), byte(r))
			}
			return out
		}
		for i, tt := range []struct {
			name string
			rdns pkix.RDNSequence
		}{
			{"a UTF8String CN that starts with a byte order mark", pkix.RDNSequence{rawATV(cn, asn1.TagUTF8String, []byte("\xef\xbb\xbfTSA"))}},
			{"an unnamed UTF8String attribute that starts with a byte order mark", pkix.RDNSequence{atv(cn, "TSA"), rawATV(surname, asn1.TagUTF8String, []byte("\xef\xbb\xbfX"))}},
			{"a UTF8String CN that is a byte order mark alone, then an O", pkix.RDNSequence{atv(o, "Org"), rawATV(cn, asn1.TagUTF8String, []byte("\xef\xbb\xbf"))}},
			{"a T61String CN with bytes 0x80-0xff", pkix.RDNSequence{rawATV(cn, asn1.TagT61String, []byte("A\x80\x9f\xa0\xff "))}},
			{"a T61String unnamed attribute with bytes 0x80-0xff", pkix.RDNSequence{atv(cn, "TSA"), rawATV(surname, asn1.TagT61String, []byte("\x80\xff\x00"))}},
			{"a BMPString CN outside Latin-1", pkix.RDNSequence{rawATV(cn, asn1.TagBMPString, bmp("中文 TSA \ufffd\u2028"))}},
			{"a BMPString unnamed attribute outside Latin-1", pkix.RDNSequence{atv(cn, "TSA"), rawATV(givenName, asn1.TagBMPString, bmp("Ωmega\u0000"))}},
			{"a BMPString CN of two terminators", pkix.RDNSequence{atv(o, "Org"), rawATV(cn, asn1.TagBMPString, []byte{0, 0, 0, 0})}},
			{"NumericString CN and serialNumber", pkix.RDNSequence{rawATV(cn, asn1.TagNumericString, []byte(" 12 34 ")), rawATV(serialNumber, asn1.TagNumericString, []byte("0042"))}},
			{"NumericString unnamed", pkix.RDNSequence{atv(cn, "TSA"), rawATV(title, asn1.TagNumericString, []byte("12 "))}},
			{"IA5String named attributes with control characters", pkix.RDNSequence{rawATV(o, asn1.TagIA5String, []byte("a\x01b\x7f")), rawATV(cn, asn1.TagIA5String, []byte("#x\x00y,"))}},
			{"empty RDN SETs around the CN", pkix.RDNSequence{pkix.RelativeDistinguishedNameSET{}, atv(cn, "TSA"), pkix.RelativeDistinguishedNameSET{}}},
			{"a CN of one space", pkix.RDNSequence{atv(o, "Org"), atv(cn, " ")}},
			{"a CN of one '#'", pkix.RDNSequence{atv(o, "Org"), atv(cn, "#")}},
			{"a CN of two spaces and a '#' inside", pkix.RDNSequence{atv(cn, "  a#b  ")}},
			{"a CN with NUL, tab, newline, DEL", pkix.RDNSequence{rawATV(cn, asn1.TagUTF8String, []byte("a\x00b\tc\nd\x7fe\u0085"))}},
			{"an unnamed attribute with NUL and newline", pkix.RDNSequence{atv(cn, "TSA"), rawATV(surname, asn1.TagUTF8String, []byte("a\x00\n"))}},
			{"multi-byte UTF-8 at the end, then a space", pkix.RDNSequence{rawATV(cn, asn1.TagUTF8String, []byte("TSA é 😀 "))}},
			{"a 4-byte character last", pkix.RDNSequence{rawATV(cn, asn1.TagUTF8String, []byte("TSA 😀"))}},
			{"OUs across RDNs and within one", pkix.RDNSequence{atv(ou, "A"), []pkix.AttributeTypeAndValue{{Type: ou, Value: "B"}, {Type: ou, Value: "A"}, {Type: cn, Value: "TSA"}}, atv(ou, "C")}},
			{"serialNumber empty", pkix.RDNSequence{atv(cn, "TSA"), atv(serialNumber, "")}},
			{"serialNumber then an empty one", pkix.RDNSequence{atv(cn, "TSA"), atv(serialNumber, "7"), atv(serialNumber, "")}},
			{"empty C, ST and L", pkix.RDNSequence{atv(c, ""), atv(st, ""), atv(l, ""), atv(cn, "TSA")}},
			{"an unnamed attribute under OID 2.999.1", pkix.RDNSequence{atv(cn, "TSA"), atv(asn1.ObjectIdentifier{2, 999, 1}, "x")}},
			{"an unnamed attribute under OID 2.2147483567", pkix.RDNSequence{atv(cn, "TSA"), atv(asn1.ObjectIdentifier{2, 2147483567}, "x")}},
			{"an unnamed attribute under arc 2147483647", pkix.RDNSequence{atv(cn, "TSA"), atv(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 2147483647}, "x")}},
			{"domainComponent and 0.0", pkix.RDNSequence{atv(asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, "example"), atv(asn1.ObjectIdentifier{0, 0}, ""), atv(cn, "TSA")}},
			{"2.5.4.3.1, not a CN", pkix.RDNSequence{atv(cn, "TSA"), atv(asn1.ObjectIdentifier{2, 5, 4, 3, 1}, "y")}},
			{"an emailAddress IA5String with '&'", pkix.RDNSequence{atv(cn, "TSA"), rawATV(email, asn1.TagIA5String, []byte("a&b@example.com"))}},
			{"unnamed of 127 bytes", pkix.RDNSequence{atv(cn, "TSA"), atv(surname, strings.Repeat("a", 127))}},
			{"unnamed of 128 bytes", pkix.RDNSequence{atv(cn, "TSA"), atv(surname, strings.Repeat("a", 128))}},
			{"unnamed of 255 bytes", pkix.RDNSequence{atv(cn, "TSA"), atv(surname, strings.Repeat("b", 255))}},
			{"unnamed of 256 bytes", pkix.RDNSequence{atv(cn, "TSA"), atv(surname, strings.Repeat("c", 256))}},
			{"unnamed UTF-8 of 300 bytes", pkix.RDNSequence{atv(cn, "TSA"), rawATV(surname, asn1.TagUTF8String, []byte(strings.Repeat("é", 150)))}},
			{"unnamed of 65536 bytes", pkix.RDNSequence{atv(cn, "TSA"), atv(surname, strings.Repeat("d", 65536))}},
			{"unnamed empty", pkix.RDNSequence{atv(cn, "TSA"), atv(surname, "")}},
			{"only unnamed attributes", pkix.RDNSequence{atv(surname, "S"), atv(givenName, "G")}},
			{"a PrintableString CN with '*' and '&'", pkix.RDNSequence{rawATV(cn, asn1.TagPrintableString, []byte("*.a&b"))}},
			{"a CN of a noncharacter U+FFFE in UTF-8", pkix.RDNSequence{rawATV(cn, asn1.TagUTF8String, []byte("a\uFFFEb\uFEFF"))}},
		} {
			sameAuthority(tt.name, named(int64(6000+i), tt.rdns))
		}
	}
	// Keys on P-384 and P-521, off their curves or with coordinates >= p;
	// RSA moduli negative or empty.
	{
		k384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		k521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		spki := func(k *ecdsa.PrivateKey) []byte { b, _ := x509.MarshalPKIXPublicKey(&k.PublicKey); return b }
		s384, s521 := spki(k384), spki(k521)
		flip := func(b []byte) []byte { c := slices.Clone(b); c[len(c)-1] ^= 1; return c }
		plusP := func(b []byte, coord int) []byte {
			c := slices.Clone(b)
			size := 66
			pt := c[len(c)-2*size:]
			v := new(big.Int).SetBytes(pt[coord*size : (coord+1)*size])
			v.Add(v, elliptic.P521().Params().P)
			v.FillBytes(pt[coord*size : (coord+1)*size])
			return c
		}
		decoyAlg := func(serial int64, key crypto.Signer, spkiB []byte, h crypto.Hash) *x509.Certificate {
			base := issueKey(t, nil, key, key.Public(), serial, "Second root", true, nil)
			return resignAny(t, base, key, nil, h, func(tbs *tokNode) { tbs.kids[6] = tokRaw(spkiB) })
		}
		compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
			{"a decoy on P-384 as Go writes it", chain(rc.proper, decoyAlg(6100, k384, s384, crypto.SHA384)), none},
			{"a decoy on P-384 off its curve", chain(rc.proper, decoyAlg(6101, k384, flip(s384), crypto.SHA384)), ts},
			{"a decoy on P-521 as Go writes it", chain(rc.proper, decoyAlg(6102, k521, s521, crypto.SHA512)), none},
			{"a decoy on P-521 off its curve", chain(rc.proper, decoyAlg(6103, k521, flip(s521), crypto.SHA512)), ts},
			{"a decoy on P-521 with x + p", chain(rc.proper, decoyAlg(6104, k521, plusP(s521, 0), crypto.SHA512)), ts},
			{"a decoy on P-521 with y + p", chain(rc.proper, decoyAlg(6105, k521, plusP(s521, 1), crypto.SHA512)), ts},
			{"a decoy whose RSA modulus is negative", chain(rc.proper, decoy(6106, rsaKey, rsaSPKI(rsaKey.N.Bytes(), []byte{1, 0, 1}))), ts},
			{"a decoy whose RSA modulus is empty", chain(rc.proper, decoy(6107, rsaKey, rsaSPKI(nil, []byte{1, 0, 1}))), ts},
			{"a decoy whose RSA exponent is negative", chain(rc.proper, decoy(6108, rsaKey, rsaSPKI(nb, []byte{0xff, 0, 1}))), ts},
		})
	}
	// Chains after checkChain:false.
	{
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		i := issueUnder(t, rc.root, 6200, "intermediate", true, nil)
		under := issueUnder(t, i, 6201, "under the intermediate", false, nil)
		badI := resignAny(t, i.cert, other, nil, crypto.SHA256, nil)
		base := issueUnder(t, rc.root, 6202, "leaf", false, nil)
		badLeaf := tokLeaf{resignAny(t, base.cert, other, nil, crypto.SHA256, nil), base.key}
		expiredI := issueKey(t, rc.root.cert, rc.root.key, i.key.Public(), 6203, "intermediate", true, func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.AddDate(-2, 0, 0), now.AddDate(-1, 0, 0) })
		expiredLeaf := tokLeaf{issueKey(t, rc.root.cert, rc.root.key, base.key.Public(), 6204, "expired leaf", false, func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.AddDate(-2, 0, 0), now.AddDate(-1, 0, 0) }), base.key}
		wrongKey := func() []byte {
			k := tokSignTST(t, tokLeaf{base.cert, other}, content, nil, false)
			return g.stamped(k.bytes())
		}()
		signerLast := g.carrying(t, under, content, i.cert, under.cert)
		mangledTok := func(l tokLeaf, f func([]byte) []byte) []byte {
			for {
				k := tokSignTST(t, l, content, nil, false)
				if out := f(k.sig[2:]); out != nil {
					k.sig = tokTLV(4, out)
					return g.stamped(k.bytes())
				}
			}
		}
		mangledLeaf := func(serial int64, f func([]byte) []byte) tokLeaf {
			l := issueUnder(t, rc.root, serial, fmt.Sprintf("mangled %d", serial), false, nil)
			return tokLeaf{resignAny(t, l.cert, mangledSigner{rc.root.key, f}, nil, crypto.SHA256, nil), l.key}
		}
		compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
			{"control, under the intermediate", chain(under, i.cert), none},
			{"an intermediate signed by another key", chain(under, badI), ts},
			{"a signer's certificate signed by another key", g.crafted(t, badLeaf, g.tstNow()), ts},
			{"the intermediate expired", chain(under, expiredI), ts},
			{"the signer expired", g.crafted(t, expiredLeaf, g.tstNow()), ts},
			{"a token signed by a key other than its certificate's", wrongKey, ts},
			{"the signer carried after its intermediate", signerLast, none},
			{"the token's ECDSA signature with two bytes after it", mangledTok(rc.proper, sigTrailing), ts},
			{"the token's ECDSA signature with r padded by a zero", mangledTok(rc.proper, sigPadR), ts},
			{"the token's ECDSA signature with r negative", mangledTok(rc.proper, sigNegR), ts},
			{"the token's ECDSA signature with a long-form length", mangledTok(rc.proper, sigLongLen), ts},
			{"the signer's certificate signature with two bytes after it", g.crafted(t, mangledLeaf(6210, sigTrailing), g.tstNow()), ts},
			{"the signer's certificate signature with r padded", g.crafted(t, mangledLeaf(6211, sigPadR), g.tstNow()), ts},
			{"the signer's certificate signature with r negative", g.crafted(t, mangledLeaf(6212, sigNegR), g.tstNow()), ts},
			{"the signer's certificate signature with a long-form length", g.crafted(t, mangledLeaf(6213, sigLongLen), g.tstNow()), ts},
			{"the token's ECDSA signature with s negative", mangledTok(rc.proper, sigNegS), ts},
			{"the token's ECDSA signature of indefinite length", mangledTok(rc.proper, sigIndefinite), ts},
			{"an intermediate's signature by the root with two bytes after it", chain(under, resignAny(t, i.cert, mangledSigner{rc.root.key, sigTrailing}, nil, crypto.SHA256, nil)), ts},
			{"an intermediate's signature by the root with r negative", chain(under, resignAny(t, i.cert, mangledSigner{rc.root.key, sigNegR}, nil, crypto.SHA256, nil)), ts},
			{"a signer's certificate signed by its intermediate with a long-form length", chain(tokLeaf{resignAny(t, under.cert, mangledSigner{i.key, sigLongLen}, nil, crypto.SHA256, nil), under.key}, i.cert), ts},
		})
	}
	// RSA signers with moduli around 16384 bits.
	{
		rsaAlg := tokTLV(0x30, tokOID(1, 2, 840, 113549, 1, 1, 11), []byte{5, 0})
		big1 := bigRSA(16384)
		big2 := bigRSA(16392)
		l1 := keyLeaf{issueKey(t, rc.root.cert, rc.root.key, big1.Public(), 6300, "RSA-16384 TSA", false, nil), big1}
		l2 := keyLeaf{issueKey(t, rc.root.cert, rc.root.key, big2.Public(), 6301, "RSA-16392 TSA", false, nil), big2}
		compare(t, b, ctx, env, g.kl, g.doc, g.trust, g.jsRoots(), g.jsIntermediates(), []opCase{
			{"an RSA-16384 signer", g.stamped(tokSignKey(t, l1, content, crypto.SHA256, tokOIDsha256, rsaAlg).bytes()), none},
			{"an RSA-16392 signer (both refuse what browsers do not verify with)", g.stamped(tokSignKey(t, l2, content, crypto.SHA256, tokOIDsha256, rsaAlg).bytes()), ts},
		})
	}
}
