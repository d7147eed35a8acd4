package testenv

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser returns a context of a fresh headless Chromium tab: Debian's
// chromium, from CHROMIUM_BIN (make test sets it with scripts/chromium.sh)
// or /usr/bin/chromium. A test that needs a browser fails without one; it
// never skips. What the test does in it must finish within 2 minutes.
func Browser(t testing.TB) context.Context {
	t.Helper()
	return BrowserWithin(t, 2*time.Minute)
}

// BrowserWithin is Browser for a test that needs the tab for up to d, such
// as a benchmark.
func BrowserWithin(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	bin := os.Getenv("CHROMIUM_BIN")
	if bin == "" {
		bin = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(bin); err != nil {
		t.Fatalf("no Chromium at %s (run scripts/chromium.sh, or make test): %v", bin, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900), // a laptop's, for the layout and screenshots
		chromedp.UserDataDir(t.TempDir()),
		// This machine's network is closed: without these Chromium keeps
		// trying Google's hosts in the background.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to sandbox as root
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(actx)
	// The first run starts the browser, which lives as long as its
	// context: no timeout on that one, one on what the test does after.
	if err := chromedp.Do(tab); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start Chromium %s: %v", bin, err)
	}
	ctx, cancelTime := context.WithTimeout(tab, d)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	return ctx
}
