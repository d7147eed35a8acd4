package devstack_test

import (
	"bytes"
	"context"
	"github.com/evidencevault/vault/internal/tsa"
	"github.com/evidencevault/vault/internal/witnessing"
	"golang.org/x/mod/sumdb/note"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/evidencevault/vault/internal/bundle"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

// TestPortalUploadAndVerifiedDownload: a startup's uploader, in headless
// Chromium, creates a dossier and uploads a document through the forms
// (each refusal shown beside its field), sees the version sealed, and
// downloads it verified; then a download whose bytes are altered in
// transit is refused, named, and not saved.
func TestPortalUploadAndVerifiedDownload(t *testing.T) {
	env, _, stop := testenv.LocalStack(t, t.TempDir())
	defer stop()
	ctx := testenv.Browser(t)
	p := &page{t: t, ctx: ctx}
	saved := t.TempDir()
	if _, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: saved, EventsEnabled: ptrTo(true)}); err != nil {
		t.Fatal(err)
	}

	p.do("open the portal", chromedp.Navigate(env["VAULT_URL"]+"/portal/"))
	p.do("sign in", testenv.Press(`main button`))
	p.do("pick the uploader", testenv.Press(`form:has(input[value="alice@demo.example"]) button`))
	p.waitText("Dossiers of demo")
	p.shot("portal-dossiers")

	// A dossier: first with a Basic UDI-DI whose check characters are
	// wrong, refused beside that field; then right.
	p.typeInto("#f-name", "CardioScan AI")
	p.typeInto("#f-basicUdiDi", "1987654Ad4X4bL5ttr2310c2X")
	p.typeInto("#f-riskClass", "IIa")
	p.typeInto("#f-notifiedBody", "0197")
	p.do("tick high-risk AI", chromedp.Click(chromedp.CSS(`#f-highRiskAi`)))
	p.do("create", testenv.Press(`form[aria-label="New dossier"] button[type=submit]`))
	p.waitJS(`document.getElementById("f-basicUdiDi").getAttribute("aria-invalid") === "true" && document.getElementById("f-basicUdiDi-problem").textContent.length > 0`)
	if got := p.text(`#f-name-problem`); got != "" {
		t.Errorf("the name was fine, but its field says %q", got)
	}
	p.do("clear the UDI-DI", chromedp.Evaluate[chromedp.Void](`document.getElementById("f-basicUdiDi").value = ""`))
	p.typeInto("#f-basicUdiDi", "1987654Ad4X4bL5ttr2310c2K")
	p.do("create again", testenv.Press(`form[aria-label="New dossier"] button[type=submit]`))
	p.waitJS(`document.querySelector("nav[aria-label=\"Annex sections\"]")?.innerText.includes("AIA-IV-9")`) // a high-risk AI dossier: AI Act Annex IV too

	// A document: without a title, refused beside it; then sealed.
	content := bytes.Repeat([]byte("Clinical evaluation report, CardioScan AI. "), 3000)
	file := filepath.Join(t.TempDir(), "cer.pdf")
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	p.do("choose the file", chromedp.SetUploadFiles(chromedp.CSS(`#f-file`), []string{file}))
	p.waitJS(`document.getElementById("f-path").value === "cer.pdf"`)
	p.do("set the path", chromedp.SetValue(chromedp.CSS(`#f-path`), "clinical/cer.pdf"))
	p.pick("#f-kind", "clinical-evidence")
	p.pick("#f-section", "MDR-II-6.1")
	p.do("set the date", chromedp.SetValue(chromedp.CSS(`#f-effectiveDate`), "2026-11-02"))
	p.typeInto("#f-author", "Dr. A. Meyer")
	p.do("upload without a title", testenv.Press(`form[aria-label="Upload a document"] button[type=submit]`))
	p.waitJS(`document.getElementById("f-title-problem").textContent.includes("required")`)
	p.typeInto("#f-title", "Clinical evaluation report")
	p.do("upload", testenv.Press(`form[aria-label="Upload a document"] button[type=submit]`))
	p.waitText("Sealed version 1 of clinical/cer.pdf")
	for _, want := range []string{"✔ passed signature", "✔ passed timestamp: a timestamp by", "✔ passed log_inclusion", "✔ passed witnessed", "✔ passed file_digest", "Retained until", "an RFC 3161 timestamp by", "Witnessed by"} {
		if page := p.text("body"); !strings.Contains(page, want) {
			t.Errorf("after sealing, the page lacks %q:\n%s", want, page)
		}
	}
	p.shot("portal-upload")

	// The version, downloaded and verified before it is saved.
	p.waitText("Download clinical/cer.pdf verified")
	p.do("download", testenv.Press(`button[aria-label="Download clinical/cer.pdf verified"], td button`))
	p.waitText("Verified and saved as cer.pdf")
	got := waitFile(t, filepath.Join(saved, "cer.pdf"), len(content))
	if !bytes.Equal(got, content) {
		t.Errorf("saved %d bytes, not the %d uploaded", len(got), len(content))
	}
	for _, want := range []string{"✔ passed key_known", "✔ passed signature", "✔ passed timestamp: a timestamp by", "✔ passed log_inclusion", "✔ passed witnessed", "✔ passed file_digest", "✔ passed requested_version", "✔ passed log_consistent", "Uploaded by", "alice@demo.example", "an RFC 3161 timestamp by CN=Evidence Vault development TSA", "Witnessed by", "witness.evidencevault.dev"} {
		if page := p.text("body"); !strings.Contains(page, want) {
			t.Errorf("after the download, the page lacks %q", want)
		}
	}
	p.shot("portal-verified-download")

	// Now storage's answer is altered on its way: one byte flipped.
	var mu sync.Mutex
	var altered int
	tctx, cancelTamper := context.WithCancel(ctx)
	go func() {
		for ev, err := range chromedp.Events(tctx, fetch.RequestPaused) {
			if err != nil {
				return
			}
			body, err := chromedp.Call(tctx, fetch.GetResponseBody, fetch.GetResponseBodyParams{RequestID: ev.RequestID})
			if err != nil {
				chromedp.Call(tctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
				continue
			}
			data := slices.Clone(body.Body)
			data[len(data)/2] ^= 0x01
			mu.Lock()
			altered++
			mu.Unlock()
			chromedp.Call(tctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: ev.ResponseStatusCode, ResponseHeaders: ev.ResponseHeaders, Body: data})
		}
	}()
	defer cancelTamper()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: env["VAULT_S3_ENDPOINT"] + "/*", RequestStage: fetch.RequestStageResponse}}}); err != nil {
		t.Fatal(err)
	}
	before := dirNames(t, saved)
	p.do("download the altered bytes", testenv.Press(`td button`))
	p.waitText("failed verification and was not saved: file_digest")
	mu.Lock()
	if altered == 0 {
		t.Error("no response was altered: the test proves nothing")
	}
	mu.Unlock()
	if page := p.text("body"); !strings.Contains(page, "✘ FAILED file_digest") || strings.Contains(page, "Verified and saved") {
		t.Errorf("after the altered download, the page says:\n%s", page)
	}
	p.shot("portal-refused-download")
	time.Sleep(time.Second) // a download the page started would have begun by now
	if after := dirNames(t, saved); !slices.Equal(before, after) {
		t.Errorf("the downloads folder changed from %v to %v: the altered bytes were saved", before, after)
	}
	// Nor are they left in the browser's private storage.
	left, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(async () => { let n = 0; const d = await navigator.storage.getDirectory(); for await (const k of d.keys()) n++; return n; })()`, chromedp.EvalAwaitPromise))
	if err != nil || left > 1 {
		t.Errorf("the origin-private file system holds %d files after the refusal (want at most the 1 verified download): %v", left, err)
	}
}

// page drives the portal in one tab.
type page struct {
	t   *testing.T
	ctx context.Context
}

func (p *page) do(name string, a chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := testenv.Settled(p.ctx, a); err != nil {
		p.t.Fatalf("%s: %v\n%s", name, err, p.text("body"))
	}
}

func (p *page) text(sel string) string {
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// typeInto types into a labelled field, as a keyboard user does.
func (p *page) typeInto(sel, text string) {
	p.t.Helper()
	p.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// pick chooses an option of a select and tells the page.
func (p *page) pick(sel, value string) {
	p.t.Helper()
	p.do("pick "+value, chromedp.Steps(chromedp.SetValue(chromedp.CSS(sel), value),
		chromedp.Evaluate[chromedp.Void](`document.querySelector(`+"`"+sel+"`"+`).dispatchEvent(new Event("change"))`)))
}

func (p *page) waitText(s string) {
	p.t.Helper()
	p.waitJS(`document.body.innerText.includes(` + jsString(s) + `)`)
}

func (p *page) waitJS(expr string) {
	p.t.Helper()
	p.do("wait for "+expr, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(90*time.Second)))
}

// shot saves a screenshot of the page as docs/img/NAME.png when
// PORTAL_SCREENSHOTS names a folder (make screenshots).
func (p *page) shot(name string) {
	dir := os.Getenv("PORTAL_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
	if err != nil {
		p.t.Errorf("screenshot %s: %v", name, err)
	}
}

func jsString(s string) string {
	return "`" + strings.NewReplacer("`", "\\`", "\\", "\\\\", "${", "\\${").Replace(s) + "`"
}

func ptrTo[T any](v T) *T { return &v }

// waitFile waits for the browser to finish saving a file of size bytes.
func waitFile(t *testing.T, path string, size int) []byte {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, err := os.ReadFile(path)
		if err == nil && len(data) == size {
			return data
		}
		if time.Now().After(deadline) {
			t.Fatalf("the browser saved no %s of %d bytes (%d bytes, %v); the folder holds %v", path, size, len(data), err, dirNames(t, filepath.Dir(path)))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// savedBundle waits for the dossier's ZIP the portal saved into saved and
// verifies it offline, from the stack's signing key, requiring it to prove
// it holds the whole dossier.
// savedBundle verifies the bundle the portal saved as an auditor would
// with verify-bundle: the vault's key, the whole dossier, a timestamp by
// the stack's authority on every receipt and its witness's cosignature.
func savedBundle(t *testing.T, env map[string]string, stackDir, saved, dossier string) (*bundle.Report, fs.FS) {
	t.Helper()
	zip := filepath.Join(saved, dossier+".zip")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if fi, err := os.Stat(zip); err == nil && fi.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s saved; the folder holds %v", zip, dirNames(t, saved))
		}
	}
	time.Sleep(500 * time.Millisecond) // the browser renames the file once complete
	keyPEM, _ := os.ReadFile(filepath.Join(stackDir, ".local", "signing-key.pem"))
	signer, err := receipt.NewLocalSigner(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	fsys, closer, err := bundle.Open(zip)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closer.Close() })
	rootPEM, err := os.ReadFile(env["VAULT_TSA_ROOTS_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	roots, err := tsa.ParseCertificates(rootPEM)
	if err != nil {
		t.Fatal(err)
	}
	witness, err := witnessing.ParseVerifier(env["VAULT_WITNESS_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	policy := vault.Policy{RequireComplete: true, Stamps: &tsa.Trust{Roots: roots}, RequireStamp: true,
		Witnesses: &witnessing.Policy{Witnesses: []note.Verifier{witness}, Quorum: 1}}
	return bundle.Verify(context.Background(), fsys, []receipt.Key{signer.Key()}, nil, policy), fsys
}
