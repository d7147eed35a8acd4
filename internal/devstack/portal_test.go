package devstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
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
// an audit longer. When the API refuses the page's token as it does an
// expired one (here its signature is broken), or as the deployed API's
// gateway does (a bare 401), the page trades its refresh token for a new
// one, once for all the calls refused together, and goes on; a tab opened
// from it shares the sign-in and is told of each new refresh token; a
// provider that does not answer leaves the refresh token for the next try;
// one that refuses it gets a new sign-in asked for instead of a loop.
func TestPortalRenewsARefusedToken(t *testing.T) {
	env, _, stop := testenv.LocalStack(t, t.TempDir())
	defer stop()
	p := &page{t: t, ctx: testenv.Browser(t)}
	p.do("open the portal", chromedp.Navigate(env["VAULT_URL"]+"/portal/"))
	p.do("sign in", testenv.Press(`main button`))
	p.do("pick the uploader", testenv.Press(`form:has(input[value="alice@demo.example"]) button`))
	p.waitText("Dossiers of demo")

	stored := func(p *page) (id, refresh string) {
		t.Helper()
		v, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`[sessionStorage.getItem("idToken") || "", sessionStorage.getItem("refreshToken") || ""]`))
		if err != nil || len(v) != 2 {
			t.Fatalf("read the page's tokens: %v %v", v, err)
		}
		return v[0], v[1]
	}
	id0, rt0 := stored(p)
	if id0 == "" || rt0 == "" {
		t.Fatalf("after sign-in: got ID token %q and refresh token %q, want both", id0, rt0)
	}
	refuse := func(p *page) string {
		t.Helper()
		id, _ := stored(p)
		bad := id[:len(id)-4] + "AAAA"
		if bad == id {
			bad = id[:len(id)-4] + "BBBB"
		}
		p.do("refuse the token", chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem("idToken", `+jsString(bad)+`)`))
		return bad
	}
	renewed := func(p *page, what, refused, rtBefore string) string {
		t.Helper()
		id, rt := stored(p)
		if id == refused || id == "" {
			t.Errorf("%s: the page kept %q", what, id)
		}
		if rt == rtBefore || rt == "" {
			t.Errorf("%s: got refresh token %q, want the provider's next one (it rotates them)", what, rt)
		}
		return rt
	}

	// A reload with the refused token: renewed, the dossiers shown.
	refused := refuse(p)
	p.do("reload", chromedp.Reload())
	p.waitText("Dossiers of demo")
	rt := renewed(p, "after a refused token", refused, rt0)

	// Three calls refused together renew once: the provider's refresh
	// tokens are single use, so a second trade would fail.
	refuse(p)
	got, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`(async () => {
		const api = await import(new URL("api.js", location.href).href);
		const all = await Promise.allSettled([api.call("/v1/me"), api.call("/v1/me"), api.call("/v1/dossiers")]);
		return all.map((r) => r.status === "fulfilled" ? "ok" : r.reason.message);
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || !slices.Equal(got, []string{"ok", "ok", "ok"}) {
		t.Errorf("three calls with a refused token: got %v (%v), want ok for each", got, err)
	}
	rt = renewed(p, "after three refused calls", "", rt)

	// What the network answers is the browser's to change (the DevTools
	// protocol's Fetch domain): the gateway's bare 401 for the vault's
	// own, and a token endpoint that does not answer.
	var mu sync.Mutex
	gatewayed, cut, cutOnce := 0, 0, false
	tctx, cancelNet := context.WithCancel(p.ctx)
	defer cancelNet()
	go func() {
		for ev, err := range chromedp.Events(tctx, fetch.RequestPaused) {
			if err != nil {
				return
			}
			mu.Lock()
			switch {
			case ev.ResponseStatusCode == http.StatusUnauthorized:
				gatewayed++
				chromedp.Call(tctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: http.StatusUnauthorized,
					ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/json"}, {Name: "WWW-Authenticate", Value: `Bearer error="invalid_token"`}},
					Body:            []byte(`{"message":"Unauthorized"}`)})
			case cutOnce && ev.ResponseStatusCode == 0:
				cut++
				cutOnce = false
				chromedp.Call(tctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonConnectionRefused})
			default:
				chromedp.Call(tctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
			}
			mu.Unlock()
		}
	}()
	if _, err := chromedp.Call(p.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: env["VAULT_URL"] + "/v1/*", RequestStage: fetch.RequestStageResponse},
		{URLPattern: env["VAULT_OIDC_ISSUER"] + "/token", RequestStage: fetch.RequestStageRequest},
	}}); err != nil {
		t.Fatal(err)
	}
	refused = refuse(p)
	p.do("reload", chromedp.Reload())
	p.waitText("Dossiers of demo")
	rt = renewed(p, "after the gateway's 401", refused, rt)
	mu.Lock()
	if gatewayed == 0 {
		t.Error("no 401 was answered as the gateway answers: the test proves nothing")
	}
	cutOnce = true
	mu.Unlock()
	refused = refuse(p)
	p.do("reload", chromedp.Reload())
	p.waitText("the sign-in could not be renewed")
	if id, rt1 := stored(p); rt1 != rt {
		t.Errorf("after a provider that did not answer: got refresh token %q (ID token %q), want %q kept", rt1, id, rt)
	}
	mu.Lock()
	if cut != 1 {
		t.Errorf("the token endpoint was cut %d times, want once", cut)
	}
	mu.Unlock()
	p.do("reload", chromedp.Reload())
	p.waitText("Dossiers of demo")
	rt = renewed(p, "after trying again", refused, rt)
	cancelNet()
	if _, err := chromedp.Call(p.ctx, fetch.Disable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}

	// A second tab with this one's sign-in, as the browser gives a tab
	// opened from it: when the first renews, the second is told and
	// renews in turn with the provider's next refresh token.
	p2 := &page{t: t, ctx: func() context.Context { c, cancel := chromedp.NewContext(p.ctx); t.Cleanup(cancel); return c }()}
	id, _ := stored(p)
	p2.do("open a second tab", chromedp.Navigate(env["VAULT_URL"]+"/portal/"))
	p2.do("share the sign-in", chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem("idToken", `+jsString(id)+`); sessionStorage.setItem("refreshToken", `+jsString(rt)+`); location.reload()`))
	p2.waitText("Dossiers of demo")
	refused = refuse(p)
	p.do("reload", chromedp.Reload())
	p.waitText("Dossiers of demo")
	rt = renewed(p, "the first tab", refused, rt)
	p2.waitJS(`sessionStorage.getItem("refreshToken") === ` + jsString(rt))
	refused = refuse(p2)
	p2.do("reload", chromedp.Reload())
	p2.waitText("Dossiers of demo")
	renewed(p2, "the second tab, after the first", refused, rt)

	// A refresh token the provider refuses: sign in again.
	p.do("refuse both", chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem("idToken", `+jsString(refused)+`); sessionStorage.setItem("refreshToken", "not-one-of-the-providers"); location.reload()`))
	p.waitJS(`document.querySelector("main button")?.textContent === "Sign in again"`)
	if id, rt := stored(p); id != "" || rt != "" {
		t.Errorf("after a refused renewal: got ID token %q and refresh token %q stored, want neither", id, rt)
	}
}
