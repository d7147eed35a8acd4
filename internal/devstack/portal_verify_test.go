package devstack_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/evidencevault/vault/client"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/evidencevault/vault/internal/testenv"
)

// TestPortalVerifierMatchesGo: the portal's verifier (static/verify.js,
// in headless Chromium) and the vault's (vault.VerifyOffline) are given
// the same receipt, intact and tampered every way an operator or a
// holder of another key could, and must fail the same checks. The
// tampered ones must fail some: a case that fails nothing in Go is no
// case.
func TestPortalVerifierMatchesGo(t *testing.T) {
	dir := t.TempDir()
	env, _, stop := testenv.LocalStack(t, dir)
	defer stop()
	ctx := context.Background()
	_, _, doc, dl, kl, trust := sealedReceipt(t, env)
	vaultKey := vaultKeyOf(t, dir)
	attacker, err := receipt.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}

	intact := bundleOf(t, dl)
	var env0 dsse.Envelope
	json.Unmarshal(intact.Envelope, &env0)
	payload, _ := base64.StdEncoding.DecodeString(env0.Payload)
	sig, _ := base64.StdEncoding.DecodeString(env0.Signatures[0].Sig)
	sign := func(s *receipt.LocalSigner, payload []byte) dsse.Envelope {
		id, _ := s.KeyID()
		der, err := s.Sign(ctx, dsse.PAE(receipt.PayloadType, payload))
		if err != nil {
			t.Fatal(err)
		}
		return dsse.Envelope{PayloadType: receipt.PayloadType, Payload: base64.StdEncoding.EncodeToString(payload),
			Signatures: []dsse.Signature{{KeyID: id, Sig: base64.StdEncoding.EncodeToString(der)}}}
	}
	with := func(change func(e *dsse.Envelope, p *ledger.Proof)) vault.Bundle {
		e := env0
		e.Signatures = slices.Clone(env0.Signatures)
		p := *intact.Log
		p.Inclusion = slices.Clone(intact.Log.Inclusion)
		change(&e, &p)
		raw, _ := json.Marshal(e)
		return vault.Bundle{Envelope: raw, Log: &p}
	}
	cp, err := ledger.ParseCheckpoint([]byte(intact.Log.Checkpoint[:strings.Index(intact.Log.Checkpoint, "\n\n")+1]))
	if err != nil {
		t.Fatal(err)
	}
	sha, size := doc.File.SHA256, doc.File.Size
	type tcase struct {
		name   string
		bundle vault.Bundle
		sha    string
		size   int64
	}
	cases := []tcase{
		{"intact", intact, sha, size},
		{"another file", intact, strings.Repeat("ab", 32), size},
		{"another size", intact, sha, size + 1},
		{"payload altered", with(func(e *dsse.Envelope, _ *ledger.Proof) {
			e.Payload = base64.StdEncoding.EncodeToString(bytes.Replace(payload, []byte(sha), []byte(strings.Repeat("ab", 32)), 1))
		}), strings.Repeat("ab", 32), size},
		{"signature altered", with(func(e *dsse.Envelope, _ *ledger.Proof) {
			s := slices.Clone(sig)
			s[len(s)-1] ^= 1
			e.Signatures[0].Sig = base64.StdEncoding.EncodeToString(s)
		}), sha, size},
		{"signature not minimal DER", with(func(e *dsse.Envelope, _ *ledger.Proof) {
			e.Signatures[0].Sig = base64.StdEncoding.EncodeToString(nonMinimalDER(t, sig))
		}), sha, size},
		{"signed by a planted key", with(func(e *dsse.Envelope, _ *ledger.Proof) { *e = sign(attacker, payload) }), sha, size},
		{"planted key's id on it", with(func(e *dsse.Envelope, _ *ledger.Proof) {
			*e = sign(attacker, payload)
			e.Signatures[0].KeyID = env0.Signatures[0].KeyID
		}), sha, size},
		{"a key named twice in the statement", with(func(e *dsse.Envelope, _ *ledger.Proof) {
			*e = sign(vaultKey, bytes.Replace(payload, []byte(`{`), []byte(`{"predicateType":"https://example.com/other",`), 1))
		}), sha, size},
		{"inclusion proof altered", with(func(_ *dsse.Envelope, p *ledger.Proof) {
			if len(p.Inclusion) == 0 {
				t.Fatal("the receipt's inclusion proof is empty: the log should hold its key event too")
			}
			p.Inclusion[0][0] ^= 1
		}), sha, size},
		{"index moved", with(func(_ *dsse.Envelope, p *ledger.Proof) { p.Index++ }), sha, size},
		{"checkpoint signed by a planted key", with(func(_ *dsse.Envelope, p *ledger.Proof) {
			signed, err := ledger.SignCheckpoint(ctx, attacker, cp)
			if err != nil {
				t.Fatal(err)
			}
			p.Checkpoint = string(signed)
		}), sha, size},
		{"a signature naming no key", with(func(e *dsse.Envelope, _ *ledger.Proof) { e.Signatures[0].KeyID = "" }), sha, size},
		{"a bad signature before a good one", with(func(e *dsse.Envelope, _ *ledger.Proof) {
			bad := slices.Clone(sig)
			bad[len(bad)-1] ^= 1
			e.Signatures = append([]dsse.Signature{{KeyID: env0.Signatures[0].KeyID, Sig: base64.StdEncoding.EncodeToString(bad)}}, e.Signatures...)
		}), sha, size},
		{"a field the predicate does not define", with(func(e *dsse.Envelope, _ *ledger.Proof) {
			*e = sign(vaultKey, bytes.Replace(payload, []byte(`"predicate":{`), []byte(`"predicate":{"approvedBy":"nobody",`), 1))
		}), sha, size},
		{"a version that is not whole", with(func(e *dsse.Envelope, _ *ledger.Proof) {
			*e = sign(vaultKey, bytes.Replace(payload, []byte(`"version":1,`), []byte(`"version":1.5,`), 1))
		}), sha, size},
		{"a version written 1.0", with(func(e *dsse.Envelope, _ *ledger.Proof) {
			*e = sign(vaultKey, bytes.Replace(payload, []byte(`"version":1,`), []byte(`"version":1.0,`), 1))
		}), sha, size},
		{"a time that is a number", with(func(e *dsse.Envelope, _ *ledger.Proof) {
			*e = sign(vaultKey, regexp.MustCompile(`"receivedAt":"[^"]*"`).ReplaceAll(payload, []byte(`"receivedAt":5`)))
		}), sha, size},
		{"uploadId left out (Go's zero value)", with(func(e *dsse.Envelope, _ *ledger.Proof) {
			*e = sign(vaultKey, regexp.MustCompile(`"uploadId":"[^"]*",`).ReplaceAll(payload, nil))
		}), sha, size},
	}

	// Signatures out of range, on the receipt and on its checkpoint; a
	// high s both take.
	taken := map[string]bool{}
	for _, m := range ecdsaRanges(elliptic.P256().Params().N) {
		cases = append(cases, tcase{"the receipt's signature with " + m.name, with(func(e *dsse.Envelope, _ *ledger.Proof) {
			e.Signatures[0].Sig = base64.StdEncoding.EncodeToString(m.f(sig))
		}), sha, size}, tcase{"the checkpoint's signature with " + m.name, with(func(_ *dsse.Envelope, p *ledger.Proof) {
			signed, err := ledger.SignCheckpoint(ctx, mangledNoteSigner{vaultKey, m.f}, cp)
			if err != nil {
				t.Fatal(err)
			}
			p.Checkpoint = string(signed)
		}), sha, size})
		if m.taken {
			taken[cases[len(cases)-2].name], taken[cases[len(cases)-1].name] = true, true
		}
	}

	type jsCase struct {
		Name   string          `json:"name"`
		Bundle json.RawMessage `json:"bundle"`
		SHA    string          `json:"sha"`
		Size   int64           `json:"size"`
	}
	var in []jsCase
	want := map[string][]string{}
	for _, tc := range cases {
		raw, _ := json.Marshal(tc.bundle)
		in = append(in, jsCase{tc.name, raw, tc.sha, tc.size})
		ver, _ := vault.VerifyOffline(ctx, raw, trust, tc.sha, tc.size)
		want[tc.name] = failedNames(ver.Checks)
		switch {
		case taken[tc.name] && len(want[tc.name]) != 0:
			t.Errorf("%s: Go's verifier fails %v, want none", tc.name, want[tc.name])
		case tc.name != "intact" && !taken[tc.name] && len(want[tc.name]) == 0:
			t.Errorf("%s: Go's verifier fails no check: the case tampers with nothing", tc.name)
		}
	}
	t.Logf("Go fails: %v", want)
	if len(want["intact"]) != 0 {
		t.Fatalf("the intact receipt fails %v in Go", want["intact"])
	}

	b := testenv.Browser(t)
	klJSON, _ := json.Marshal(kl)
	inJSON, _ := json.Marshal(in)
	if err := chromedp.Do(b, chromedp.Navigate(env["VAULT_URL"]+"/portal/")); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(b, chromedp.Evaluate[map[string][]string](`(async () => {
		const v = await import("/portal/verify.js");
		const kl = `+string(klJSON)+`;
		const { trust } = await v.trustLog(kl.origin, kl.checkpoint, kl.events, null);
		const out = {};
		for (const c of `+string(inJSON)+`) {
			const r = await v.verifyReceipt(c.bundle, trust, c.sha, c.size);
			out[c.name] = r.checks.filter((x) => !x.passed).map((x) => x.name);
		}
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		if g := got[tc.name]; !slices.Equal(nonNil(g), nonNil(want[tc.name])) {
			t.Errorf("%s: the portal fails %v, Go fails %v", tc.name, g, want[tc.name])
		}
	}
}

// TestPortalLogTrust: the log as the portal trusts it. A key pinned in
// the browser that the log's history does not lead to, a checkpoint kept
// from an earlier visit that the log now contradicts (rolled back or
// forked), and a key event planted in the history are each refused.
func TestPortalLogTrust(t *testing.T) {
	dir := t.TempDir()
	env, _, stop := testenv.LocalStack(t, dir)
	defer stop()
	ctx := context.Background()
	c, d, doc := sealOne(t, env)
	kl, err := c.KeyHistory(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(kl.Events) == 0 {
		t.Fatal("the log records no key event")
	}
	keyPEM, _ := os.ReadFile(filepath.Join(dir, ".local", "signing-key.pem"))
	vaultKey, err := receipt.NewLocalSigner(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	attacker, _ := receipt.GenerateSigner()
	latest, err := ledger.ParseCheckpoint([]byte(kl.Checkpoint[:strings.Index(kl.Checkpoint, "\n\n")+1]))
	if err != nil {
		t.Fatal(err)
	}
	signed := func(cp ledger.Checkpoint) string {
		b, err := ledger.SignCheckpoint(ctx, vaultKey, cp)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	longer, forked := latest, latest
	longer.Size += 5
	forked.Hash[0] ^= 1
	planted := receipt.Key{}
	if planted, err = receipt.NewKey(attacker.Public()); err != nil {
		t.Fatal(err)
	}
	ev, _ := json.Marshal(vault.KeyEvent{Event: vault.KeyGenesis, Log: kl.Origin, Key: vault.PublicKey{KeyID: planted.ID, Algorithm: receipt.Algorithm, PEM: string(planted.PEM())}, At: time.Now().UTC()})
	genesis, err := receipt.Sign(ctx, receipt.Statement{Subject: []receipt.Subject{{Name: "key:" + planted.ID, Digest: map[string]string{"sha256": planted.ID}}}, PredicateType: vault.KeyEventType, Predicate: ev}, attacker)
	if err != nil {
		t.Fatal(err)
	}
	rawGenesis, _ := json.Marshal(genesis)
	withPlanted := *kl
	withPlanted.Events = append(slices.Clone(kl.Events), vault.KeyRecord{Envelope: rawGenesis, Log: &ledger.Proof{Origin: kl.Origin, Index: latest.Size - 1, Checkpoint: kl.Checkpoint}})

	// The log answered under a look-alike name (a Cyrillic е), as an
	// operator would serve a log of its own.
	tenant := kl.Origin[strings.LastIndex(kl.Origin, "/")+1:]
	lookalike := *kl
	lookalike.Origin = strings.TrimSuffix(kl.Origin, tenant) + strings.Replace(tenant, "e", "\u0435", 1)
	bucket := strings.Split(kl.Origin, "/")[2]

	type logCase struct {
		Name string `json:"name"`
		// Pin is put in the browser first (none: nothing pinned).
		Pin  map[string]string `json:"pin,omitempty"`
		Keys *vault.KeyLog     `json:"keys,omitempty"`
		// Tenant is the one being read ("": not said); OtherPin an
		// origin pinned in this browser besides.
		Tenant   string `json:"tenant,omitempty"`
		OtherPin string `json:"otherPin,omitempty"`
		// OtherHome marks OtherPin as met for the own tenant; Own opens
		// the log as the own tenant's.
		OtherHome bool   `json:"otherHome,omitempty"`
		Own       bool   `json:"own,omitempty"`
		Want      string `json:"want"`
	}
	realKey := string(vaultKey.Key().PEM())
	cases := []logCase{
		{Name: "first use", Want: ""},
		{Name: "pinned key, as kept", Pin: map[string]string{"key": realKey, "checkpoint": kl.Checkpoint}, Want: ""},
		{Name: "another key pinned", Pin: map[string]string{"key": string(planted.PEM())}, Want: "no signed rotation from key " + planted.ID},
		{Name: "rolled back", Pin: map[string]string{"key": realKey, "checkpoint": signed(longer)}, Want: "the log was rolled back"},
		{Name: "forked", Pin: map[string]string{"key": realKey, "checkpoint": signed(forked)}, Want: "the log was forked"},
		{Name: "a genesis planted in the history", Pin: map[string]string{"key": realKey}, Keys: &withPlanted, Want: "a second genesis, of key " + planted.ID},
		{Name: "the tenant's own log", Tenant: tenant, Want: ""},
		{Name: "another tenant's log", Tenant: "someone-else", Want: "for tenant someone-else"},
		{Name: "a log under a look-alike name", Keys: &lookalike, Want: "not evidencevault.dev/ledger/BUCKET/TENANT"},
		{Name: "a log of another bucket than the pinned ones", OtherPin: "evidencevault.dev/ledger/not-" + bucket + "/" + tenant, Want: "it now names bucket " + bucket},
		{Name: "another tenant's log of the same bucket", OtherPin: "evidencevault.dev/ledger/" + bucket + "/someone-else", Want: ""},
		{Name: "the own tenant's log, once another's", OtherPin: "evidencevault.dev/ledger/" + bucket + "/someone-else", OtherHome: true, Own: true, Want: "your own tenant's log in this browser was someone-else's"},
	}
	b := testenv.Browser(t)
	if err := chromedp.Do(b, chromedp.Navigate(env["VAULT_URL"]+"/portal/")); err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(cases)
	got, err := chromedp.Run(b, chromedp.Evaluate[map[string]string](`(async () => {
		const v = await import("/portal/verify.js");
		const token = `+jsString(env["VAULT_UPLOADER_TOKEN"])+`;
		const out = {};
		for (const c of `+string(in)+`) {
			localStorage.clear();
			const api = (path) => fetch(path, { headers: { Authorization: "Bearer " + token } }).then((r) => r.json());
			const get = (path) => (c.keys && path.startsWith("/v1/log/keys") ? Promise.resolve(c.keys) : api(path));
			if (c.pin) {
				const kl = await api("/v1/log/keys");
				const k = await v.parseKey(c.pin.key);
				v.keepPin({ origin: kl.origin, key: k.pem, keyId: k.id, checkpoint: c.pin.checkpoint || "" });
			}
			if (c.otherPin) {
				const k = await v.parseKey(`+jsString(realKey)+`);
				v.keepPin({ origin: c.otherPin, home: !!c.otherHome, key: k.pem, keyId: k.id, checkpoint: "" });
			}
			out[c.name] = await v.openLog(get, c.tenant, !!c.own).then(() => "", (e) => e.message);
		}
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	// A download of version 2 answered with version 1's record and
	// receipt; and a receipt without its log proof, in hand.
	vs, err := c.Versions(ctx, d.ID, doc.Path)
	if err != nil || len(vs) != 1 {
		t.Fatalf("versions: %v %v", vs, err)
	}
	dl, err := c.Download(ctx, d.ID, doc.Path, 1)
	if err != nil {
		t.Fatal(err)
	}
	var full vault.Bundle
	json.Unmarshal(dl.Receipt, &full)
	bare, _ := json.Marshal(vault.Bundle{Envelope: full.Envelope})
	want, _ := json.Marshal(map[string]any{"dossier": d.ID, "path": doc.Path, "version": 1, "versionId": vs[0].VersionID})
	more, err := chromedp.Run(b, chromedp.Evaluate[map[string][]string](`(async () => {
		const v = await import("/portal/verify.js");
		const dl = await import("/portal/download.js");
		localStorage.clear();
		const token = `+jsString(env["VAULT_UPLOADER_TOKEN"])+`;
		const view = await v.openLog((path) => fetch(path, { headers: { Authorization: "Bearer " + token } }).then((r) => r.json()));
		const failed = (ver) => ver.checks.filter((c) => !c.passed).map((c) => c.name);
		const want = `+string(want)+`;
		const full = `+string(dl.Receipt)+`, bare = `+string(bare)+`;
		const up = await import("/portal/upload.js");
		const p = (await v.verifyReceipt(full, view.trust)).receipt.predicate;
		const sent = JSON.parse(JSON.stringify(p.document));
		const entry = JSON.parse(JSON.stringify(`+string(kl.Events[0].Envelope)+`));
		entry.signatures.push(entry.signatures[0]);
		const big = { envelope: { payloadType: "application/vnd.in-toto+json", payload: "A".repeat(300 << 10), signatures: [{ keyid: "", sig: "AA==" }] }, log: full.log };
		return {
			asSent: up.sealedAsSent(p, want.dossier, view.tenant, sent).passed ? [] : ["sealed_as_sent"],
			otherTitle: up.sealedAsSent(p, want.dossier, view.tenant, { ...sent, title: "Another report" }).detail.includes("title") ? ["title"] : [],
			otherDossier: up.sealedAsSent(p, "dos_other", view.tenant, sent).detail.includes("dossier") ? ["dossier"] : [],
			otherTenant: up.sealedAsSent(p, want.dossier, "someone-else", sent).detail.includes("tenant") ? ["tenant"] : [],
			twoSignatures: [await v.verifyEntry(entry, 0, view.trust, null, []).then(() => "", (e) => e.message)],
			oversize: (await v.verifyReceipt(big, view.trust)).checks.filter((c) => !c.passed).map((c) => c.detail),
			asked1: failed(await v.checkDownload(view, await v.verifyReceipt(full, view.trust), { ...want, asked: 1 })),
			asked2: failed(await v.checkDownload(view, await v.verifyReceipt(full, view.trust), { ...want, asked: 2 })),
			bare: failed(await dl.logConsistent(view, await v.verifyReceipt(bare, view.trust))),
		};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"asSent": "", "otherTitle": "title", "otherDossier": "dossier", "otherTenant": "tenant",
		"twoSignatures": "carries 2 signatures", "oversize": "larger than 262144 bytes"} {
		if got := strings.Join(more[name], "; "); want == "" && got != "" || !strings.Contains(got, want) {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	if len(more["asked1"]) != 0 || !slices.Equal(more["asked2"], []string{"requested_version"}) || !slices.Equal(more["bare"], []string{"witnessed", "log_consistent"}) {
		// The bare one has no checkpoint for the stack's witness (kept from
		// the vault's policy on first use) to have cosigned.
		t.Errorf("asked for version 1: fails %v (want none); for version 2: %v (want requested_version); a receipt without its log proof: %v (want witnessed, log_consistent)",
			more["asked1"], more["asked2"], more["bare"])
	}

	for _, tc := range cases {
		g, ok := got[tc.Name]
		switch {
		case !ok:
			t.Errorf("%s: no answer", tc.Name)
		case tc.Want == "" && g != "":
			t.Errorf("%s: refused: %s", tc.Name, g)
		case tc.Want != "" && !strings.Contains(g, tc.Want):
			t.Errorf("%s: got %q, want it to say %q", tc.Name, g, tc.Want)
		}
	}
}

// newDossier creates a dossier on the stack, as the uploader.
func newDossier(t *testing.T, env map[string]string) (*client.Client, vault.Dossier) {
	t.Helper()
	c, err := client.New(env["VAULT_URL"], env["VAULT_UPLOADER_TOKEN"], nil)
	if err != nil {
		t.Fatal(err)
	}
	no := false
	d, err := c.CreateDossier(context.Background(), vault.DossierInput{Name: "CardioScan AI", BasicUDIDI: "1987654Ad4X4bL5ttr2310c2K", Regulation: "MDR", RiskClass: "IIa", Implantable: &no, HighRiskAI: &no, NotifiedBody: "0197"})
	if err != nil {
		t.Fatal(err)
	}
	return c, d
}

// sealAgain seals revision C of sealOne's document, superseding it, and
// returns the document's two versions.
func sealAgain(t *testing.T, c *client.Client, d vault.Dossier, doc *client.Document) []vault.Version {
	t.Helper()
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "validation.pdf")
	if err := os.WriteFile(file, []byte("Software validation report, revision C.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	doc.Revision = "C"
	prep, err := c.PrepareFile(ctx, d.ID, doc, file, client.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upload(ctx, prep); err != nil {
		t.Fatal(err)
	}
	vs, err := c.Versions(ctx, d.ID, doc.Path)
	if err != nil || len(vs) != 2 {
		t.Fatalf("versions: %v %v", vs, err)
	}
	return vs
}

// sealOne creates a dossier on the stack and seals one document in it,
// as the uploader.
// sealedReceipt seals one document, downloads it, and reads the log's key
// history and the trust it leads to, as a verifier would start.
// vaultKeyOf is the signing key of the local stack started in dir.
func vaultKeyOf(t *testing.T, dir string) *receipt.LocalSigner {
	t.Helper()
	keyPEM, err := os.ReadFile(filepath.Join(dir, ".local", "signing-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := receipt.NewLocalSigner(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// bundleOf is a download's receipt bundle.
func bundleOf(t *testing.T, dl *client.Download) vault.Bundle {
	t.Helper()
	var b vault.Bundle
	if err := json.Unmarshal(dl.Receipt, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sealedReceipt(t *testing.T, env map[string]string) (*client.Client, vault.Dossier, *client.Document, *client.Download, *vault.KeyLog, vault.Trust) {
	t.Helper()
	ctx := context.Background()
	c, d, doc := sealOne(t, env)
	dl, err := c.Download(ctx, d.ID, doc.Path, 0)
	if err != nil {
		t.Fatal(err)
	}
	kl, err := c.KeyHistory(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	trust, _, err := vault.TrustLog(ctx, kl.Origin, []byte(kl.Checkpoint), kl.Events)
	if err != nil {
		t.Fatal(err)
	}
	return c, d, doc, dl, kl, trust
}

func sealOne(t *testing.T, env map[string]string) (*client.Client, vault.Dossier, *client.Document) {
	t.Helper()
	ctx := context.Background()
	c, d := newDossier(t, env)
	file := filepath.Join(t.TempDir(), "validation.pdf")
	if err := os.WriteFile(file, []byte("Software validation report, revision B.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := &client.Document{Path: "tests/validation.pdf", Title: "Software validation", Kind: "test-report", Section: "MDR-II-6", Revision: "B",
		Language: "en", EffectiveDate: "2026-11-02", Author: "QA", File: client.File{Name: "validation.pdf", ContentType: "application/pdf"}}
	prep, err := c.PrepareFile(ctx, d.ID, doc, file, client.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upload(ctx, prep); err != nil {
		t.Fatal(err)
	}
	return c, d, doc
}

func failedNames(checks []vault.Check) []string {
	var out []string
	for _, c := range checks {
		if !c.Passed && !c.Skipped {
			out = append(out, c.Name)
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// nonMinimalDER re-encodes an ECDSA signature with a needless leading
// zero on r: the same numbers, in a form DER forbids.
// mangledNoteSigner signs checkpoints as s does, then rewrites the
// signature with f.
type mangledNoteSigner struct {
	s *receipt.LocalSigner
	f func([]byte) []byte
}

func (m mangledNoteSigner) Public() crypto.PublicKey { return m.s.Public() }
func (m mangledNoteSigner) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	for {
		b, err := m.s.Sign(ctx, msg)
		if err != nil {
			return nil, err
		}
		if out := m.f(b); out != nil {
			return out, nil
		}
	}
}

func nonMinimalDER(t *testing.T, sig []byte) []byte {
	t.Helper()
	var r, s big.Int
	in := cryptobyte.String(sig)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !seq.ReadASN1Integer(&r) || !seq.ReadASN1Integer(&s) {
		t.Fatal("the vault's signature is not DER")
	}
	rb := append([]byte{0, 0}, r.Bytes()...)
	if r.Bytes()[0]&0x80 == 0 {
		rb = rb[1:]
	}
	sb := s.Bytes()
	if sb[0]&0x80 != 0 {
		sb = append([]byte{0}, sb...)
	}
	body := append(append([]byte{0x02, byte(len(rb))}, rb...), append([]byte{0x02, byte(len(sb))}, sb...)...)
	return append([]byte{0x30, byte(len(body))}, body...)
}
