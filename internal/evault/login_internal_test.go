package evault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/devoidc"
	"github.com/evidencevault/vault/internal/vault"
)

// TestRedirectMustBeLoopback: the redirect URI comes from the vault's
// unauthenticated /v1/auth/config; evault only ever has the code sent
// back to this machine (RFC 8252 7.3).
func TestRedirectMustBeLoopback(t *testing.T) {
	tests := []struct {
		uri string
		ok  bool
	}{
		{"http://localhost:18473/callback", true},
		{"http://127.0.0.1:18474/callback", true},
		{"http://callback.attacker.example:18475/callback", false},
		{"http://10.0.0.1:18476/callback", false},
		{"http://localhost.attacker.example:18477/callback", false},
		{"http://user@localhost:18478/callback", false},
		{"https://localhost:18479/callback", false},
		{"http://localhost:18480/callback?next=x", false},
	}
	for _, tt := range tests {
		ln, redirect, err := listenLoopback(tt.uri)
		if err == nil {
			ln.Close()
			if redirect != tt.uri {
				t.Errorf("%s: got redirect %s", tt.uri, redirect)
			}
		}
		if (err == nil) != tt.ok {
			t.Errorf("%s: got error %v, want taken: %v", tt.uri, err, tt.ok)
		}
	}
}

// oidcServer is make run's provider on a test server.
func oidcServer(t *testing.T, users []devoidc.User) string {
	t.Helper()
	var p *devoidc.Provider
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.Handler().ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	var err error
	if p, err = devoidc.New(srv.URL, "evault", users); err != nil {
		t.Fatal(err)
	}
	return srv.URL
}

var nora = []devoidc.User{{Subject: "nora", Name: "Nora", Email: "nora@nb.example", Role: vault.RoleAuditor}}

// signInOnce runs the code flow with PKCE by hand and returns the tokens.
func signInOnce(t *testing.T, issuer, user string) (idToken, refresh string) {
	t.Helper()
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	redirect := "http://127.0.0.1:1/callback"
	form := url.Values{"client_id": {"evault"}, "redirect_uri": {redirect}, "response_type": {"code"}, "state": {"s"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "user": {user}, "scope": {"openid"}}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(issuer+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	resp, err = http.PostForm(issuer+"/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"evault"},
		"code": {loc.Query().Get("code")}, "redirect_uri": {redirect}, "code_verifier": {verifier}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		ID      string `json:"id_token"`
		Refresh string `json:"refresh_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	if tok.ID == "" || tok.Refresh == "" {
		t.Fatalf("sign-in: status %d", resp.StatusCode)
	}
	return tok.ID, tok.Refresh
}

// TestProcessesRefreshInTurn: evault processes started together on one
// expired sign-in (a script's parallel downloads) refresh it once: the
// others use the sign-in the first kept, rather than spending the refresh
// token the provider has rotated. Each is a process of its own (this test
// binary again), as they would be.
func TestProcessesRefreshInTurn(t *testing.T) {
	issuer := oidcServer(t, nora)
	id, rt := signInOnce(t, issuer, "nora")
	config := t.TempDir()
	api := "https://vault.example"
	a := &app{main: &Main{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }, ConfigDir: config}}
	if err := a.tokens().keep(api, keptToken{Issuer: issuer, ClientID: "evault", IDToken: id, RefreshToken: rt, Expiry: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(time.Second).Format(time.RFC3339Nano)
	cmds := make([]*exec.Cmd, 4)
	outs := make([]*bytes.Buffer, len(cmds))
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestRefreshProcess$")
		cmds[i].Env = append(os.Environ(), "EVAULT_REFRESH_PROCESS="+config+"\n"+api+"\n"+start)
		outs[i] = &bytes.Buffer{}
		cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	tokens := map[string]bool{}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, outs[i])
			continue
		}
		tok, _, _ := strings.Cut(outs[i].String(), "\n")
		tokens[strings.TrimPrefix(tok, "token ")] = true
	}
	if len(tokens) != 1 {
		t.Errorf("got %d different tokens from %d processes, want one refresh", len(tokens), len(cmds))
	}
}

// TestRefreshProcess is one evault process of TestProcessesRefreshInTurn.
func TestRefreshProcess(t *testing.T) {
	env := os.Getenv("EVAULT_REFRESH_PROCESS")
	if env == "" {
		return // run by TestProcessesRefreshInTurn only
	}
	parts := strings.Split(env, "\n")
	a := &app{main: &Main{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }, ConfigDir: parts[0]}}
	kept, ok := a.tokens().get(parts[1])
	if !ok {
		t.Fatal("no kept sign-in")
	}
	start, _ := time.Parse(time.RFC3339Nano, parts[2])
	time.Sleep(time.Until(start))
	tok, err := a.signedIn(parts[1], kept)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("token %s\n", tok)
}

var authURLPattern = regexp.MustCompile(`https?://\S+/authorize\?\S+`)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestStrayCallbackIsIgnored: any page or local process can call the
// loopback callback; one whose state is not this login's is refused and
// the login waits on for the provider's answer.
func TestStrayCallbackIsIgnored(t *testing.T) {
	issuer := oidcServer(t, nora)
	apiSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/auth/config":
			json.NewEncoder(w).Encode(vault.SignIn{Issuer: issuer, ClientID: "evault", Scopes: []string{"openid"}})
		case "/v1/me":
			w.Write([]byte(`{"identity":{"subject":"nora","role":"auditor"},"grants":[]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer apiSrv.Close()
	stderr := &lockedBuf{}
	a := &app{main: &Main{Stdout: &bytes.Buffer{}, Stderr: stderr, Getenv: func(string) string { return "" }, ConfigDir: t.TempDir()}, api: apiSrv.URL, timeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- a.login(context.Background(), true) }()
	var authURL string
	for deadline := time.Now().Add(10 * time.Second); authURL == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		authURL = authURLPattern.FindString(stderr.String())
	}
	if authURL == "" {
		t.Fatalf("no sign-in URL:\n%s", stderr.String())
	}
	u, _ := url.Parse(authURL)
	redirect := u.Query().Get("redirect_uri")
	resp, err := http.Get(redirect + "?state=not-yours&code=junk")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a stray callback: got %d, want 400", resp.StatusCode)
	}
	form := u.Query()
	form.Set("user", "nora")
	resp, err = http.PostForm(u.Scheme+"://"+u.Host+u.Path, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("login after a stray callback: %v; want the real sign-in to complete", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("login did not finish")
	}
}
