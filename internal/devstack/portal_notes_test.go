package devstack_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
	"golang.org/x/mod/sumdb/tlog"
)

// TestPortalNotesMatchGo: the portal's reading of checkpoints (C2SP
// signed notes), inclusion proofs and key histories (static/verify.js)
// and Go's (ledger, vault.VerifyOffline, vault.TrustLog) are given the
// same notes, proofs and histories, each made and signed with the real
// keys, and must give the same verdict: the checks a receipt fails, and
// whether a history is trusted, with which keys for which spans.
func TestPortalNotesMatchGo(t *testing.T) {
	dir := t.TempDir()
	env, _, stop := testenv.LocalStack(t, dir)
	defer stop()
	ctx := context.Background()
	_, _, _, dl, kl, trust := sealedReceipt(t, env)
	vaultKey, intact := vaultKeyOf(t, dir), bundleOf(t, dl)
	var env0 receipt.Envelope
	json.Unmarshal(intact.Envelope, &env0)
	payload, _ := receipt.Payload(&env0)
	leaf := tlog.RecordHash(payload)
	origin := intact.Log.Origin
	cpText := intact.Log.Checkpoint[:strings.Index(intact.Log.Checkpoint, "\n\n")+1]
	cp, err := ledger.ParseCheckpoint([]byte(cpText))
	if err != nil {
		t.Fatal(err)
	}
	sigLine := func(name, text string) string { return noteSigLine(t, vaultKey, name, text) }
	// note signs text (which may be anything) as the vault would, under
	// origin, with more signature lines after.
	note := func(text string, more ...string) string {
		return text + "\n" + sigLine(origin, text) + strings.Join(more, "")
	}
	// at places the receipt at index of a tree of size (other leaves made
	// up), in a checkpoint whose text f may rewrite.
	at := func(index, size int64, f func(text string) string) vault.Bundle {
		root, proof := synthPath(index, size, leaf)
		text := fmt.Sprintf("%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]))
		if f != nil {
			text = f(text)
		}
		return vault.Bundle{Envelope: intact.Envelope, Log: &ledger.Proof{Origin: origin, Index: index, Checkpoint: note(text), Inclusion: proof}}
	}
	// signed replaces the receipt's checkpoint.
	signed := func(s string) vault.Bundle {
		p := *intact.Log
		p.Checkpoint = s
		return vault.Bundle{Envelope: intact.Envelope, Log: &p}
	}
	proofed := func(index int64, proof ledger.Hashes) vault.Bundle {
		p := *intact.Log
		p.Index, p.Inclusion = index, proof
		return vault.Bundle{Envelope: intact.Envelope, Log: &p}
	}
	lines := func(text string) []string { return strings.SplitAfter(strings.TrimSuffix(text, "\n"), "\n") }
	line := func(i int, s string) func(string) string {
		return func(text string) string {
			l := lines(text)
			l[i] = s + "\n"
			return strings.Join(l, "")
		}
	}
	rootB64 := base64.StdEncoding.EncodeToString(cp.Hash[:])
	sizeText := fmt.Sprint(cp.Size)
	withText := func(f func(o, size, root string) string) vault.Bundle {
		return signed(note(f(origin, sizeText, rootB64)))
	}
	body := func(o, size, root string, ext ...string) string {
		return o + "\n" + size + "\n" + root + "\n" + strings.Join(ext, "")
	}
	// A signature line by a name the vault does not sign as.
	otherLine := func(name string) string { return noteSigLine(t, vaultKey, name, cpText) }
	good := sigLine(origin, cpText)
	badLine := func() string {
		b, _ := base64.StdEncoding.DecodeString(strings.Fields(good)[2])
		b[len(b)-1] ^= 1
		return "\u2014 " + origin + " " + base64.StdEncoding.EncodeToString(b) + "\n"
	}()
	unknowns := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, "\u2014 witness"+fmt.Sprint(i)+" "+base64.StdEncoding.EncodeToString([]byte("abcd-not-a-signature"))+"\n")
		}
		return out
	}
	nonCanonicalSig := func() string {
		for {
			enc := strings.Fields(sigLine(origin, cpText))[2]
			if strings.HasSuffix(enc, "=") {
				return "\u2014 " + origin + " " + withUnusedBits(enc) + "\n"
			}
		}
	}()
	maxSafe := int64(ledger.MaxSize)
	// A tree whose root's base64 holds "+" or "/", written URL-safe.
	urlSafe := func() vault.Bundle {
		for {
			root, proof := synthPath(3, 9, leaf)
			if strings.ContainsAny(base64.StdEncoding.EncodeToString(root[:]), "+/") {
				text := body(origin, "9", base64.URLEncoding.EncodeToString(root[:]))
				return vault.Bundle{Envelope: intact.Envelope, Log: &ledger.Proof{Origin: origin, Index: 3, Checkpoint: note(text), Inclusion: proof}}
			}
		}
	}()

	type tcase struct {
		name   string
		bundle vault.Bundle
	}
	cases := []tcase{
		{"intact", intact},
		{"re-signed as is", signed(note(cpText))},
		// The text of the checkpoint.
		{"an extension line (both take it)", withText(func(o, s, r string) string { return body(o, s, r, "tag: value\n") })},
		{"a non-ASCII extension line (both take it)", withText(func(o, s, r string) string { return body(o, s, r, "caf\u00e9 \u2603 \U0001d11e\n") })},
		{"an extension line holding DEL and U+0085 (both take it)", withText(func(o, s, r string) string { return body(o, s, r, "a\x7fb\u0085c\u2028d\n") })},
		{"an empty extension line", withText(func(o, s, r string) string { return body(o, s, r, "\n", "tag\n") })},
		{"a blank line after the root hash", withText(func(o, s, r string) string { return body(o, s, r, "\n") })},
		{"a tab in an extension line", withText(func(o, s, r string) string { return body(o, s, r, "a\tb\n") })},
		{"CR before each newline", withText(func(o, s, r string) string { return o + "\r\n" + s + "\r\n" + r + "\r\n" })},
		{"CR after the size", withText(func(o, s, r string) string { return body(o, s+"\r", r) })},
		{"no root hash line", withText(func(o, s, r string) string { return o + "\n" + s + "\n" })},
		{"origin line with a trailing space", withText(func(o, s, r string) string { return body(o+" ", s, r) })},
		{"origin line of another log", withText(func(o, s, r string) string { return body(o+"x", s, r) })},
		{"origin line upper-cased", withText(func(o, s, r string) string { return body(strings.ToUpper(o), s, r) })},
		{"size with a leading zero", withText(func(o, s, r string) string { return body(o, "0"+s, r) })},
		{"size with a plus sign", withText(func(o, s, r string) string { return body(o, "+"+s, r) })},
		{"size with a leading space", withText(func(o, s, r string) string { return body(o, " "+s, r) })},
		{"size in full-width digits", withText(func(o, s, r string) string {
			return body(o, strings.Map(func(c rune) rune { return c - '0' + '\uff10' }, s), r)
		})},
		{"size in hexadecimal", withText(func(o, s, r string) string { return body(o, fmt.Sprintf("0x%x", cp.Size), r) })},
		{"size written 1e1 style", withText(func(o, s, r string) string { return body(o, s+"e0", r) })},
		{"root hash unpadded", withText(func(o, s, r string) string { return body(o, s, strings.TrimRight(r, "=")) })},
		{"root hash with unused bits set", withText(func(o, s, r string) string { return body(o, s, withUnusedBits(rootB64)) })},
		{"root hash in hex", withText(func(o, s, r string) string { return body(o, s, fmt.Sprintf("%x", cp.Hash[:])) })},
		{"root hash of 33 bytes", withText(func(o, s, r string) string {
			return body(o, s, base64.StdEncoding.EncodeToString(append(cp.Hash[:], 0)))
		})},
		{"root hash of 31 bytes", withText(func(o, s, r string) string { return body(o, s, base64.StdEncoding.EncodeToString(cp.Hash[:31])) })},
		{"root hash URL-safe", urlSafe},
		// Sizes and indices JavaScript's numbers cannot hold exactly.
		{"the largest safe size (2^53-1), at its last entry (both take it)", at(maxSafe-1, maxSafe, nil)},
		{"size 2^53, at its last entry", at(maxSafe, maxSafe+1, nil)},
		{"size 2^53+1, at entry 2^53", at(maxSafe+1, maxSafe+2, nil)},
		{"size 2^53+1, at entry 0", at(0, maxSafe+2, nil)},
		{"size 2^63-1, at its last entry", at(1<<63-2, 1<<63-1, nil)},
		{"size 2^63", at(0, 5, line(1, "9223372036854775808"))},
		{"an index of -2^53", proofed(-maxSafe-1, intact.Log.Inclusion)},
		// Inclusion proofs.
		{"size 1, the only entry (both take it)", at(0, 1, nil)},
		{"size 1, with one hash too many", func() vault.Bundle {
			b := at(0, 1, nil)
			b.Log.Inclusion = append(b.Log.Inclusion, cp.Hash)
			return b
		}()},
		{"size 0", at(0, 5, line(1, "0"))},
		{"index at the size", proofed(cp.Size, intact.Log.Inclusion)},
		{"index past the size", proofed(cp.Size+7, intact.Log.Inclusion)},
		{"index -1", proofed(-1, intact.Log.Inclusion)},
		{"proof one hash too long", proofed(intact.Log.Index, append(slices.Clone(intact.Log.Inclusion), cp.Hash))},
		{"proof one hash too short", proofed(intact.Log.Index, intact.Log.Inclusion[:len(intact.Log.Inclusion)-1])},
		{"proof empty", proofed(intact.Log.Index, ledger.Hashes{})},
		{"proof of 64 hashes", proofed(intact.Log.Index, slices.Repeat(ledger.Hashes{cp.Hash}, 64))},
		{"proof of 129 hashes", proofed(intact.Log.Index, slices.Repeat(ledger.Hashes{cp.Hash}, 129))},
		{"a deep tree at its middle (both take it)", at(1<<40+12345, 1<<41+3, nil)},
		// Signature lines.
		{"the signature twice, identical (both take it)", signed(cpText + "\n" + good + good)},
		{"two signatures by the vault's key (both take it)", signed(cpText + "\n" + good + sigLine(origin, cpText))},
		{"a bad signature by the vault's key after its good one (a repeat: both take it)", signed(cpText + "\n" + good + badLine)},
		{"a bad signature by the vault's key before its good one", signed(cpText + "\n" + badLine + good)},
		{"a signature by another name (both take it)", signed(cpText + "\n" + good + otherLine("other.example/log"))},
		{"only a signature by another name", signed(cpText + "\n" + otherLine("other.example/log"))},
		{"the vault's key hash under the origin, another key's signature", func() vault.Bundle {
			attacker, _ := receipt.GenerateSigner()
			l := noteSigLine(t, attacker, origin, cpText)
			a, _ := base64.StdEncoding.DecodeString(strings.Fields(l)[2])
			g, _ := base64.StdEncoding.DecodeString(strings.Fields(good)[2])
			copy(a, g[:4])
			return signed(cpText + "\n" + "\u2014 " + origin + " " + base64.StdEncoding.EncodeToString(a) + "\n")
		}()},
		{"a signature under an unknown key hash only", func() vault.Bundle {
			g, _ := base64.StdEncoding.DecodeString(strings.Fields(good)[2])
			g[0] ^= 1
			return signed(cpText + "\n" + "\u2014 " + origin + " " + base64.StdEncoding.EncodeToString(g) + "\n")
		}()},
		{"99 unknown signatures and the vault's (both take it)", signed(cpText + "\n" + strings.Join(unknowns(99), "") + good)},
		{"100 unknown signatures and the vault's", signed(cpText + "\n" + strings.Join(unknowns(100), "") + good)},
		{"100 repeats of the vault's signature (both take it)", signed(cpText + "\n" + strings.Repeat(good, 100))},
		{"101 repeats of the vault's signature", signed(cpText + "\n" + strings.Repeat(good, 101))},
		{"a signature in base64 with unused bits set (both take it)", signed(cpText + "\n" + nonCanonicalSig)},
		{"a signature in unpadded base64", signed(cpText + "\n" + strings.TrimRight(strings.TrimSuffix(nonCanonicalSig, "\n"), "=") + "\n")},
		{"a signature line with two spaces", signed(cpText + "\n" + strings.Replace(good, " ", "  ", 2))},
		{"a signature line with a trailing space", signed(cpText + "\n" + strings.TrimSuffix(good, "\n") + " \n")},
		{"a signature line with a hyphen for the dash", signed(cpText + "\n" + "-" + strings.TrimPrefix(good, "\u2014"))},
		{"a signature name holding a plus", signed(cpText + "\n" + good + otherLine("a+b"))},
		{"a signature line with no signature", signed(cpText + "\n" + good + "\u2014 other.example/log\n")},
		{"a signature of four bytes", signed(cpText + "\n" + good + "\u2014 other " + base64.StdEncoding.EncodeToString([]byte("abcd")) + "\n")},
		{"a blank line after the signatures", signed(cpText + "\n" + good + "\n")},
		{"no newline after the signatures", signed(cpText + "\n" + strings.TrimSuffix(good, "\n"))},
		{"no signatures", signed(cpText + "\n")},
		{"a NUL in a signature name", signed(cpText + "\n" + good + otherLine("a\x00b"))},
	}

	type jsCase struct {
		Name   string          `json:"name"`
		Bundle json.RawMessage `json:"bundle"`
	}
	var in []jsCase
	want := map[string][]string{}
	for _, tc := range cases {
		raw, _ := json.Marshal(tc.bundle)
		in = append(in, jsCase{tc.name, raw})
		ver, _ := vault.VerifyOffline(ctx, raw, trust, "", -1)
		want[tc.name] = failedNames(ver.Checks)
		both := strings.Contains(tc.name, "both take it") || tc.name == "intact" || tc.name == "re-signed as is"
		switch {
		case both && len(want[tc.name]) != 0:
			t.Errorf("%s: Go fails %v, want none: %v", tc.name, want[tc.name], ver.Checks)
		case !both && len(want[tc.name]) == 0:
			t.Errorf("%s: Go fails no check: the case tampers with nothing", tc.name)
		}
	}

	// Key histories: a log of the test's own, of genesis and rotations
	// signed by keys made here, each event placed by a proof in a
	// checkpoint signed by the key of the log's last entry.
	hist := newKeyHistories(t, "evidencevault.test/keys")
	k1, k2, k3 := hist.key(), hist.key(), hist.key()
	g1 := hist.event(vault.KeyGenesis, k1, nil, k1)
	r12 := hist.event(vault.KeyRotation, k2, k1, k2, k1)
	r23 := hist.event(vault.KeyRotation, k3, k2, k3, k2)
	filler := []byte(nil)
	type hcase struct {
		Name string        `json:"name"`
		Keys *vault.KeyLog `json:"keys"`
	}
	reorder := func(l *vault.KeyLog, f func([]vault.KeyRecord) []vault.KeyRecord) *vault.KeyLog {
		l.Events = f(slices.Clone(l.Events))
		return l
	}
	hcases := []hcase{
		{"a genesis (both take it)", hist.log(k1, g1, filler)},
		{"a genesis and two rotations (both take it)", hist.log(k3, g1, filler, r12, filler, r23, filler)},
		{"events out of order (both take it)", reorder(hist.log(k3, g1, filler, r12, filler, r23), func(e []vault.KeyRecord) []vault.KeyRecord {
			slices.Reverse(e)
			return e
		})},
		{"the genesis listed twice (both take it)", reorder(hist.log(k2, g1, r12), func(e []vault.KeyRecord) []vault.KeyRecord { return append(e, e[0]) })},
		{"the same genesis logged twice (both take it)", hist.log(k2, g1, filler, g1, r12)},
		{"a rotation listed twice", reorder(hist.log(k2, g1, r12, filler), func(e []vault.KeyRecord) []vault.KeyRecord { return append(e, e[1]) })},
		{"the same rotation logged twice", hist.log(k2, g1, r12, filler, r12)},
		{"no genesis", hist.log(k2, filler, r12)},
		{"a second genesis of another key", hist.log(k2, g1, hist.event(vault.KeyGenesis, k2, nil, k2))},
		{"a rotation signed by the new key only", hist.log(k2, g1, hist.event(vault.KeyRotation, k2, k1, k2))},
		{"a rotation signed by the retired key only", hist.log(k2, g1, hist.event(vault.KeyRotation, k2, k1, k1))},
		{"a rotation signed by the wrong retiring key", hist.log(k2, g1, hist.event(vault.KeyRotation, k2, k1, k2, k3))},
		{"a rotation from a key the log never had", hist.log(k3, g1, filler, r23)},
		{"rotations skipping a key", hist.log(k3, g1, r12, hist.event(vault.KeyRotation, k3, k1, k3, k1))},
		{"the checkpoint signed by the retired key", hist.log(k1, g1, filler, r12, filler)},
		{"the checkpoint signed by a key not yet in use", hist.log(k2, g1, filler, filler)},
		{"a rotation logged after the checkpoint", func() *vault.KeyLog {
			l := hist.log(k2, g1, filler, r12)
			short := hist.log(k1, g1, filler)
			l.Checkpoint = short.Checkpoint
			return l
		}()},
		{"the checkpoint forked from the events' tree", func() *vault.KeyLog {
			l := hist.log(k2, g1, filler, r12)
			l.Checkpoint = hist.log(k2, g1, []byte("other"), r12).Checkpoint
			return l
		}()},
		{"an event placed at another index", func() *vault.KeyLog {
			l := hist.log(k2, g1, filler, r12, filler)
			l.Events[1].Log.Index++
			return l
		}()},
		{"an event in another log", func() *vault.KeyLog {
			l := hist.log(k2, g1, r12)
			l.Events[1].Log.Origin += "x"
			return l
		}()},
		{"a genesis whose key PEM has text after it", hist.log(k1, hist.eventPEM(vault.KeyGenesis, k1, nil, func(pem string) string { return pem + "extra\n" }, k1))},
		{"a genesis whose key PEM has text before it", hist.log(k1, hist.eventPEM(vault.KeyGenesis, k1, nil, func(pem string) string { return "key:\n" + pem }, k1))},
		{"a genesis whose key PEM has CRLF line ends", hist.log(k1, hist.eventPEM(vault.KeyGenesis, k1, nil, func(pem string) string { return strings.ReplaceAll(pem, "\n", "\r\n") }, k1))},
		{"a genesis whose key PEM has a header", hist.log(k1, hist.eventPEM(vault.KeyGenesis, k1, nil, func(pem string) string {
			return strings.Replace(pem, "-----\n", "-----\nComment: k1\n\n", 1)
		}, k1))},
		{"a genesis whose key PEM has unused bits set", hist.log(k1, hist.eventPEM(vault.KeyGenesis, k1, nil, withUnusedBits, k1))},
		{"a genesis whose key PEM is one line of base64", hist.log(k1, hist.eventPEM(vault.KeyGenesis, k1, nil, func(pem string) string {
			l := strings.Split(strings.TrimSpace(pem), "\n")
			return l[0] + "\n" + strings.Join(l[1:len(l)-1], "") + "\n" + l[len(l)-1] + "\n"
		}, k1))},
	}
	wantKeys := map[string]string{}
	for _, hc := range hcases {
		tr, _, err := vault.TrustLog(ctx, hc.Keys.Origin, []byte(hc.Keys.Checkpoint), hc.Keys.Events)
		if err != nil {
			wantKeys[hc.Name] = "refused"
		} else {
			var s []string
			for _, k := range tr.Keys {
				s = append(s, fmt.Sprintf("%s:%d:%d", k.Key.ID[:8], k.From, k.Until))
			}
			wantKeys[hc.Name] = strings.Join(s, " ")
		}
		both := strings.Contains(hc.Name, "both take it")
		switch {
		case both && err != nil:
			t.Errorf("%s: Go refuses it: %v", hc.Name, err)
		case !both && err == nil:
			t.Errorf("%s: Go takes it: %s", hc.Name, wantKeys[hc.Name])
		}
	}
	t.Logf("Go: receipts fail %v; histories give %v", want, wantKeys)

	b := portalPage(t, env)
	klJSON, _ := json.Marshal(kl)
	inJSON, _ := json.Marshal(in)
	hJSON, _ := json.Marshal(hcases)
	type answer struct {
		Receipts  map[string][]string `json:"receipts"`
		Histories map[string]string   `json:"histories"`
		Details   map[string]string   `json:"details"`
	}
	got, err := chromedp.Run(b, chromedp.Evaluate[answer](`(async () => {
		const v = await import("/portal/verify.js");
		const kl = `+string(klJSON)+`;
		const { trust } = await v.trustLog(kl.origin, kl.checkpoint, kl.events, null);
		const out = { receipts: {}, histories: {}, details: {} };
		for (const c of `+string(inJSON)+`) {
			const r = await v.verifyReceipt(c.bundle, trust);
			out.receipts[c.name] = r.checks.filter((x) => !x.passed).map((x) => x.name);
			out.details[c.name] = r.checks.filter((x) => !x.passed).map((x) => x.detail).join("; ");
		}
		for (const c of `+string(hJSON)+`) {
			try {
				const { trust } = await v.trustLog(c.keys.origin, c.keys.checkpoint, c.keys.events, null);
				out.histories[c.name] = trust.keys.map((k) => k.key.id.slice(0, 8) + ":" + k.from + ":" + k.until).join(" ");
			} catch (e) {
				out.histories[c.name] = "refused";
				out.details[c.name] = e.message;
			}
		}
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		if g := got.Receipts[tc.name]; !slices.Equal(nonNil(g), nonNil(want[tc.name])) {
			t.Errorf("%s: the portal fails %v (%s), Go fails %v", tc.name, g, got.Details[tc.name], want[tc.name])
		}
	}
	for _, hc := range hcases {
		if g := got.Histories[hc.Name]; g != wantKeys[hc.Name] {
			t.Errorf("%s: the portal gives %q (%s), Go %q", hc.Name, g, got.Details[hc.Name], wantKeys[hc.Name])
		}
	}
}

// withUnusedBits is padded base64 enc with the lowest bit of its last
// character before the padding set: bits no byte holds, which a strict
// decoder refuses and a lenient one reads past.
func withUnusedBits(enc string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	i := strings.IndexByte(enc, '=') - 1
	return enc[:i] + string(alphabet[strings.IndexByte(alphabet, enc[i])|1]) + enc[i+1:]
}

// noteSigLine is a C2SP signed note's signature line by s under name over
// text, as ledger.SignCheckpoint writes it, for any text.
func noteSigLine(t *testing.T, s *receipt.LocalSigner, name, text string) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(der)
	sig, err := s.Sign(context.Background(), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return "\u2014 " + name + " " + base64.StdEncoding.EncodeToString(append(h[:4:4], sig...)) + "\n"
}

// synthPath makes up a tree of size entries holding leaf at index: the
// root and the inclusion proof (RFC 6962 PATH), the other subtrees'
// hashes random. Only the hashes on the path are made, so size may be
// anything up to 2^63-1.
func synthPath(index, size int64, leaf tlog.Hash) (tlog.Hash, []tlog.Hash) {
	if size == 1 {
		return leaf, nil
	}
	k := int64(1) << (bits.Len64(uint64(size-1)) - 1)
	var other tlog.Hash
	rand.Read(other[:])
	if index < k {
		r, p := synthPath(index, k, leaf)
		return tlog.NodeHash(r, other), append(p, other)
	}
	r, p := synthPath(index-k, size-k, leaf)
	return tlog.NodeHash(other, r), append(p, other)
}

// keyHistories makes key events and logs of them under one origin.
type keyHistories struct {
	t      *testing.T
	origin string
}

func newKeyHistories(t *testing.T, origin string) *keyHistories {
	return &keyHistories{t: t, origin: origin}
}

func (h *keyHistories) key() *receipt.LocalSigner {
	s, err := receipt.GenerateSigner()
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// event is a key event of key (retiring previous, for a rotation), signed
// by signers.
func (h *keyHistories) event(event string, key, previous *receipt.LocalSigner, signers ...*receipt.LocalSigner) []byte {
	return h.eventPEM(event, key, previous, func(s string) string { return s }, signers...)
}

// eventPEM is event with the key's PEM rewritten by f.
func (h *keyHistories) eventPEM(event string, key, previous *receipt.LocalSigner, f func(string) string, signers ...*receipt.LocalSigner) []byte {
	pk := func(s *receipt.LocalSigner) vault.PublicKey {
		return vault.PublicKey{KeyID: s.Key().ID, Algorithm: receipt.Algorithm, PEM: string(s.Key().PEM())}
	}
	ev := vault.KeyEvent{Event: event, Log: h.origin, Key: pk(key), At: time.Now().UTC()}
	ev.Key.PEM = f(ev.Key.PEM)
	if previous != nil {
		p := pk(previous)
		ev.Previous = &p
	}
	raw, _ := json.Marshal(ev)
	id := key.Key().ID
	var others []receipt.Signer
	for _, s := range signers[1:] {
		others = append(others, s)
	}
	e, err := receipt.Sign(context.Background(), receipt.Statement{Subject: []receipt.Subject{{Name: "key:" + id, Digest: map[string]string{"sha256": id}}}, PredicateType: vault.KeyEventType, Predicate: raw}, signers[0], others...)
	if err != nil {
		h.t.Fatal(err)
	}
	out, _ := json.Marshal(e)
	return out
}

type memHashes []tlog.Hash

func (m memHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = m[x]
	}
	return out, nil
}

// log is a log of entries (key event envelopes; nil a filler entry; an
// entry not starting with '{' a leaf of those bytes, listed as no event)
// whose checkpoint signer signs, with every event proven in it.
func (h *keyHistories) log(signer *receipt.LocalSigner, entries ...[]byte) *vault.KeyLog {
	ctx := context.Background()
	var hs memHashes
	leaves := make([][]byte, len(entries))
	for i, e := range entries {
		leaves[i] = fmt.Appendf(nil, "filler %d", i)
		if len(e) > 0 && e[0] != '{' {
			leaves[i] = e
		} else if e != nil {
			env, _, err := receipt.Parse(e)
			if err != nil {
				h.t.Fatal(err)
			}
			leaves[i], _ = receipt.Payload(env)
		}
		more, err := tlog.StoredHashes(int64(i), leaves[i], hs)
		if err != nil {
			h.t.Fatal(err)
		}
		hs = append(hs, more...)
	}
	n := int64(len(entries))
	root, err := tlog.TreeHash(n, hs)
	if err != nil {
		h.t.Fatal(err)
	}
	signed, err := ledger.SignCheckpoint(ctx, signer, ledger.Checkpoint{Origin: h.origin, Size: n, Hash: root})
	if err != nil {
		h.t.Fatal(err)
	}
	kl := &vault.KeyLog{Origin: h.origin, Checkpoint: string(signed), Events: vault.KeyHistory{}}
	for i, e := range entries {
		if len(e) == 0 || e[0] != '{' {
			continue
		}
		p, err := tlog.ProveRecord(n, int64(i), hs)
		if err != nil {
			h.t.Fatal(err)
		}
		kl.Events = append(kl.Events, vault.KeyRecord{Envelope: e, Log: &ledger.Proof{Origin: h.origin, Index: int64(i), Checkpoint: string(signed), Inclusion: ledger.Hashes(p)}})
	}
	return kl
}
