package evault_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/evidencevault/vault/internal/evault"
	"github.com/evidencevault/vault/internal/testenv"
)

var signInURL = regexp.MustCompile(`https?://\S+/authorize\?\S+`)

// TestLogin: evault login against the local stack's provider, the test
// playing the browser: the kept token is used by later commands, kept
// readable by its owner only, refreshed once expired, and forgotten by
// logout.
func TestLogin(t *testing.T) {
	dir := t.TempDir()
	env, _, _ := testenv.LocalStack(t, dir)
	config := t.TempDir()
	run := func(stderr io.Writer, args ...string) (int, string) {
		var out bytes.Buffer
		m := &evault.Main{Stdout: &out, Stderr: stderr, Getenv: func(string) string { return "" }, Dir: dir, ConfigDir: config}
		return m.Run(context.Background(), args), out.String()
	}

	stderr := &testenv.LockedBuffer{}
	type result struct {
		code int
		out  string
	}
	done := make(chan result, 1)
	go func() {
		code, out := run(stderr, "login", "--no-browser")
		done <- result{code, out}
	}()
	var authURL string
	for deadline := time.Now().Add(20 * time.Second); authURL == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		authURL = signInURL.FindString(stderr.String())
	}
	if authURL == "" {
		t.Fatalf("login printed no sign-in URL:\n%s", stderr.String())
	}
	u, _ := url.Parse(authURL)
	if q := u.Query(); q.Get("code_challenge_method") != "S256" || !strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:") {
		t.Errorf("authorization request: got %v, want PKCE S256 and a loopback redirect", q)
	}
	// The browser: the sign-in page, the auditor's button, the redirect
	// back to evault's loopback listener.
	form := u.Query()
	form.Set("user", "auditor@nb0197.example")
	resp, err := http.PostForm(u.Scheme+"://"+u.Host+u.Path, form)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Signed in") {
		t.Errorf("redirect to evault: got %d %s", resp.StatusCode, page)
	}
	res := <-done
	if res.code != 0 || !strings.Contains(res.out, "as auditor@nb0197.example, auditor") {
		t.Fatalf("login: exit %d\n%s%s", res.code, res.out, stderr.String())
	}

	tokens := filepath.Join(config, "evault", "tokens.json")
	if fi, err := os.Stat(tokens); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("tokens file: %v, %v; want mode 0600", fi, err)
	}
	whoami := func() string {
		t.Helper()
		code, out := run(io.Discard, "me", "--json")
		if code != 0 {
			t.Fatalf("me: exit %d %s", code, out)
		}
		var me struct{ Identity struct{ Subject string } }
		json.Unmarshal([]byte(out), &me)
		return me.Identity.Subject
	}
	if got := whoami(); got != "auditor@nb0197.example" {
		t.Errorf("me after login: got %q, want the signed-in auditor", got)
	}

	// Expired: the next command refreshes it and keeps the new one.
	var kept map[string]map[string]any
	data, _ := os.ReadFile(tokens)
	json.Unmarshal(data, &kept)
	before := kept[env["VAULT_URL"]]["idToken"]
	kept[env["VAULT_URL"]]["expiry"] = time.Now().Add(-time.Hour).Format(time.RFC3339)
	data, _ = json.Marshal(kept)
	os.WriteFile(tokens, data, 0o600)
	if got := whoami(); got != "auditor@nb0197.example" {
		t.Errorf("me with an expired token: got %q, want the auditor, refreshed", got)
	}
	data, _ = os.ReadFile(tokens)
	json.Unmarshal(data, &kept)
	if after := kept[env["VAULT_URL"]]; after["idToken"] == before || after["expiry"].(string) < time.Now().Format(time.RFC3339) {
		t.Errorf("the refreshed token was not kept: %v", after)
	}

	// Logout: the local stack's demo uploader again.
	if code, out := run(io.Discard, "logout"); code != 0 {
		t.Fatalf("logout: exit %d %s", code, out)
	}
	if got := whoami(); got != "alice@demo.example" {
		t.Errorf("me after logout: got %q, want the demo uploader of .local/env", got)
	}
}

// TestLoginInABrowser: evault login on make run's stack, the sign-in done
// by a person in Chromium: the provider's page, the auditor's button, and
// the redirect back to evault's loopback listener.
func TestLoginInABrowser(t *testing.T) {
	dir := t.TempDir()
	testenv.LocalStack(t, dir)
	config := t.TempDir()
	stderr := &testenv.LockedBuffer{}
	done := make(chan int, 1)
	go func() {
		m := &evault.Main{Stdout: io.Discard, Stderr: stderr, Getenv: func(string) string { return "" }, Dir: dir, ConfigDir: config}
		done <- m.Run(context.Background(), []string{"login", "--no-browser"})
	}()
	var authURL string
	for deadline := time.Now().Add(20 * time.Second); authURL == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		authURL = signInURL.FindString(stderr.String())
	}
	if authURL == "" {
		t.Fatalf("login printed no sign-in URL:\n%s", stderr.String())
	}
	ctx := testenv.Browser(t)
	var page string
	for _, step := range []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(authURL),
		chromedp.Click(chromedp.CSS(`form:has(input[value="auditor@nb0197.example"]) button`)),
		// The click navigates to evault's listener: wait through it.
		chromedp.Poll[chromedp.Void](`document.body.innerText.includes("Signed in")`),
	} {
		if err := testenv.Settled(ctx, step); err != nil {
			t.Fatalf("browser: %v\n%s", err, stderr.String())
		}
	}
	var err error
	if page, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`body`))); err != nil || !strings.Contains(page, "Signed in to Evidence Vault") {
		t.Errorf("the page after sign-in: %q, %v", page, err)
	}
	if code := <-done; code != 0 {
		t.Fatalf("login: exit %d\n%s", code, stderr.String())
	}
	var kept map[string]struct{ IDToken string }
	data, _ := os.ReadFile(filepath.Join(config, "evault", "tokens.json"))
	if json.Unmarshal(data, &kept) != nil || len(kept) != 1 {
		t.Errorf("tokens kept: %s", data)
	}
}
