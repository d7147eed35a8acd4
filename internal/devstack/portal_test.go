package devstack_test

import (
	"bytes"
	"encoding/json"
	"net/http"
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
