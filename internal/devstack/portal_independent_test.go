package devstack_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/digitorus/timestamp"
	"github.com/evidencevault/vault/internal/devtsa"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/tsa"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/evidencevault/vault/internal/witnessing"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"golang.org/x/mod/sumdb/note"
)

// TestPortalStampsAndWitnessesMatchGo: under a policy that trusts the
// stack's timestamp authority, requires a timestamp and wants its
// witness's cosignature, the portal's verifier (timestamps.js,
// witnesses.js in headless Chromium) and the vault's fail the same checks
// for a real receipt, intact and with its timestamp or its checkpoint's
// cosignature tampered with every way an operator could.
func TestPortalStampsAndWitnessesMatchGo(t *testing.T) {
	dir := t.TempDir()
	env, _, stop := testenv.LocalStack(t, dir)
	defer stop()
	ctx := context.Background()
	_, _, doc, dl, kl, trust := sealedReceipt(t, env)
	rootPEM, err := os.ReadFile(env["VAULT_TSA_ROOTS_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	roots, err := tsa.ParseCertificates(rootPEM)
	if err != nil {
		t.Fatal(err)
	}
	witness, err := witnessing.ParseVerifier(env["VAULT_WITNESS_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	// A CA of the test's own, also trusted, whose certificates are no
	// proper time-stamping authority's.
	ca := newTestCA(t)
	trust.Stamps = &tsa.Trust{Roots: append(roots, ca.root), Intermediates: []*x509.Certificate{ca.narrowCA.cert}}
	trust.RequireStamp = true
	trust.Witnesses = &witnessing.Policy{Witnesses: []note.Verifier{witness}, Quorum: 1}

	var intact vault.Bundle
	if err := json.Unmarshal(dl.Receipt, &intact); err != nil {
		t.Fatal(err)
	}
	if len(intact.Timestamps) != 1 {
		t.Fatalf("the receipt carries %d timestamps, want 1", len(intact.Timestamps))
	}
	var env0 dsse.Envelope
	json.Unmarshal(intact.Envelope, &env0)
	sig, _ := base64.StdEncoding.DecodeString(env0.Signatures[0].Sig)
	improper := func(leaf *testLeaf) []byte { return leaf.stamp(t, sig) }

	// Tokens an operator could get: the stack's authority over other
	// bytes, and another authority (its own CA) over the real signature.
	stamp := func(url string, roots []byte, message []byte) []byte {
		t.Helper()
		certs, err := tsa.ParseCertificates(roots)
		if err != nil {
			t.Fatal(err)
		}
		cl, err := tsa.New(tsa.Config{URL: url, Trust: tsa.Trust{Roots: certs}})
		if err != nil {
			t.Fatal(err)
		}
		tsr, _, err := cl.Stamp(ctx, message)
		if err != nil {
			t.Fatal(err)
		}
		return tsr
	}
	other, err := devtsa.New(devtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	otherTSA := httptest.NewServer(other)
	defer otherTSA.Close()
	overOther := stamp(env["VAULT_TSA_URL"], rootPEM, []byte("other bytes"))
	byOther := stamp(otherTSA.URL, other.RootPEM(), sig)

	cp := intact.Log.Checkpoint
	split := strings.LastIndex(cp, "\n\n") + 2
	var logLines, witnessLines []string
	for _, l := range strings.Split(strings.TrimSuffix(cp[split:], "\n"), "\n") {
		if strings.HasPrefix(l, "— "+witness.Name()+" ") {
			witnessLines = append(witnessLines, l)
		} else {
			logLines = append(logLines, l)
		}
	}
	if len(witnessLines) != 1 {
		t.Fatalf("the receipt's checkpoint carries %d cosignatures of %s, want 1:\n%s", len(witnessLines), witness.Name(), cp)
	}
	withLines := func(lines ...string) string { return cp[:split] + strings.Join(lines, "\n") + "\n" }
	altered := func(line string, at int) string {
		f := strings.Fields(line)
		b, _ := base64.StdEncoding.DecodeString(f[2])
		b[at] ^= 1
		return f[0] + " " + f[1] + " " + base64.StdEncoding.EncodeToString(b)
	}
	skey, _, err := noteKey(witness.Name())
	if err != nil {
		t.Fatal(err)
	}
	planted, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	plantedSig, _ := planted.Sign([]byte(cp[:split-1]))
	plantedLine := "— " + witness.Name() + " " + base64.StdEncoding.EncodeToString(append(binaryHash(planted.KeyHash()), plantedSig...))

	with := func(stamps [][]byte, checkpoint string) vault.Bundle {
		p := *intact.Log
		p.Checkpoint = checkpoint
		return vault.Bundle{Envelope: intact.Envelope, Log: &p, Timestamps: stamps}
	}
	flip := func(b []byte, at int) []byte {
		b = slices.Clone(b)
		b[at] ^= 1
		return b
	}
	tsr := intact.Timestamps[0]
	cases := []struct {
		name   string
		bundle vault.Bundle
	}{
		{"intact", intact},
		{"timestamp removed", with(nil, cp)},
		{"timestamp over other bytes", with([][]byte{overOther}, cp)},
		{"timestamp by an authority not trusted", with([][]byte{byOther}, cp)},
		{"timestamp's signature altered", with([][]byte{flip(tsr, len(tsr)-2)}, cp)},
		{"timestamp's time altered", with([][]byte{alterGenTime(t, tsr)}, cp)},
		{"a second timestamp not trusted", with([][]byte{tsr, byOther}, cp)},
		{"a trusted CA's certificate for TLS signs the token", with([][]byte{improper(ca.tls)}, cp)},
		{"the signer's time-stamping purpose is not critical", with([][]byte{improper(ca.notCritical)}, cp)},
		{"a CA certificate signs the token", with([][]byte{improper(ca.caSigner)}, cp)},
		{"an intermediate that allows no time stamping", with([][]byte{improper(ca.underNarrow)}, cp)},
		{"a proper signer of the trusted CA (the control)", with([][]byte{improper(ca.proper)}, cp)},
		{"cosignature removed", with(intact.Timestamps, withLines(logLines...))},
		{"cosignature altered", with(intact.Timestamps, withLines(append(slices.Clone(logLines), altered(witnessLines[0], 20))...))},
		{"cosignature's time altered", with(intact.Timestamps, withLines(append(slices.Clone(logLines), altered(witnessLines[0], 11))...))},
		{"cosignature by another key under the witness's name", with(intact.Timestamps, withLines(append(slices.Clone(logLines), plantedLine)...))},
		{"a bad cosignature before a good one", with(intact.Timestamps, withLines(append(slices.Clone(logLines), altered(witnessLines[0], 30), witnessLines[0])...))},
		{"no checkpoint (a bare envelope)", vault.Bundle{Envelope: intact.Envelope, Timestamps: intact.Timestamps}},
	}
	type jsCase struct {
		Name   string          `json:"name"`
		Bundle json.RawMessage `json:"bundle"`
	}
	var in []jsCase
	want := map[string][]string{}
	for _, tc := range cases {
		var raw []byte
		if tc.bundle.Log == nil {
			raw, _ = json.Marshal(map[string]any{"envelope": tc.bundle.Envelope, "timestamps": tc.bundle.Timestamps})
		} else {
			raw, _ = json.Marshal(tc.bundle)
		}
		in = append(in, jsCase{tc.name, raw})
		ver, _ := vault.VerifyOffline(ctx, raw, trust, doc.File.SHA256, doc.File.Size)
		want[tc.name] = failedNames(ver.Checks)
		if control := strings.Contains(tc.name, "control"); control != (len(want[tc.name]) == 0) && tc.name != "intact" {
			t.Errorf("%s: Go's verifier fails no check: the case tampers with nothing", tc.name)
		}
	}
	t.Logf("Go fails: %v", want)
	if len(want["intact"]) != 0 {
		t.Fatalf("the intact receipt fails %v in Go", want["intact"])
	}

	b := testenv.Browser(t)
	if err := chromedp.Do(b, chromedp.Navigate(env["VAULT_URL"]+"/portal/")); err != nil {
		t.Fatal(err)
	}
	klJSON, _ := json.Marshal(kl)
	inJSON, _ := json.Marshal(in)
	policy, _ := json.Marshal(map[string]any{
		"timestamps": map[string]any{"roots": []string{string(rootPEM), pemOf(ca.root)}, "intermediates": []string{pemOf(ca.narrowCA.cert)}},
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
			const r = await v.verifyReceipt(c.bundle, trust, `+jsString(doc.File.SHA256)+`, `+jsInt(doc.File.Size)+`);
			out[c.name] = r.checks.filter((x) => !x.passed).map((x) => x.name);
			out[c.name + " details"] = r.checks.filter((x) => !x.passed || c.name === "intact").map((x) => x.name + ": " + x.detail);
		}
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Logf("the portal on %s: %q", tc.name, got[tc.name+" details"])
	}
	for _, name := range []string{"timestamp", "witnessed"} {
		if !slices.ContainsFunc(got["intact details"], func(s string) bool { return strings.HasPrefix(s, name+": ") }) {
			t.Errorf("the portal made no %s check on the intact receipt", name)
		}
	}
	for _, tc := range cases {
		if g := got[tc.name]; !slices.Equal(nonNil(g), nonNil(want[tc.name])) {
			t.Errorf("%s: the portal fails %v, Go fails %v", tc.name, g, want[tc.name])
		}
	}
}

// testCA is a trusted root and the certificates it issued, each a way a
// CA's certificate may be no proper time-stamping authority's.
type testCA struct {
	root                                            *x509.Certificate
	key                                             *ecdsa.PrivateKey
	narrowCA                                        *testLeaf
	tls, notCritical, caSigner, underNarrow, proper *testLeaf
}

type testLeaf struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	now := time.Now().Add(-time.Hour)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test root"}, NotBefore: now, NotAfter: now.AddDate(1, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(der)
	ca := &testCA{root: root, key: key}
	serial := int64(1)
	issue := func(name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool, eku []asn1.ObjectIdentifier, critical bool) *testLeaf {
		serial++
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		value, _ := asn1.Marshal(eku)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, NotBefore: now, NotAfter: now.AddDate(1, 0, 0),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: critical, Value: value}}}
		if isCA {
			tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, k.Public(), parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return &testLeaf{cert: c, key: k}
	}
	stamping := []asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}}
	ca.tls = issue("TLS server", root, key, false, []asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 1}}, true)
	ca.notCritical = issue("Not critical", root, key, false, stamping, false)
	ca.caSigner = issue("A CA", root, key, true, stamping, true)
	ca.proper = issue("Proper TSA", root, key, false, stamping, true)
	ca.narrowCA = issue("TLS-only intermediate", root, key, true, []asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 1}}, false)
	ca.underNarrow = issue("Under the TLS-only intermediate", ca.narrowCA.cert, ca.narrowCA.key, false, stamping, true)
	return ca
}

// stamp makes a token over message signed with the leaf's key.
func (l *testLeaf) stamp(t *testing.T, message []byte) []byte {
	t.Helper()
	h := sha256.Sum256(message)
	ts := timestamp.Timestamp{HashAlgorithm: crypto.SHA256, HashedMessage: h[:], Time: time.Now().UTC(), Accuracy: time.Second,
		Policy: devtsa.Policy, AddTSACertificate: true}
	resp, err := ts.CreateResponseWithOpts(l.cert, l.key, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func pemOf(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

// noteKey makes a standard Ed25519 note key pair named name: a key an
// operator holds, not the witness's.
func noteKey(name string) (skey, vkey string, err error) {
	return note.GenerateKey(rand.Reader, name)
}

// alterGenTime moves a token's genTime (the TSTInfo's GeneralizedTime)
// a year on, within its certificate's validity, leaving its signature as
// it was.
func alterGenTime(t *testing.T, tsr []byte) []byte {
	t.Helper()
	out := slices.Clone(tsr)
	for i := 0; i+6 < len(out); i++ {
		if out[i] == 0x18 && out[i+1] >= 13 && out[i+1] <= 24 && out[i+2] == '2' && out[i+3] == '0' {
			if out[i+5] == '9' {
				out[i+5]--
			} else {
				out[i+5]++
			}
			return out
		}
	}
	t.Fatal("no GeneralizedTime in the token")
	return nil
}

func binaryHash(h uint32) []byte {
	return []byte{byte(h >> 24), byte(h >> 16), byte(h >> 8), byte(h)}
}

func jsInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestPortalKeepsItsPolicy: the portal keeps the vault's verification
// policy on first use; when the vault later names other witnesses (an
// operator who would have a second history cosigned), the page says so
// and goes on requiring the ones it kept.
func TestPortalKeepsItsPolicy(t *testing.T) {
	env, _, stop := testenv.LocalStack(t, t.TempDir())
	defer stop()
	_, _, _, dl, _, _ := sealedReceipt(t, env)
	_, otherWitness, err := noteKey("witness.operator.example")
	if err != nil {
		t.Fatal(err)
	}
	b := testenv.Browser(t)
	if err := chromedp.Do(b, chromedp.Navigate(env["VAULT_URL"]+"/portal/")); err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		Source  string   `json:"source"`
		Changed bool     `json:"changed"`
		Failed  []string `json:"failed"`
	}
	got, err := chromedp.Run(b, chromedp.Evaluate[map[string]outcome](`(async () => {
		const v = await import("/portal/verify.js");
		const p = await import("/portal/policy.js");
		const token = `+jsString(env["VAULT_UPLOADER_TOKEN"])+`;
		const get = (path) => fetch(path, { headers: { Authorization: "Bearer " + token } }).then((r) => r.json());
		const receipt = `+string(dl.Receipt)+`;
		const run = async () => {
			const view = await v.openLog(get);
			const ver = await v.verifyReceipt(receipt, view.trust);
			return { source: view.policy.kept.source, changed: view.policy.changed, failed: ver.checks.filter((c) => !c.passed).map((c) => c.name) };
		};
		localStorage.clear();
		const first = await run();
		const again = await run();
		// What the browser kept names another witness than the vault now does.
		p.keepPolicy({ ...p.keptPolicy(), witnesses: { keys: [`+jsString(otherWitness)+`], quorum: 1 }, source: "an earlier visit" });
		const changed = await run();
		return { first, again, changed };
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]outcome{
		"first":   {Source: "the vault, on first use", Changed: false, Failed: nil},
		"again":   {Source: "the vault, on first use", Changed: false, Failed: nil},
		"changed": {Source: "an earlier visit", Changed: true, Failed: []string{"witnessed"}},
	}
	for k, w := range want {
		g := got[k]
		if g.Source != w.Source || g.Changed != w.Changed || !slices.Equal(nonNil(g.Failed), nonNil(w.Failed)) {
			t.Errorf("%s: got %+v, want %+v", k, g, w)
		}
	}
}
