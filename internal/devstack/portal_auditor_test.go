package devstack_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/evidencevault/vault/client"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

// TestPortalAuditorReadsAndExports: the notified body's auditor, granted
// one dossier, sees its documents under their Annex sections, a
// document's versions with what superseded what, downloads a version
// verified, finds that download in the access trail, and exports the
// dossier: evault's bundle verifier accepts the ZIP the browser wrote,
// from the vault's key.
// withholdEntry makes the API's answers to GET /v1/log/entries give the
// entry of receipt id without its envelope, as if it were another
// dossier's; it returns how many it withheld.
func withholdEntry(t *testing.T, b context.Context, api, id string) *atomic.Int64 {
	t.Helper()
	n := new(atomic.Int64)
	go func() {
		for ev, err := range chromedp.Events(b, fetch.RequestPaused) {
			if err != nil {
				return
			}
			body, err := chromedp.Call(b, fetch.GetResponseBody, fetch.GetResponseBodyParams{RequestID: ev.RequestID})
			var page map[string]any
			if err != nil || json.Unmarshal(body.Body, &page) != nil {
				chromedp.Call(b, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
				continue
			}
			entries, _ := page["entries"].([]any)
			for _, e := range entries {
				if m, ok := e.(map[string]any); ok && m["id"] == id && m["envelope"] != nil {
					delete(m, "envelope")
					n.Add(1)
				}
			}
			data, _ := json.Marshal(page)
			chromedp.Call(b, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: ev.ResponseStatusCode, ResponseHeaders: ev.ResponseHeaders, Body: data})
		}
	}()
	if _, err := chromedp.Call(b, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: api + "/v1/log/entries*", RequestStage: fetch.RequestStageResponse}}}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPortalAuditorReadsAndExports(t *testing.T) {
	dir := t.TempDir()
	env, _, stop := testenv.LocalStack(t, dir)
	defer stop()
	ctx := context.Background()
	c, d, doc := sealOne(t, env)
	vs := sealAgain(t, c, d, doc) // a second version supersedes the first
	until := time.Now().Add(48 * time.Hour).UTC()
	if _, err := c.CreateGrant(ctx, client.GrantInput{Grantee: &vault.Grantee{Email: "auditor@nb0197.example"}, Dossiers: []string{d.ID}, Until: &until}); err != nil {
		t.Fatal(err)
	}

	b := testenv.Browser(t)
	p := &page{t: t, ctx: b}
	saved := t.TempDir()
	if _, err := chromedp.Call(b, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: saved, EventsEnabled: ptrTo(true)}); err != nil {
		t.Fatal(err)
	}
	p.do("open the portal", chromedp.Navigate(env["VAULT_URL"]+"/portal/"))
	p.do("sign in", testenv.Press(`main button`))
	p.do("pick the auditor", testenv.Press(`form:has(input[value="auditor@nb0197.example"]) button`))
	p.do("open demo", testenv.Press(`nav a`))
	p.waitText("CardioScan AI")
	p.do("open the dossier", testenv.Press(`main table a`))
	p.waitText("MDR-II-6 Product verification and validation (1)")
	if page := p.text("body"); strings.Contains(page, "Upload a document") || strings.Contains(page, "AIA-IV") {
		t.Errorf("an auditor sees an upload form, or AI Act sections of a dossier that is not high-risk AI:\n%s", page)
	}
	p.shot("portal-dossier")
	p.do("open the versions", testenv.Press(`a[aria-label="Versions of tests/validation.pdf"]`))
	p.waitText("superseded by version 2")
	for _, want := range []string{"supersedes version 1", "the first", "current"} {
		if page := p.text("main"); !strings.Contains(page, want) {
			t.Errorf("the versions page lacks %q:\n%s", want, page)
		}
	}
	p.do("receipt of version 1", testenv.Press(`tbody tr:first-child td span button:nth-child(2)`))
	p.waitText("Receipt for version 1 of tests/validation.pdf")
	p.waitText("Retained until")
	p.shot("portal-versions")
	p.do("download version 1", testenv.Press(`td button`))
	p.waitText("Verified and saved as validation.pdf")
	got := waitFile(t, filepath.Join(saved, "validation.pdf"), len("Software validation report, revision B.\n"))
	if string(got) != "Software validation report, revision B.\n" {
		t.Errorf("saved %q, not version 1", got)
	}

	p.do("back to the dossier", testenv.Press(`main p a`))
	p.waitText("Export the dossier")
	p.do("export", testenv.Press(`main > button`))
	p.waitText("every one verified before it was written")
	rep, _ := savedBundle(t, env, dir, saved, d.ID)
	if first := rep.First(); first != nil || rep.Documents != 1 {
		t.Errorf("the portal's bundle: %d documents, first failure %+v", rep.Documents, first)
	}

	// The vault withholds version 2 from the log's entries (its leaf hash
	// alone, as for another dossier's receipt): the export is refused.
	withheld := withholdEntry(t, b, env["VAULT_URL"], vs[1].ReceiptID)
	p.do("export again", testenv.Press(`main > button`))
	p.waitText("the export would hide it")
	if withheld.Load() == 0 {
		t.Error("no log entry was withheld: the test proves nothing")
	}
	if _, err := chromedp.Call(b, fetch.Disable, struct{}{}); err != nil {
		t.Fatal(err)
	}

	p.do("back", testenv.Press(`main p a`))
	p.do("open the access trail", testenv.Press(`main a[href$="/access"]`))
	p.waitJS(`document.querySelector("main h2")?.textContent === "Access trail"`)
	if page := p.text("main"); strings.Count(page, "auditor@nb0197.example (auditor)") < 2 {
		t.Errorf("the trail does not show the auditor's two downloads (one, and one for the export):\n%s", page)
	}
	p.shot("portal-access-trail")

	// Years later, the file in hand and its receipt, checked in the
	// browser: version 1 as exported holds; a copy altered by one byte
	// does not.
	dl, err := c.Download(ctx, d.ID, doc.Path, 1)
	if err != nil {
		t.Fatal(err)
	}
	rcpt := filepath.Join(t.TempDir(), "validation.pdf.receipt.json")
	os.WriteFile(rcpt, dl.Receipt, 0o644)
	altered := filepath.Join(t.TempDir(), "validation.pdf")
	os.WriteFile(altered, []byte("Software validation report, revision b.\n"), 0o644)
	for _, tc := range []struct{ file, want string }{
		{filepath.Join(saved, "validation.pdf"), "VALID: validation.pdf is the file the receipt names"},
		{altered, "✘ FAILED file_digest"},
	} {
		p.do("open the verify page", chromedp.Navigate(env["VAULT_URL"]+"/portal/#/t/demo/verify"))
		p.do("reload", chromedp.Reload())
		p.do("choose the file", chromedp.SetUploadFiles(chromedp.CSS(`#verify-file`), []string{tc.file}))
		p.do("choose the receipt", chromedp.SetUploadFiles(chromedp.CSS(`#verify-receipt`), []string{rcpt}))
		p.do("verify", testenv.Press(`form[aria-label="Verify a file"] button`))
		p.waitText(tc.want)
		if tc.file == altered {
			if page := p.text("main"); strings.Contains(page, "VALID:") && !strings.Contains(page, "NOT VALID") {
				t.Errorf("the altered file is called valid:\n%s", page)
			}
			p.shot("portal-verify-file")
		}
	}
}
