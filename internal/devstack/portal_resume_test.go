package devstack_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/evidencevault/vault/internal/testenv"
)

// TestPortalResumesMultipart: a 70 MiB file goes in parts; the
// connection fails on part 2; after a reload the uploader chooses the
// same file again, the form comes back filled in, and the upload resumes
// in the same upload session from the parts storage holds, and is sealed
// once.
func TestPortalResumesMultipart(t *testing.T) {
	env, _, stop := testenv.LocalStack(t, t.TempDir())
	defer stop()
	ctx := context.Background()
	c, d := newDossier(t, env)
	content := bytes.Repeat([]byte("case,age,label,score\n1001,64,positive,0.93\n"), 70<<20/44)
	file := filepath.Join(t.TempDir(), "holdout.csv")
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}

	b := testenv.Browser(t)
	p := &page{t: t, ctx: b}
	p.do("open the portal", chromedp.Navigate(env["VAULT_URL"]+"/portal/#/t/-/d/"+d.ID))
	p.do("sign in", testenv.Press(`main button`))
	p.do("pick the uploader", testenv.Press(`form:has(input[value="alice@demo.example"]) button`))
	p.waitText("Upload a document")

	// Storage's connection drops on part 2.
	tctx, cancel := context.WithCancel(b)
	go func() {
		for ev, err := range chromedp.Events(tctx, fetch.RequestPaused) {
			if err != nil {
				return
			}
			chromedp.Call(tctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonConnectionReset})
		}
	}()
	if _, err := chromedp.Call(b, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: env["VAULT_S3_ENDPOINT"] + "/*partNumber=2*"}}}); err != nil {
		t.Fatal(err)
	}
	p.do("choose the file", chromedp.SetUploadFiles(chromedp.CSS(`#f-file`), []string{file}))
	p.do("set the path", chromedp.Evaluate[chromedp.Void](`document.getElementById("f-path").value = "validation/holdout.csv"`))
	p.typeInto("#f-title", "Hold-out test set")
	p.pick("#f-kind", "test-report")
	p.pick("#f-section", "MDR-II-6")
	p.do("set the date", chromedp.SetValue(chromedp.CSS(`#f-effectiveDate`), "2026-11-02"))
	p.typeInto("#f-author", "Data team")
	p.do("upload", testenv.Press(`form[aria-label="Upload a document"] button[type=submit]`))
	p.waitText("upload the same file again to resume")
	uploadID, err := chromedp.Run(b, chromedp.Evaluate[string](`Object.entries(localStorage).filter(([k]) => k.startsWith("evidencevault.upload:")).map(([, v]) => JSON.parse(v).uploadId).join(",")`))
	if err != nil || !strings.HasPrefix(uploadID, "upl_") || strings.Contains(uploadID, ",") {
		t.Fatalf("the page kept upload %q for resuming: %v", uploadID, err)
	}
	st, err := c.UploadStatus(ctx, uploadID)
	if err != nil || st.State != "open" || len(st.Parts) == 0 {
		t.Fatalf("before the reload, storage holds %+v (%v): want an open upload with part 1", st, err)
	}
	cancel()
	if _, err := chromedp.Call(b, fetch.Disable, struct{}{}); err != nil {
		t.Fatal(err)
	}

	p.do("reload", chromedp.Reload())
	p.waitText("Upload a document")
	p.do("choose the file again", chromedp.SetUploadFiles(chromedp.CSS(`#f-file`), []string{file}))
	p.waitText("An upload of this file was interrupted")
	if got, _ := chromedp.Run(b, chromedp.Value(chromedp.CSS(`#f-title`))); got != "Hold-out test set" {
		t.Errorf("after the reload the title is %q, not the one given before", got)
	}
	p.do("upload again", testenv.Press(`form[aria-label="Upload a document"] button[type=submit]`))
	p.waitText("Sealed version 1 of validation/holdout.csv")
	vs, err := c.Versions(ctx, d.ID, "validation/holdout.csv")
	if err != nil || len(vs) != 1 || vs[0].UploadID != uploadID || vs[0].Size != int64(len(content)) {
		t.Fatalf("versions after the resumed upload: %+v (%v); want one, of upload %s, %d bytes", vs, err, uploadID, len(content))
	}

	// And it downloads verified.
	saved := t.TempDir()
	if _, err := chromedp.Call(b, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: saved}); err != nil {
		t.Fatal(err)
	}
	p.do("download", testenv.Press(`td button`))
	p.waitText("Verified and saved as holdout.csv")
	if got := waitFile(t, filepath.Join(saved, "holdout.csv"), len(content)); !bytes.Equal(got, content) {
		t.Error("the saved file is not the uploaded one")
	}
}
