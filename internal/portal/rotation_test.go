package portal_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/portal"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

var alice = vault.Identity{Tenant: "acme", Subject: "alice@acme.example", Role: vault.RoleUploader}

func as(id vault.Identity) context.Context { return vault.NewContext(context.Background(), id) }

// TestKeyRotationInTheBrowser: a log whose key was rotated, read by the
// portal's verifier from either key pinned. Receipts of both keys hold
// for their own spans; the retired key signing a receipt after its
// rotation is refused (key_known), as Go refuses it, and a key outside
// the history is refused as a pin.
func TestKeyRotationInTheBrowser(t *testing.T) {
	store := memstore.New("evidence")
	k1, _ := receipt.GenerateSigner()
	k2, _ := receipt.GenerateSigner()
	other, _ := receipt.GenerateSigner()
	service := func(s receipt.Signer, cfg vault.Config) *vault.Service {
		cfg.Bucket, cfg.Logger = store.Bucket(), slog.New(slog.DiscardHandler)
		return vault.New(store.Storage(), s, cfg)
	}
	first := service(k1, vault.Config{})
	no := false
	d, err := first.CreateDossier(as(alice), vault.DossierInput{Name: "Device", BasicUDIDI: "1987654Ad4X4bL5ttr2310c2K", Regulation: regulation.MDR,
		RiskClass: "IIb", Implantable: &no, HighRiskAI: &no, NotifiedBody: "0197"})
	if err != nil {
		t.Fatal(err)
	}
	seal := func(svc *vault.Service, path string, body []byte) *vault.Receipt {
		t.Helper()
		sum := sha256.Sum256(body)
		tk, err := svc.StartUpload(as(alice), d.ID, vault.Document{Path: path, Title: "Report", Kind: regulation.KindTestReport, Section: "MDR-II-6.1",
			Revision: "A", Language: "en", EffectiveDate: "2026-11-01", Author: "QA",
			File: vault.File{Name: path, Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), ContentType: "text/plain"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Send(tk.Upload, body); err != nil {
			t.Fatal(err)
		}
		r, err := svc.Complete(as(alice), tk.UploadID)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	old := seal(first, "a.txt", []byte("signed by the first key"))
	second := service(k2, vault.Config{Previous: k1})
	newer := seal(second, "b.txt", []byte("signed by the second key"))
	kl, err := second.KeyHistory(as(alice), 0)
	if err != nil || len(kl.Events) != 2 {
		t.Fatalf("key history: %+v, %v; want a genesis and a rotation", kl, err)
	}
	// The retired key signs what the new key signed, at the new key's place.
	forged := newer.Bundle()
	var env dsse.Envelope
	json.Unmarshal(forged.Envelope, &env)
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	sig, err := k1.Sign(context.Background(), dsse.PAE(receipt.PayloadType, payload))
	if err != nil {
		t.Fatal(err)
	}
	env.Signatures = []dsse.Signature{{KeyID: k1.Key().ID, Sig: base64.StdEncoding.EncodeToString(sig)}}
	forged.Envelope, _ = json.Marshal(env)

	bundles := map[string]vault.Bundle{"old": old.Bundle(), "new": newer.Bundle(), "retired key after its rotation": forged}
	want := map[string][]string{}
	for name, b := range bundles {
		raw, _ := json.Marshal(b)
		trust, _, err := vault.TrustLog(context.Background(), kl.Origin, []byte(kl.Checkpoint), kl.Events, k1.Key())
		if err != nil {
			t.Fatal(err)
		}
		v, _ := vault.VerifyOffline(context.Background(), raw, trust, "", 0)
		for _, c := range v.Checks {
			if !c.Passed && !c.Skipped {
				want[name] = append(want[name], c.Name)
			}
		}
	}
	if len(want["old"]) != 0 || len(want["new"]) != 0 || !slices.Equal(want["retired key after its rotation"], []string{"key_known"}) {
		t.Fatalf("Go's verdicts: %v", want)
	}

	srv := httptest.NewServer(portal.Handler("/portal/"))
	defer srv.Close()
	b := testenv.Browser(t)
	if err := chromedp.Do(b, chromedp.Navigate(srv.URL+"/portal/verify.js")); err != nil {
		t.Fatal(err)
	}
	klJSON, _ := json.Marshal(kl)
	bJSON, _ := json.Marshal(bundles)
	pins, _ := json.Marshal(map[string]string{"first": string(k1.Key().PEM()), "second": string(k2.Key().PEM()), "other": string(other.Key().PEM())})
	got, err := chromedp.Run(b, chromedp.Evaluate[map[string]map[string][]string](`(async () => {
		const v = await import("/portal/verify.js");
		const kl = `+string(klJSON)+`, bundles = `+string(bJSON)+`, pins = `+string(pins)+`;
		const out = {};
		for (const [pin, pem] of Object.entries(pins)) {
			out[pin] = {};
			let trust;
			try {
				({ trust } = await v.trustLog(kl.origin, kl.checkpoint, kl.events, await v.parseKey(pem)));
			} catch (e) {
				out[pin].refused = [e.message];
				continue;
			}
			out[pin].spans = trust.keys.map((k) => k.key.id.slice(0, 8) + ":" + k.from + "-" + k.until);
			for (const [name, b] of Object.entries(bundles)) {
				const r = await v.verifyReceipt(b, trust);
				out[pin][name] = r.checks.filter((c) => !c.passed).map((c) => c.name);
			}
		}
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	spans := []string{k1.Key().ID[:8] + ":0-2", k2.Key().ID[:8] + ":2--1"}
	for _, pin := range []string{"first", "second"} {
		if !slices.Equal(got[pin]["spans"], spans) {
			t.Errorf("pinned %s: spans %v, want %v", pin, got[pin]["spans"], spans)
		}
		for name := range bundles {
			if g := got[pin][name]; !slices.Equal(nonNil(g), nonNil(want[name])) {
				t.Errorf("pinned %s, %s receipt: the portal fails %v, Go fails %v", pin, name, g, want[name])
			}
		}
	}
	if r := got["other"]["refused"]; len(r) != 1 {
		t.Errorf("a key outside the history, pinned: got %v, want it refused", got["other"])
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
