package devstack_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"slices"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/testenv"
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
	env, _, stop := testenv.LocalStack(t, t.TempDir())
	defer stop()
	ctx := context.Background()
	g := newTokenRig(t, env)
	rc := g.rc
	none, ts := []string{}, []string{"timestamp"}
	now := time.Now().UTC()
	b := portalPage(t, env)
	content := g.tstNow().bytes()
	// chain is the receipt stamped by l, carrying the certificates above.
	chain := func(l tokLeaf, above ...*x509.Certificate) []byte {
		k := tokSignTST(t, l, content, nil, false)
		raws := [][]byte{l.cert.Raw}
		for _, c := range above {
			raws = append(raws, c.Raw)
		}
		k.certs = tokTLV(0xa0, raws...)
		return g.stamped(k.bytes())
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
}
