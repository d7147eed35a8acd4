package testenv

import (
	"context"
	"os"
	"os/exec"
	"strings"
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

// Settled runs a browser step, again while the page is navigating under
// it (a sign-in goes through the provider and back), for up to 20
// seconds.
func Settled(ctx context.Context, step chromedp.Action[chromedp.Void]) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := chromedp.Do(ctx, step)
		if err == nil || !Navigated(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Navigated reports an error of a page changing under a step: it
// navigated, or rendered the node again.
func Navigated(err error) bool {
	for _, s := range []string{"navigated or closed", "No node with given id", "Cannot find context with specified id"} {
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}

// Press presses Enter on the control sel, as a keyboard user does: each
// control is labelled and takes focus. The page may render the control
// again between finding and focusing it (Settled), and the key press may
// navigate away before it is answered.
func Press(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if err := Settled(ctx, chromedp.Steps(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Focus(chromedp.CSS(sel)))); err != nil {
			return err
		}
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil && !Navigated(err) {
			return err
		}
		return nil
	})
}
