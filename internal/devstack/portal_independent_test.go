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
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/mldsa"
	"github.com/chromedp/chromedp"
	"github.com/digitorus/timestamp"
	"github.com/evidencevault/vault/internal/devtsa"
	"github.com/evidencevault/vault/internal/receipt"
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
	trust.Stamps = &tsa.Trust{Roots: append(roots, ca.roots()...), Intermediates: []*x509.Certificate{ca.narrowCA.cert}}
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

	with := func(stamps [][]byte, checkpoint string) []byte {
		p := *intact.Log
		p.Checkpoint = checkpoint
		raw, _ := json.Marshal(vault.Bundle{Envelope: intact.Envelope, Log: &p, Timestamps: stamps})
		return raw
	}
	flip := func(b []byte, at int) []byte {
		b = slices.Clone(b)
		b[at] ^= 1
		return b
	}
	// edited is the intact bundle as JSON, with one member set to raw JSON.
	edited := func(member, raw string) []byte {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(with(intact.Timestamps, cp), &m); err != nil {
			t.Fatal(err)
		}
		m[member] = json.RawMessage(raw)
		out, _ := json.Marshal(m)
		return out
	}
	editedLog := func(member, raw string) string {
		b, _ := json.Marshal(intact.Log)
		var m map[string]json.RawMessage
		json.Unmarshal(b, &m)
		m[member] = json.RawMessage(raw)
		out, _ := json.Marshal(m)
		return string(out)
	}
	tsr := intact.Timestamps[0]
	tok := openTSR(t, tsr)
	if !slices.Equal(tok.bytes(), tsr) {
		t.Fatal("openTSR does not rebuild the stack's token as it was: the alterations below would test nothing")
	}
	granted := tok
	granted.status = constructed(0x30, der{0x02, []byte{1}}.bytes())
	resp, _ := readDER(t, tsr)
	respKids := resp.children(t)
	tokenCI, _ := readDER(t, respKids[1].bytes())
	badCert := tok.withCertificate(t, der{0x30, der{0x02, []byte{1}}.bytes()})
	withCRL := tok.withCRL(t, ca.crl(t))

	// A receipt the vault's key signs again with sealedAt moved, stamped
	// by the test CA's proper authority at a time of the test's choosing
	// (its accuracy is one second): at the latest sealedAt the stamp
	// allows, and a microsecond later. Its log proof no longer holds.
	keyPEM, err := os.ReadFile(filepath.Join(dir, ".local", "signing-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	vaultKey, err := receipt.NewLocalSigner(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.StdEncoding.DecodeString(env0.Payload)
	resign := func(payload []byte, at time.Time) []byte {
		id, _ := vaultKey.KeyID()
		sig, err := vaultKey.Sign(ctx, dsse.PAE(receipt.PayloadType, payload))
		if err != nil {
			t.Fatal(err)
		}
		e, _ := json.Marshal(dsse.Envelope{PayloadType: receipt.PayloadType, Payload: base64.StdEncoding.EncodeToString(payload),
			Signatures: []dsse.Signature{{KeyID: id, Sig: base64.StdEncoding.EncodeToString(sig)}}})
		raw, _ := json.Marshal(vault.Bundle{Envelope: e, Log: intact.Log, Timestamps: [][]byte{ca.proper.stampAt(t, sig, at)}})
		return raw
	}
	stampedAt := time.Now().UTC().Truncate(time.Second).Add(-10 * time.Minute)
	latestSeal := stampedAt.Add(time.Second + time.Minute)
	sealedAt := func(at time.Time) []byte {
		re := regexp.MustCompile(`"sealedAt":"[^"]+"`)
		if !re.Match(payload) {
			t.Fatal("the receipt's statement has no sealedAt")
		}
		return resign(re.ReplaceAll(payload, []byte(`"sealedAt":"`+at.Format(time.RFC3339Nano)+`"`)), stampedAt)
	}
	predicate := func(raw string) []byte {
		var st map[string]json.RawMessage
		json.Unmarshal(payload, &st)
		st["predicate"] = json.RawMessage(raw)
		p, _ := json.Marshal(st)
		return resign(p, stampedAt)
	}
	// A token of the test CA's proper authority over the real signature
	// whose base64 has padding, so that it can be written non-canonically.
	var padded []byte
	for range 32 {
		if padded = improper(ca.proper); len(padded)%3 != 0 {
			break
		}
	}
	if len(padded)%3 == 0 {
		t.Fatal("no token of a length base64 pads")
	}
	otherLine := func(name string) string {
		return "— " + name + " " + base64.StdEncoding.EncodeToString([]byte("12345678"))
	}

	none := []string{}
	tsFails := []string{"timestamp"}
	cases := []struct {
		name    string
		bundle  []byte
		goFails []string // what Go's verifier fails, pinned
	}{
		{"intact", with(intact.Timestamps, cp), none},
		{"timestamp removed", with(nil, cp), tsFails},
		{"timestamp over other bytes", with([][]byte{overOther}, cp), tsFails},
		{"timestamp by an authority not trusted", with([][]byte{byOther}, cp), tsFails},
		{"timestamp's signature altered", with([][]byte{flip(tsr, len(tsr)-2)}, cp), tsFails},
		{"timestamp's time altered", with([][]byte{alterGenTime(t, tsr)}, cp), tsFails},
		{"a second timestamp not trusted", with([][]byte{tsr, byOther}, cp), tsFails},
		{"a trusted CA's certificate for TLS signs the token", with([][]byte{improper(ca.tls)}, cp), tsFails},
		{"the signer's time-stamping purpose is not critical", with([][]byte{improper(ca.notCritical)}, cp), tsFails},
		{"a CA certificate signs the token", with([][]byte{improper(ca.caSigner)}, cp), tsFails},
		{"an intermediate that allows no time stamping", with([][]byte{improper(ca.underNarrow)}, cp), tsFails},
		{"a proper signer of the trusted CA", with([][]byte{improper(ca.proper)}, cp), none},
		{"a signer certified with SHA-1", with([][]byte{improper(ca.sha1Signed)}, cp), tsFails},
		{"a trusted root whose key purposes exclude time stamping", with([][]byte{improper(ca.underNarrowRoot)}, cp), tsFails},
		{"the authority's own certificate pinned as the anchor", with([][]byte{improper(ca.pinnedLeaf)}, cp), none},
		{"the response granted with modifications", with([][]byte{granted.bytes()}, cp), tsFails},
		{"the response's length not minimal (BER, not DER)", with([][]byte{resp.longLength()}, cp), tsFails},
		{"the response in BER's indefinite length", with([][]byte{resp.indefinite()}, cp), tsFails},
		{"the status's length not minimal", with([][]byte{constructed(0x30, respKids[0].longLength(), respKids[1].bytes()).bytes()}, cp), tsFails},
		{"the token's length not minimal", with([][]byte{constructed(0x30, respKids[0].bytes(), tokenCI.longLength()).bytes()}, cp), tsFails},
		{"an unreadable certificate added to the token", with([][]byte{badCert.bytes()}, cp), tsFails},
		// Neither verifier reads revocation lists (pkijs and pkcs7 read
		// them differently): the profile takes a token without them.
		{"a revocation list added to the token", with([][]byte{withCRL.bytes()}, cp), tsFails},
		{"sealedAt the latest the timestamp allows", sealedAt(latestSeal), []string{"log_inclusion"}},
		{"sealedAt a microsecond after the timestamp allows", sealedAt(latestSeal.Add(time.Microsecond)), []string{"timestamp", "log_inclusion"}},
		{"a timestamp in non-canonical base64", edited("timestamps", `["`+nonCanonical(padded)+`"]`), none},
		{"a timestamp that is null", edited("timestamps", `[null]`), tsFails},
		{"a timestamp that is a number", edited("timestamps", `[1]`), []string{"format"}},
		{"timestamps that are an object", edited("timestamps", `{}`), []string{"format"}},
		{"a log proof that is false", edited("log", `false`), []string{"format"}},
		{"a log proof that is a list", edited("log", `[]`), []string{"format"}},
		{"a log index written as a string", edited("log", editedLog("index", `"1"`)), []string{"format"}},
		{"a log index that is not whole", edited("log", editedLog("index", `1.5`)), []string{"format"}},
		{"a checkpoint that is a number", edited("log", editedLog("checkpoint", `1`)), []string{"format"}},
		{"an inclusion proof that is a string", edited("log", editedLog("inclusionProof", `"AAAA"`)), []string{"format"}},
		{"a log origin that is a list", edited("log", editedLog("origin", `[]`)), []string{"format"}},
		{"the payload in non-canonical base64", edited("envelope", func() string {
			e := env0
			p := payload
			if len(p)%3 == 0 {
				p = append(slices.Clone(p), ' ') // whitespace after the JSON: only the encoding is at issue
			}
			e.Payload = nonCanonical(p)
			b, _ := json.Marshal(e)
			return string(b)
		}()), []string{"format"}},
		{"a predicate that is null", predicate(`null`), []string{"format"}},
		{"a predicate that is a list", predicate(`[]`), []string{"format"}},
		{"cosignature removed", with(intact.Timestamps, withLines(logLines...)), []string{"witnessed"}},
		{"cosignature altered", with(intact.Timestamps, withLines(append(slices.Clone(logLines), altered(witnessLines[0], 20))...)), []string{"witnessed"}},
		{"cosignature's time altered", with(intact.Timestamps, withLines(append(slices.Clone(logLines), altered(witnessLines[0], 11))...)), []string{"witnessed"}},
		{"cosignature by another key under the witness's name", with(intact.Timestamps, withLines(append(slices.Clone(logLines), plantedLine)...)), []string{"witnessed"}},
		{"a bad cosignature before a good one", with(intact.Timestamps, withLines(append(slices.Clone(logLines), altered(witnessLines[0], 30), witnessLines[0])...)), []string{"witnessed"}},
		{"the cosignature in non-canonical base64", with(intact.Timestamps, withLines(append(slices.Clone(logLines), nonCanonicalLine(t, witnessLines[0]))...)), none},
		{"a signature line whose name holds U+0085 (a space to Go)", with(intact.Timestamps, withLines(append(slices.Clone(logLines), witnessLines[0], otherLine("next\u0085line"))...)), []string{"log_inclusion", "witnessed"}},
		{"a signature line whose name holds U+FEFF (no space to Go)", with(intact.Timestamps, withLines(append(slices.Clone(logLines), witnessLines[0], otherLine("zero\ufeffwidth"))...)), none},
		{"no checkpoint (a bare envelope)", func() []byte {
			raw, _ := json.Marshal(map[string]any{"envelope": intact.Envelope, "timestamps": intact.Timestamps})
			return raw
		}(), []string{"witnessed"}},
	}
	type jsCase struct {
		Name   string          `json:"name"`
		Bundle json.RawMessage `json:"bundle"`
	}
	var in []jsCase
	want := map[string][]string{}
	for _, tc := range cases {
		in = append(in, jsCase{tc.name, tc.bundle})
		ver, _ := vault.VerifyOffline(ctx, tc.bundle, trust, doc.File.SHA256, doc.File.Size)
		want[tc.name] = failedNames(ver.Checks)
		if g := nonNil(want[tc.name]); !slices.Equal(g, tc.goFails) {
			t.Errorf("%s: Go's verifier fails %v, want %v: %v", tc.name, g, tc.goFails, ver.Checks)
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
		"timestamps": map[string]any{"roots": append([]string{string(rootPEM)}, pemsOf(ca.roots())...), "intermediates": []string{pemOf(ca.narrowCA.cert)}},
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
				const r = await v.verifyReceipt(c.bundle, trust, `+jsString(doc.File.SHA256)+`, `+jsInt(doc.File.Size)+`);
				out[c.name] = r.checks.filter((x) => !x.passed).map((x) => x.name);
				out[c.name + " details"] = r.checks.filter((x) => !x.passed || c.name === "intact").map((x) => x.name + ": " + x.detail);
			} catch (e) {
				// A verifier that throws has made no check: the page would stop.
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
	narrowCA, narrowRoot                            *testLeaf
	tls, notCritical, caSigner, underNarrow, proper *testLeaf
	sha1Signed, underNarrowRoot, pinnedLeaf         *testLeaf
}

type testLeaf struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	now := time.Now().Add(-time.Hour)
	serial := int64(0)
	newRoot := func(name string, eku []x509.ExtKeyUsage) *testLeaf {
		serial++
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, NotBefore: now, NotAfter: now.AddDate(1, 0, 0),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, ExtKeyUsage: eku}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		root, _ := x509.ParseCertificate(der)
		return &testLeaf{cert: root, key: key}
	}
	r := newRoot("Test root", nil)
	ca := &testCA{root: r.cert, key: r.key}
	root, key := r.cert, r.key
	issue := func(name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool, eku []asn1.ObjectIdentifier, critical bool, tweak ...func(*x509.Certificate)) *testLeaf {
		serial++
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		value, _ := asn1.Marshal(eku)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, NotBefore: now, NotAfter: now.AddDate(1, 0, 0),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: critical, Value: value}}}
		if isCA {
			tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature
		}
		for _, f := range tweak {
			f(tmpl)
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, k.Public(), parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return &testLeaf{cert: c, key: k}
	}
	stamping := []asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}}
	ca.tls = issue("TLS server", root, key, false, []asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 1}}, true)
	ca.notCritical = issue("Not critical", root, key, false, stamping, false)
	ca.caSigner = issue("A CA", root, key, true, stamping, true)
	ca.proper = issue("Proper TSA", root, key, false, stamping, true)
	ca.narrowCA = issue("TLS-only intermediate", root, key, true, []asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 1}}, false)
	ca.underNarrow = issue("Under the TLS-only intermediate", ca.narrowCA.cert, ca.narrowCA.key, false, stamping, true)
	ca.sha1Signed = issue("Signed with SHA-1", root, key, false, stamping, true, func(c *x509.Certificate) { c.SignatureAlgorithm = x509.ECDSAWithSHA1 })
	// A second trusted root whose own key purposes exclude time stamping.
	ca.narrowRoot = newRoot("TLS-only root", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth})
	ca.underNarrowRoot = issue("Under the TLS-only root", ca.narrowRoot.cert, ca.narrowRoot.key, false, stamping, true)
	// An authority's own certificate, pinned as the anchor itself; its
	// issuer is trusted by no one.
	untrusted := newRoot("Root no one trusts", nil)
	ca.pinnedLeaf = issue("Pinned TSA", untrusted.cert, untrusted.key, false, stamping, true)
	return ca
}

// roots are the test CA's trust anchors.
func (ca *testCA) roots() []*x509.Certificate {
	return []*x509.Certificate{ca.root, ca.narrowRoot.cert, ca.pinnedLeaf.cert}
}

// stamp makes a token over message signed with the leaf's key, now.
func (l *testLeaf) stamp(t *testing.T, message []byte) []byte {
	t.Helper()
	return l.stampAt(t, message, time.Now().UTC())
}

// stampAt makes a token over message whose genTime is at, within a
// second.
func (l *testLeaf) stampAt(t *testing.T, message []byte, at time.Time) []byte {
	t.Helper()
	h := sha256.Sum256(message)
	ts := timestamp.Timestamp{HashAlgorithm: crypto.SHA256, HashedMessage: h[:], Time: at, Accuracy: time.Second,
		Policy: devtsa.Policy, AddTSACertificate: true}
	resp, err := ts.CreateResponseWithOpts(l.cert, l.key, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// crl is a revocation list the test CA signs, revoking nothing.
func (ca *testCA) crl(t *testing.T) []byte {
	t.Helper()
	now := time.Now()
	b, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour)}, ca.root, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tokenParts is a TimeStampResp taken apart: its status, and the
// elements of its token's SignedData.
type tokenParts struct {
	status, contentType der
	signedData          []der
}

func openTSR(t *testing.T, tsr []byte) tokenParts {
	t.Helper()
	resp, _ := readDER(t, tsr)
	kids := resp.children(t)
	ci := kids[1].children(t)
	return tokenParts{status: kids[0], contentType: ci[0], signedData: ci[1].children(t)[0].children(t)}
}

func (p tokenParts) bytes() []byte {
	sd := constructed(0x30, encoded(p.signedData)...)
	ci := constructed(0x30, p.contentType.bytes(), constructed(0xa0, sd.bytes()).bytes())
	return constructed(0x30, p.status.bytes(), ci.bytes()).bytes()
}

// withCertificate adds c to the token's certificates, which its
// signature does not cover.
func (p tokenParts) withCertificate(t *testing.T, c der) tokenParts {
	t.Helper()
	p.signedData = slices.Clone(p.signedData)
	for i, e := range p.signedData {
		if e.tag == 0xa0 {
			p.signedData[i] = der{0xa0, slices.Concat(e.body, c.bytes())}
			return p
		}
	}
	t.Fatal("the token carries no certificates")
	return p
}

// withCRL adds a revocation list (crls [1], after the certificates).
func (p tokenParts) withCRL(t *testing.T, crl []byte) tokenParts {
	t.Helper()
	i := slices.IndexFunc(p.signedData, func(e der) bool { return e.tag == 0xa0 })
	if i < 0 {
		t.Fatal("the token carries no certificates")
	}
	p.signedData = slices.Insert(slices.Clone(p.signedData), i+1, der{0xa1, crl})
	return p
}

// nonCanonical encodes b in standard base64 with the unused bits before
// its padding set: the same bytes to a lenient decoder (Go's
// base64.StdEncoding), refused by a strict one.
func nonCanonical(b []byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	s := []byte(base64.StdEncoding.EncodeToString(b))
	at := len(s) - 1 - strings.Count(string(s), "=")
	s[at] = alphabet[strings.IndexByte(alphabet, s[at])+1]
	return string(s)
}

// nonCanonicalLine writes a signature line's base64 non-canonically.
func nonCanonicalLine(t *testing.T, line string) string {
	t.Helper()
	f := strings.Fields(line)
	b, _ := base64.StdEncoding.DecodeString(f[2])
	if len(b)%3 == 0 {
		t.Fatalf("the signature of %s has no padding to alter", f[1])
	}
	return f[0] + " " + f[1] + " " + nonCanonical(b)
}

func pemsOf(cs []*x509.Certificate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, pemOf(c))
	}
	return out
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
// operator who would have a second history cosigned), the page says so,
// and what differs, and goes on requiring the ones it kept. A kept policy
// that cannot be read, or a vault's this browser cannot use, fails the
// checks it concerns, saying why, and stops nothing; what the user keeps
// is checked first and kept whole.
func TestPortalKeepsItsPolicy(t *testing.T) {
	env, _, stop := testenv.LocalStack(t, t.TempDir())
	defer stop()
	_, _, _, dl, _, _ := sealedReceipt(t, env)
	_, otherWitness, err := noteKey("witness.operator.example")
	if err != nil {
		t.Fatal(err)
	}
	ca := newTestCA(t)
	b := testenv.Browser(t)
	if err := chromedp.Do(b, chromedp.Navigate(env["VAULT_URL"]+"/portal/")); err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		Source  string   `json:"source"`
		Changed bool     `json:"changed"`
		Changes []string `json:"changes"`
		Failed  []string `json:"failed"`
		Detail  string   `json:"detail"`
		Kept    bool     `json:"kept"`
		Error   string   `json:"error"`
	}
	got, err := chromedp.Run(b, chromedp.Evaluate[map[string]outcome](`(async () => {
		const v = await import("/portal/verify.js");
		const p = await import("/portal/policy.js");
		const token = `+jsString(env["VAULT_UPLOADER_TOKEN"])+`;
		const get = (path) => fetch(path, { headers: { Authorization: "Bearer " + token } }).then((r) => r.json());
		const receipt = `+string(dl.Receipt)+`;
		const KEY = "evidencevault.policy";
		const run = async () => {
			try {
				const view = await v.openLog(get);
				const ver = await v.verifyReceipt(receipt, view.trust);
				const failed = ver.checks.filter((c) => !c.passed);
				return { source: view.policy.kept?.source ?? "", changed: view.policy.changed, changes: view.policy.changes, failed: failed.map((c) => c.name),
					detail: failed.map((c) => c.detail).join("; "), kept: localStorage.getItem(KEY) !== null };
			} catch (e) {
				return { error: "openLog threw: " + e.message };
			}
		};
		const keep = async (policy) => {
			try { await p.keepPolicy(policy); return { kept: true }; } catch (e) { return { kept: false, error: e.message }; }
		};
		const out = {};
		localStorage.clear();
		out.first = await run();
		out.again = await run();
		const kept = p.keptPolicy();
		// The same policy written otherwise: its certificates with CRLF
		// line ends, its members in another order.
		localStorage.setItem(KEY, JSON.stringify({ source: "an earlier visit", require: kept.require,
			witnesses: { quorum: kept.witnesses.quorum, keys: kept.witnesses.keys },
			timestamps: { qualified: false, roots: kept.timestamps.roots.map((r) => r.replace(/\n/g, "\r\n")), policy: kept.timestamps.policy } }));
		out.reordered = await run();
		// What the browser kept names another witness than the vault now does.
		out.keptOther = await keep({ ...kept, witnesses: { keys: [`+jsString(otherWitness)+`], quorum: 1 }, source: "an earlier visit" });
		out.changed = await run();
		// Kept policies that cannot be read.
		localStorage.setItem(KEY, '{"timestamps":{"roots":"not a list"}}');
		out.brokenShape = await run();
		localStorage.setItem(KEY, "{not json");
		out.brokenJSON = await run();
		localStorage.setItem(KEY, '{"timestamps":{}}');
		out.emptyTimestamps = await run();
		// A vault that names a witness this browser cannot check: nothing
		// is kept, and the witness check fails saying why.
		localStorage.clear();
		const vp = await p.verificationPolicy(async () => ({ witnesses: { keys: [`+jsString(mldsaVKey(t))+`], quorum: 1 } }));
		out.unusable = { kept: localStorage.getItem(KEY) !== null, error: vp.compiled.witnesses?.error ?? "" };
		// What the user keeps is checked first, and kept whole.
		out.quorumTooHigh = await keep({ witnesses: { keys: [`+jsString(otherWitness)+`], quorum: 2 }, source: "you" });
		out.badOID = await keep({ timestamps: { roots: [`+jsString(pemOf(ca.root))+`], policy: "not.an.oid" }, source: "you" });
		out.whole = await keep({ timestamps: { roots: [`+jsString(pemOf(ca.root)+pemOf(ca.narrowCA.cert))+`], intermediates: [`+jsString(pemOf(ca.narrowCA.cert))+`], policy: "1.2.3.4", qualified: true }, source: "you" });
		const w = p.keptPolicy();
		out.wholeKept = { kept: true, source: w.timestamps.roots.length + " roots, " + w.timestamps.intermediates.length + " intermediates, policy " + w.timestamps.policy + (w.timestamps.qualified ? ", qualified" : "") };
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	changedWitness := "witness keys: 1 added, 1 dropped"
	cannotRead := "the verification policy this browser kept cannot be read"
	want := map[string]outcome{
		"first":           {Source: "the vault, on first use", Kept: true},
		"again":           {Source: "the vault, on first use", Kept: true},
		"reordered":       {Source: "an earlier visit", Kept: true},
		"keptOther":       {Kept: true},
		"changed":         {Source: "an earlier visit", Changed: true, Changes: []string{changedWitness}, Failed: []string{"witnessed"}, Kept: true},
		"brokenShape":     {Failed: []string{"timestamp", "witnessed"}, Detail: cannotRead, Kept: true},
		"brokenJSON":      {Failed: []string{"timestamp", "witnessed"}, Detail: cannotRead, Kept: true},
		"emptyTimestamps": {Source: "this browser", Changed: true, Kept: true},
		"unusable":        {Error: "not an Ed25519 key"},
		"quorumTooHigh":   {Error: "wants 2 cosignatures of 1 witnesses"},
		"badOID":          {Error: "is not an object identifier"},
		"whole":           {Kept: true},
		"wholeKept":       {Source: "2 roots, 1 intermediates, policy 1.2.3.4, qualified", Kept: true},
	}
	for k, w := range want {
		g := got[k]
		ok := g.Source == w.Source && g.Changed == w.Changed && slices.Equal(nonNil(g.Failed), nonNil(w.Failed)) && g.Kept == w.Kept &&
			strings.Contains(g.Detail, w.Detail) && strings.Contains(g.Error, w.Error) && (w.Error != "") == (g.Error != "") &&
			(w.Changes == nil || slices.Equal(g.Changes, w.Changes))
		if !ok {
			t.Errorf("%s: got %+v, want %+v", k, g, w)
		}
	}
}

// mldsaVKey is the note vkey of an ML-DSA-44 witness, which Go's
// verifiers take and WebCrypto cannot check.
func mldsaVKey(t *testing.T) string {
	t.Helper()
	k, err := mldsa.GenerateKey(mldsa.MLDSA44())
	if err != nil {
		t.Fatal(err)
	}
	pub := append([]byte{0x06}, k.PublicKey().Bytes()...)
	name := "witness.pq.example"
	h := sha256.Sum256(append([]byte(name+"\n"), pub...))
	vkey := name + "+" + hex.EncodeToString(h[:4]) + "+" + base64.StdEncoding.EncodeToString(pub)
	if _, err := witnessing.ParseVerifier(vkey); err != nil {
		t.Fatalf("Go's verifiers should take an ML-DSA-44 witness: %v", err)
	}
	return vkey
}
