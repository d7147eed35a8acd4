package bench_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/evidencevault/vault/client"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

// The portal's figures (issue 14), in headless Chromium against the local
// stack, each beside its baseline in the same run:
//   - verifying a 1 GiB file in hand against its receipt (the portal's
//     verify page: the worker's streaming SHA-256, the receipt, the log)
//     beside openssl dgst -sha256 of the same file: target at least
//     0.5x; with the worker's hash alone, a verified download of the
//     file, and reading it into the page alone, for comparison; and the
//     ceiling: the browser's own SHA-256 over bytes already in memory,
//     beside openssl without the CPU's SHA instructions;
//   - the portal's first load (bytes transferred, time until its sign-in
//     control is ready) beside a lone request for one of its files.

// portalStack starts the local stack and makes a dossier in it, as its
// uploader.
func portalStack(b *testing.B) (map[string]string, *client.Client, vault.Dossier) {
	b.Helper()
	env, _, stop := testenv.LocalStack(b, b.TempDir())
	b.Cleanup(func() { stop() })
	c, err := client.New(env["VAULT_URL"], env["VAULT_UPLOADER_TOKEN"], nil)
	if err != nil {
		b.Fatal(err)
	}
	no := false
	d, err := c.CreateDossier(context.Background(), vault.DossierInput{Name: "Bench", BasicUDIDI: "1987654Ad4X4bL5ttr2310c2K", Regulation: "MDR", RiskClass: "IIa", Implantable: &no, HighRiskAI: &no, NotifiedBody: "0197"})
	if err != nil {
		b.Fatal(err)
	}
	return env, c, d
}

func BenchmarkPortalVerify1GiB(b *testing.B) {
	env, c, d := portalStack(b)
	path, _ := file(b, 1<<30)
	doc := document("imaging/verify-1g.dcm")
	prep, err := c.PrepareFile(context.Background(), d.ID, &doc, path, client.UploadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Upload(context.Background(), prep); err != nil {
		b.Fatal(err)
	}
	// The browser, signed in as the uploader (the token put where the
	// page keeps it).
	ctx := testenv.BrowserWithin(b, 15*time.Minute)
	saved := b.TempDir()
	if _, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: saved}); err != nil {
		b.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(env["VAULT_URL"]+"/portal/"),
		chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem("idToken", `+"`"+env["VAULT_UPLOADER_TOKEN"]+"`"+`); location.hash = "/t/-/d/`+d.ID+`"`),
		chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`td button`))); err != nil {
		b.Fatal(err)
	}
	dl, err := c.Download(context.Background(), d.ID, doc.Path, 0)
	if err != nil {
		b.Fatal(err)
	}
	rcpt := filepath.Join(b.TempDir(), "verify-1g.dcm.receipt.json")
	os.WriteFile(rcpt, dl.Receipt, 0o644)
	// ms runs a page expression that resolves to milliseconds.
	ms := func(expr string) time.Duration {
		b.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](expr, chromedp.EvalAwaitPromise))
		if err != nil {
			b.Fatal(err)
		}
		return time.Duration(v * float64(time.Millisecond))
	}
	until := func(done, failed string) string {
		// Watched by a MutationObserver, not by polling the page's text:
		// polling would take the page's thread from the work measured.
		return `new Promise((resolve, reject) => {
			const t0 = performance.now();
			const seen = () => {
				const text = document.body.textContent;
				if (text.includes(` + "`" + done + "`" + `)) { o.disconnect(); resolve(performance.now() - t0); }
				if (text.includes(` + "`" + failed + "`" + `) || text.includes("Something went wrong")) { o.disconnect(); reject(new Error(text)); }
			};
			const o = new MutationObserver(seen);
			o.observe(document.body, { childList: true, subtree: true, characterData: true });
			go();
		})`
	}
	inHand := func() time.Duration {
		b.Helper()
		// A fresh page: what the runs before left in its memory is not
		// this run's to collect.
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`location.hash = "/t/-/verify"`), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#verify-file`)),
			chromedp.SetUploadFiles(chromedp.CSS(`#verify-file`), []string{path}), chromedp.SetUploadFiles(chromedp.CSS(`#verify-receipt`), []string{rcpt})); err != nil {
			b.Fatal(err)
		}
		return ms(strings.Replace(until("VALID: ", "NOT VALID"), "go();", `document.querySelector("form[aria-label='Verify a file'] button").click();`, 1))
	}
	streaming := func() time.Duration {
		b.Helper()
		return ms(`new Promise((resolve, reject) => {
			const w = new Worker("/portal/hash.worker.js");
			const t0 = performance.now();
			w.onmessage = (e) => { if (e.data.done) { w.terminate(); e.data.done.sha256 === "` + doc.File.SHA256 + `" ? resolve(performance.now() - t0) : reject(new Error("wrong digest")); } if (e.data.error) reject(new Error(e.data.error)); };
			w.postMessage({ op: "hash", file: document.getElementById("verify-file").files[0], inMemory: false });
		})`)
	}
	// The floor under any in-page hash: reading the file into the page,
	// hashing nothing.
	readOnly := func() time.Duration {
		b.Helper()
		return ms(`(async () => {
			const t0 = performance.now();
			const r = document.getElementById("verify-file").files[0].stream().getReader();
			for (;;) { const { done } = await r.read(); if (done) break; }
			return performance.now() - t0;
		})()`)
	}
	// The ceiling over any in-page hash: the browser's own SHA-256
	// (WebCrypto) over 1 GiB already in memory, in 64 MiB pieces, reading
	// nothing. A streaming SHA-256 in the page can be no faster than this.
	nativeHash := func() time.Duration {
		b.Helper()
		return ms(`(async () => {
			const buf = new Uint8Array(64 << 20);
			crypto.getRandomValues(buf.subarray(0, 65536));
			const t0 = performance.now();
			for (let i = 0; i < 16; i++) await crypto.subtle.digest("SHA-256", buf);
			return performance.now() - t0;
		})()`)
	}
	download := func() time.Duration {
		b.Helper()
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`location.hash = "/t/-/d/`+d.ID+`"`), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`td button`))); err != nil {
			b.Fatal(err)
		}
		t := ms(strings.Replace(until("Verified and saved", "failed verification"), "go();", `document.querySelector("td button").click();`, 1))
		os.RemoveAll(saved)
		os.MkdirAll(saved, 0o755)
		return t
	}
	timeRun := func(name string, args ...string) time.Duration {
		start := time.Now()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%s", name, err, out)
		}
		return time.Since(start)
	}
	timeRun("cat", path)
	// The best of 3 alternating runs each.
	best := func(have *time.Duration, t time.Duration) {
		if *have == 0 || t < *have {
			*have = t
		}
	}
	// openssl again without the CPU's SHA instructions (OpenSSL's own
	// switch): what SHA-256 costs in software, which is all a page has.
	noSHANI := func() time.Duration {
		return timeRun("env", "OPENSSL_ia32cap=:~0x20000000", "openssl", "dgst", "-sha256", path)
	}
	var ossl, osslSoft, native, portal, read, stream, down time.Duration
	for range 3 {
		best(&ossl, timeRun("openssl", "dgst", "-sha256", path))
		best(&osslSoft, noSHANI())
		best(&native, nativeHash())
		best(&portal, inHand())
		best(&read, readOnly())
		best(&stream, streaming())
		best(&down, download())
	}
	b.ReportMetric(mbps(1<<30, ossl), "openssl-MB/s")
	b.ReportMetric(mbps(1<<30, portal), "portal-MB/s")
	b.ReportMetric(ossl.Seconds()/portal.Seconds(), "verify-ratio")
	b.ReportMetric(mbps(1<<30, osslSoft), "openssl-no-shani-MB/s")
	b.ReportMetric(mbps(1<<30, native), "webcrypto-MB/s")
	b.ReportMetric(ossl.Seconds()/native.Seconds(), "ceiling-ratio")
	b.ReportMetric(mbps(1<<30, read), "page-read-MB/s")
	b.ReportMetric(mbps(1<<30, stream), "streaming-hash-MB/s")
	b.ReportMetric(mbps(1<<30, down), "download-MB/s")
	b.Logf("1 GiB: openssl dgst -sha256 %v (%.0f MB/s), %v without SHA instructions (%.0f MB/s); the browser's WebCrypto over 1 GiB in memory %v (%.0f MB/s, %.2fx: the ceiling); the portal verifying the file in hand %v (%.0f MB/s, %.2fx); reading it into the page alone %v (%.0f MB/s); its streaming hash alone %v (%.0f MB/s); a verified download %v (%.0f MB/s)",
		ossl.Round(time.Millisecond), mbps(1<<30, ossl), osslSoft.Round(time.Millisecond), mbps(1<<30, osslSoft),
		native.Round(time.Millisecond), mbps(1<<30, native), ossl.Seconds()/native.Seconds(), portal.Round(time.Millisecond), mbps(1<<30, portal), ossl.Seconds()/portal.Seconds(),
		read.Round(time.Millisecond), mbps(1<<30, read),
		stream.Round(time.Millisecond), mbps(1<<30, stream), down.Round(time.Millisecond), mbps(1<<30, down))
}

// loadFigures is what one page load cost: bytes over the network
// (navigation and every resource, by Resource Timing's transferSize) and
// milliseconds from navigation start until ready (the sign-in button, or
// the page's first answer for the baseline).
type loadFigures struct {
	Bytes float64 `json:"bytes"`
	MS    float64 `json:"ms"`
}

const measureLoad = `new Promise((resolve) => {
	const done = () => {
		const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")];
		resolve({ bytes: entries.reduce((n, e) => n + (e.transferSize || 0), 0), ms: performance.now() });
	};
	const ready = () => (document.contentType !== "text/html" || document.querySelector("main button")) ? done() : setTimeout(ready, 5);
	ready();
})`

func BenchmarkPortalFirstLoad(b *testing.B) {
	env, _, _ := portalStack(b)
	load := func(url string) loadFigures {
		b.Helper()
		ctx := testenv.Browser(b) // a fresh profile: nothing cached
		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
			b.Fatal(err)
		}
		f, err := chromedp.Run(ctx, chromedp.Evaluate[loadFigures](measureLoad, chromedp.EvalAwaitPromise))
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	var base, portal loadFigures
	for i := range 3 {
		bl := load(env["VAULT_URL"] + "/portal/style.css")
		pl := load(env["VAULT_URL"] + "/portal/")
		if i == 0 || bl.MS < base.MS {
			base = bl
		}
		if i == 0 || pl.MS < portal.MS {
			portal = pl
		}
	}
	var static int64
	filepath.WalkDir("../portal/static", func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && filepath.Base(p)[0] != '.' {
			if fi, err := e.Info(); err == nil {
				static += fi.Size()
			}
		}
		return nil
	})
	b.ReportMetric(portal.Bytes, "first-load-bytes")
	b.ReportMetric(portal.MS, "interactive-ms")
	b.ReportMetric(base.MS, "one-file-ms")
	b.ReportMetric(float64(static), "static-bytes")
	b.Logf("first load: %.0f bytes transferred, interactive after %.0f ms; one file alone %.0f ms (%.0f bytes); the portal's files total %d bytes",
		portal.Bytes, portal.MS, base.MS, base.Bytes, static)
}
