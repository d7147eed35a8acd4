package devstack_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/evidencevault/vault/internal/testenv"
)

// TestPortalSignInAndGrants: the portal in headless Chromium on the local
// stack. The notified body's auditor signs in through the stack's
// provider and sees nothing until tenant demo grants a dossier; then the
// portal lists it under demo, and not the dossier that was not granted.
func TestPortalSignInAndGrants(t *testing.T) {
	env, _, stop := testenv.LocalStack(t, t.TempDir())
	defer stop()
	post := func(path string, body any) map[string]any {
		t.Helper()
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", env["VAULT_URL"]+path, bytes.NewReader(data))
		req.Header.Set("Authorization", "Bearer "+env["VAULT_UPLOADER_TOKEN"])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s: %d %v", path, resp.StatusCode, out)
		}
		return out
	}
	granted := post("/v1/dossiers", map[string]any{"name": "CardioScan AI", "basicUdiDi": "1987654Ad4X4bL5ttr2310c2K",
		"regulation": "MDR", "riskClass": "IIa", "implantable": false, "highRiskAi": true, "notifiedBody": "0197"})
	post("/v1/dossiers", map[string]any{"name": "SpiroScan AI", "basicUdiDi": "7907665Bm8v2AB",
		"regulation": "MDR", "riskClass": "IIa", "implantable": false, "highRiskAi": true, "notifiedBody": "0197"})

	ctx := testenv.Browser(t)
	text := func() string {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`body`)))
		if err != nil {
			return "(page unreadable: " + err.Error() + ")"
		}
		return s
	}
	steps := []struct {
		name string
		do   chromedp.Action[chromedp.Void]
	}{
		{"open the portal", chromedp.Navigate(env["VAULT_URL"] + "/portal/")},
		{"sign in", testenv.Press(`main button`)},
		{"pick the auditor", testenv.Press(`form:has(input[value="auditor@nb0197.example"]) button`)},
		{"see no grant", chromedp.Poll[chromedp.Void](`document.body.innerText.includes("No tenant has granted you access")`)},
	}
	for _, st := range steps {
		if err := testenv.Settled(ctx, st.do); err != nil {
			t.Fatalf("%s: %v\n%s", st.name, err, text())
		}
	}

	post("/v1/grants", map[string]any{"grantee": map[string]any{"email": "auditor@nb0197.example"}, "dossiers": []string{granted["id"].(string)},
		"until": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)})
	for _, st := range []chromedp.Action[chromedp.Void]{
		chromedp.Reload(),
		testenv.Press(`nav a`),
		chromedp.Poll[chromedp.Void](`document.body.innerText.includes("CardioScan AI")`),
	} {
		if err := testenv.Settled(ctx, st); err != nil {
			t.Fatalf("open demo: %v\n%s", err, text())
		}
	}
	if page := text(); bytes.Contains([]byte(page), []byte("SpiroScan AI")) || !bytes.Contains([]byte(page), []byte("auditor@nb0197.example, auditor")) {
		t.Errorf("portal after the grant:\n%s", page)
	}
}

// TestPortalRenewsARefusedToken: an ID token lasts an hour (Cognito's),
// an audit longer. When the vault refuses the page's token as
// unauthenticated, as it does an expired one (here its signature is
// broken), the page trades its refresh token for a new one, once for
// all the calls refused together, and goes on; when the provider refuses
// the refresh token too, the page asks for a new sign-in instead of
// looping.
func TestPortalRenewsARefusedToken(t *testing.T) {
	env, _, stop := testenv.LocalStack(t, t.TempDir())
	defer stop()
	p := &page{t: t, ctx: testenv.Browser(t)}
	p.do("open the portal", chromedp.Navigate(env["VAULT_URL"]+"/portal/"))
	p.do("sign in", testenv.Press(`main button`))
	p.do("pick the uploader", testenv.Press(`form:has(input[value="alice@demo.example"]) button`))
	p.waitText("Dossiers of demo")

	stored := func() (id, refresh string) {
		t.Helper()
		v, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`[sessionStorage.getItem("idToken") || "", sessionStorage.getItem("refreshToken") || ""]`))
		if err != nil || len(v) != 2 {
			t.Fatalf("read the page's tokens: %v %v", v, err)
		}
		return v[0], v[1]
	}
	id0, rt0 := stored()
	if id0 == "" || rt0 == "" {
		t.Fatalf("after sign-in: got ID token %q and refresh token %q, want both", id0, rt0)
	}
	refused := id0[:len(id0)-4] + "AAAA"
	if refused == id0 {
		refused = id0[:len(id0)-4] + "BBBB"
	}

	// A reload with the refused token: the page renews it and shows the
	// dossiers, not the sign-in.
	p.do("refuse the token", chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem("idToken", `+jsString(refused)+`); location.reload()`))
	p.waitText("Dossiers of demo")
	id1, rt1 := stored()
	if id1 == refused || id1 == "" {
		t.Errorf("after a refused token: the page kept %q", id1)
	}
	if rt1 == rt0 || rt1 == "" {
		t.Errorf("after a renewal: got refresh token %q, want the provider's next one (it rotates them)", rt1)
	}

	// Three calls refused together renew once: the provider's refresh
	// tokens are single use, so a second trade would fail.
	got, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`(async () => {
		const api = await import(new URL("api.js", location.href).href);
		sessionStorage.setItem("idToken", `+jsString(refused)+`);
		const all = await Promise.allSettled([api.call("/v1/me"), api.call("/v1/me"), api.call("/v1/dossiers")]);
		return all.map((r) => r.status === "fulfilled" ? "ok" : r.reason.message);
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || !slices.Equal(got, []string{"ok", "ok", "ok"}) {
		t.Errorf("three calls with a refused token: got %v (%v), want ok for each", got, err)
	}
	if _, rt2 := stored(); rt2 == rt1 || rt2 == "" {
		t.Errorf("after three refused calls: got refresh token %q, want one new one", rt2)
	}

	// A refresh token the provider refuses: sign in again.
	p.do("refuse both", chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem("idToken", `+jsString(refused)+`); sessionStorage.setItem("refreshToken", "not-one-of-the-providers"); location.reload()`))
	p.waitJS(`document.querySelector("main button")?.textContent === "Sign in again"`)
	if id, rt := stored(); id != "" || rt != "" {
		t.Errorf("after a refused renewal: got ID token %q and refresh token %q stored, want neither", id, rt)
	}
}
