package devstack_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/evidencevault/vault/client"
	"github.com/evidencevault/vault/internal/bundle"
	"github.com/evidencevault/vault/internal/testenv"
)

// TestPortalShowsTheRegulatoryLife: what the dossier's lifecycle events
// say is on the portal's pages: the market status and retention, a legal
// hold, a version's sign-offs and approval, the completeness by section,
// and a submission with what changed since. A member signs a version
// from the portal after a fresh sign-in.
func TestPortalShowsTheRegulatoryLife(t *testing.T) {
	dir := t.TempDir()
	env, _, stop := testenv.LocalStack(t, dir)
	defer stop()
	ctx := context.Background()
	c, d, doc := sealOne(t, env)
	admin, err := client.New(env["VAULT_URL"], env["VAULT_ADMIN_TOKEN"], nil)
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	if _, err := admin.SetMarket(ctx, d.ID, client.MarketInput{FirstPlaced: today, Reason: "CE certificate"}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.SetHold(ctx, d.ID, client.HoldInput{Reason: "BfArM inquiry 2026-117"}); err != nil {
		t.Fatal(err)
	}
	vs, err := c.Versions(ctx, d.ID, doc.Path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.SignOff(ctx, d.ID, client.SignoffInput{Path: doc.Path, Version: 1, SHA256: vs[0].SHA256, Meaning: "approved"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, d.ID, client.SubmissionInput{NotifiedBody: "0197", Date: today}); err != nil {
		t.Fatal(err)
	}
	sealAgain(t, c, d, doc)

	b := testenv.Browser(t)
	p := &page{t: t, ctx: b}
	saved := t.TempDir()
	if _, err := chromedp.Call(b, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: saved, EventsEnabled: ptrTo(true)}); err != nil {
		t.Fatal(err)
	}
	p.do("open the portal", chromedp.Navigate(env["VAULT_URL"]+"/portal/"))
	p.do("sign in", testenv.Press(`main button`))
	p.do("pick the uploader", testenv.Press(`form:has(input[value="alice@demo.example"]) button`))
	p.waitText(d.Name)
	p.do("open the dossier", testenv.Press(`main table a`))
	p.waitText("Regulatory status")
	for _, want := range []string{"on the market since " + today, "extended ahead while on the market", "BfArM inquiry 2026-117", "1 approval(s) by people other than the author", "LEGAL HOLD"} {
		if page := p.text("main"); !strings.Contains(page, want) {
			t.Errorf("the dossier page lacks %q:\n%s", want, page)
		}
	}
	p.do("changes since the submission", testenv.Press(`main section[aria-labelledby="regulatory"] button`))
	p.waitText("1 changed, 0 unchanged")
	p.shot("portal-lifecycle")

	p.do("open the versions", testenv.Press(`a[aria-label="Versions of tests/validation.pdf"]`))
	p.waitText("approved by Dana")
	if page := p.text("main"); !strings.Contains(page, "superseded, approved") || !strings.Contains(page, "current, not approved") {
		t.Errorf("the versions page does not show each version's status and approval:\n%s", page)
	}
	// The uploader signed in just now: a sign-off from the portal holds.
	p.pick("#meaning-2", "reviewed")
	p.do("sign version 2", testenv.Press(`form[aria-label="Sign version 2"] button`))
	p.waitText("reviewed by Alice")

	p.do("back to the dossier", testenv.Press(`main p a`))
	// The portal's bundle carries the lifecycle events and the snapshot:
	// verify-bundle holds what its manifest says to them.
	p.do("export", testenv.Press(`main > button`))
	p.waitText("every one verified before it was written")
	rep, fsys := savedBundle(t, env, dir, saved, d.ID)
	if first := rep.First(); first != nil || !strings.Contains(rep.Lifecycle, "the whole dossier") {
		t.Fatalf("the portal's bundle: first failure %+v, lifecycle %q", first, rep.Lifecycle)
	}
	m, err := bundle.ReadManifest(fsys)
	if err != nil || len(m.Documents) != 1 || !m.Documents[0].LegalHold || len(m.Documents[0].Signoffs) != 1 || m.Documents[0].Signoffs[0].Meaning != "reviewed" {
		t.Errorf("the portal's manifest: %+v (%v), want version 2 held with Alice's review", m, err)
	}

	p.do("open completeness", testenv.Press(`main a[href$="/completeness"]`))
	p.waitText("section(s) missing")
	if page := p.text("main"); !strings.Contains(page, "MDR-II-1.1") || !strings.Contains(page, "missing") {
		t.Errorf("the completeness page:\n%s", page)
	}
}
