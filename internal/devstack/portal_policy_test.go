package devstack_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/evidencevault/vault/client"
	"github.com/evidencevault/vault/internal/testenv"
)

// TestPortalShowsPolicyChanges: when the vault names other witnesses than
// the ones this browser kept, the page says so, and what differs, beside
// every receipt it checks (a failed download, a receipt, a file in hand)
// and in its policy panel; the panel refuses a policy it could not
// enforce, and taking the vault's makes the download pass again.
func TestPortalShowsPolicyChanges(t *testing.T) {
	env, _, stop := testenv.LocalStack(t, t.TempDir())
	defer stop()
	c, d, doc, dl, _, _ := sealedReceipt(t, env)
	_, otherWitness, err := noteKey("witness.operator.example")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "validation.pdf")
	rcpt := filepath.Join(t.TempDir(), "validation.pdf.receipt.json")
	if err := os.WriteFile(file, []byte("Software validation report, revision B.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rcpt, dl.Receipt, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := testenv.Browser(t)
	p := &page{t: t, ctx: ctx}
	press := func(label string) {
		t.Helper()
		p.waitJS(`[...document.querySelectorAll("button")].some((b) => b.textContent === ` + jsString(label) + `)`)
		p.do("press "+label, chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("button")].find((b) => b.textContent === `+jsString(label)+`).click()`))
	}
	versions := "#/t/-/d/" + d.ID + "/v/" + doc.Path
	p.do("open the portal", chromedp.Navigate(env["VAULT_URL"]+"/portal/"))
	p.do("sign in", testenv.Press(`main button`))
	p.do("pick the uploader", testenv.Press(`form:has(input[value="alice@demo.example"]) button`))
	p.waitText("Dossiers of demo")
	p.do("open the versions", chromedp.Navigate(env["VAULT_URL"]+"/portal/"+versions))
	press("Receipt of version 1")
	p.waitText("✔ passed witnessed")
	if strings.Contains(p.text("body"), "What differs") {
		t.Errorf("the kept policy is the vault's, yet the page says it differs:\n%s", p.text("body"))
	}

	// What this browser kept names another witness.
	p.do("keep another witness", chromedp.Evaluate[chromedp.Void](`(async () => {
		const m = await import("/portal/policy.js");
		await m.keepPolicy({ ...m.keptPolicy(), witnesses: { keys: [`+jsString(otherWitness)+`], quorum: 1 }, source: "an earlier visit" });
	})()`, chromedp.EvalAwaitPromise))
	kept := func() string {
		t.Helper()
		cp, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Object.values(JSON.parse(localStorage.getItem("evidencevault.pins") || "{}"))[0]?.checkpoint || ""`))
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	before := kept()
	// The log grows, cosigned by the vault's witness, not the one kept: its
	// new checkpoint is not kept either, as evault keeps none.
	second := filepath.Join(t.TempDir(), "validation.pdf")
	if err := os.WriteFile(second, []byte("Software validation report, revision C.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	next := *doc
	next.Revision = "C"
	prep, err := c.PrepareFile(context.Background(), d.ID, &next, second, client.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upload(context.Background(), prep); err != nil {
		t.Fatal(err)
	}
	p.do("reload", chromedp.Reload())
	p.waitText("Versions of " + doc.Path)
	change := "witness keys: 1 added, 1 dropped"
	press("Download version 1 verified")
	p.waitText("failed verification and was not saved")
	if got := kept(); before == "" || got != before {
		t.Errorf("under a witness policy the latest checkpoint fails, the browser kept %q, want %q still", got, before)
	}
	for _, want := range []string{"✘ FAILED witnessed", "What differs", change} {
		if !strings.Contains(p.text("main"), want) {
			t.Errorf("after a download that failed, the page lacks %q:\n%s", want, p.text("main"))
		}
	}
	panel, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("policy-panel").textContent`)) // closed: innerText shows its summary only
	if err != nil {
		t.Fatal(err)
	}
	if got := panel; !strings.Contains(got, change) {
		t.Errorf("the policy panel does not say what differs: %q", got)
	}
	press("Receipt of version 1")
	p.waitText("✘ FAILED witnessed")
	if !strings.Contains(p.text("main"), change) {
		t.Errorf("beside a receipt, the page does not say what differs:\n%s", p.text("main"))
	}
	p.do("open verify", chromedp.Navigate(env["VAULT_URL"]+"/portal/#/t/-/verify"))
	p.do("choose the file", chromedp.SetUploadFiles(chromedp.CSS(`#verify-file`), []string{file}))
	p.do("choose the receipt", chromedp.SetUploadFiles(chromedp.CSS(`#verify-receipt`), []string{rcpt}))
	p.do("verify", testenv.Press(`form[aria-label="Verify a file"] button[type=submit]`))
	p.waitText("NOT VALID")
	if !strings.Contains(p.text("main"), change) {
		t.Errorf("beside a file in hand, the page does not say what differs:\n%s", p.text("main"))
	}

	// The panel refuses what it could not enforce, and keeps the policy.
	p.do("open the panel", chromedp.Evaluate[chromedp.Void](`document.getElementById("policy-panel").open = true`))
	p.do("set the quorum", chromedp.SetValue(chromedp.CSS(`#policy-quorum`), "3"))
	press("Keep this policy")
	p.waitText("Not kept: it wants 3 cosignatures of 1 witnesses")

	// Taking the vault's: the download passes again.
	p.do("open the versions", chromedp.Navigate(env["VAULT_URL"]+"/portal/"+versions))
	press("Receipt of version 1")
	press("Take the vault's")
	p.waitText("Versions of " + doc.Path)
	press("Download version 1 verified")
	p.waitText("✔ passed witnessed")
	if strings.Contains(p.text("main"), "What differs") {
		t.Errorf("after taking the vault's policy, the page says it differs:\n%s", p.text("main"))
	}
	if got := kept(); got == before || got == "" {
		t.Errorf("under the vault's policy, the browser kept %q, want the latest checkpoint", got)
	}
}
