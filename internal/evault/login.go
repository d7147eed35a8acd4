package evault

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/evidencevault/vault/client"
	"github.com/gofrs/flock"
	"github.com/spf13/cobra"
	"golang.org/x/oauth2"
)

// Sign-in: the authorization code flow with PKCE (RFC 7636) and a
// loopback redirect (RFC 8252), with golang.org/x/oauth2 for the flow and
// go-oidc for discovery and the ID token's check. Tokens are kept per API
// in evault/tokens.json (0600) and refreshed as they expire.

// loginTimeout bounds the wait for the browser's redirect.
const loginTimeout = 5 * time.Minute

func (a *app) loginCmd() *cobra.Command {
	var noBrowser bool
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in through the vault's provider in a browser; the token is kept and refreshed",
		Long: `login signs you in with the vault's sign-in provider (GET /v1/auth/config names
it): it prints a URL, opens it in your browser unless --no-browser, and waits for
the provider to redirect to this machine (127.0.0.1, or the loopback address the
vault registered). The ID token and refresh token are kept in
~/.config/evault/tokens.json, readable only by you, and used by every later
command for that API until you run evault logout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.login(cmd.Context(), noBrowser) },
	}
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "print the sign-in URL only")
	return cmd
}

func (a *app) logoutCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Forget the tokens kept for the vault's API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := a.apiURL()
			if err != nil {
				return err
			}
			if err := a.tokens().forget(api); err != nil {
				return err
			}
			return a.print(map[string]string{"api": api, "status": "signed out"}, func(w io.Writer) { fmt.Fprintf(w, "signed out of %s\n", api) })
		},
	}
}

func (a *app) login(ctx context.Context, noBrowser bool) error {
	api, err := a.apiURL()
	if err != nil {
		return err
	}
	anon, err := client.New(api, "", a.main.HTTP, client.Options{UserAgent: "evault/" + a.main.version(), Timeout: a.timeout})
	if err != nil {
		return exit(ExitUsage, "%v", err)
	}
	si, err := anon.SignIn(ctx)
	if err != nil {
		return err
	}
	octx := a.oauthContext(ctx)
	p, err := oidc.NewProvider(octx, si.Issuer)
	if err != nil {
		return fmt.Errorf("evault: sign-in provider %s: %w", si.Issuer, err)
	}
	ln, redirect, err := listenLoopback(si.RedirectURI)
	if err != nil {
		return err
	}
	defer ln.Close()
	conf := &oauth2.Config{ClientID: si.ClientID, Endpoint: p.Endpoint(), RedirectURL: redirect, Scopes: si.Scopes}
	verifier, state := oauth2.GenerateVerifier(), randomHex(16)
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))

	type result struct {
		code string
		err  error
	}
	done := make(chan result, 1)
	var once sync.Once
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if q.Get("state") != state {
			// Not this login's answer (any page or local process can
			// call a loopback port): refused, and the login waits on.
			http.Error(w, "this is not the answer of the sign-in evault is waiting for", http.StatusBadRequest)
			return
		}
		res := result{code: q.Get("code")}
		switch {
		case q.Get("error") != "":
			res.err = fmt.Errorf("the provider refused the sign-in: %s %s", q.Get("error"), q.Get("error_description"))
		case res.code == "":
			res.err = errors.New("the provider's answer carries no code")
		}
		if res.err != nil {
			http.Error(w, res.err.Error(), http.StatusBadRequest)
		} else {
			fmt.Fprintln(w, "Signed in to Evidence Vault. You can close this window and return to the terminal.")
		}
		once.Do(func() { done <- res })
	})}
	go srv.Serve(ln)
	defer srv.Close()

	fmt.Fprintf(a.main.Stderr, "Sign in at:\n\n  %s\n\nWaiting for the browser (%s)...\n", authURL, loginTimeout)
	if !noBrowser {
		openBrowser(authURL)
	}
	var res result
	select {
	case res = <-done:
	case <-time.After(loginTimeout):
		return exit(ExitAuth, "no sign-in within %s", loginTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
	if res.err != nil {
		return exit(ExitAuth, "%v", res.err)
	}
	tok, err := conf.Exchange(octx, res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return exit(ExitAuth, "sign-in: the provider refused the code: %v", err)
	}
	kept, err := keptFrom(ctx, p, si, tok)
	if err != nil {
		return err
	}
	if err := a.tokens().keep(api, kept); err != nil {
		return err
	}
	cl, err := client.New(api, kept.IDToken, a.main.HTTP, client.Options{UserAgent: "evault/" + a.main.version(), Timeout: a.timeout, Tenant: a.tenantName()})
	if err != nil {
		return err
	}
	me, err := cl.Me(ctx)
	if err != nil {
		return err
	}
	return a.print(me, func(w io.Writer) {
		fmt.Fprintf(w, "signed in to %s as %s, %s", api, me.Identity.Subject, me.Identity.Role)
		if me.Identity.Home != "" {
			fmt.Fprintf(w, " of tenant %s", me.Identity.Home)
		}
		fmt.Fprintln(w)
		printGrants(w, me.Grants)
	})
}

// oauthContext makes oauth2 and go-oidc use evault's HTTP client.
func (a *app) oauthContext(ctx context.Context) context.Context {
	if a.main.HTTP == nil {
		return ctx
	}
	return oidc.ClientContext(ctx, a.main.HTTP)
}

// listenLoopback listens where the provider redirects to: the registered
// loopback URI when the vault names one (providers such as Cognito take
// only exact callbacks), else any port of 127.0.0.1 (RFC 8252 7.3).
func listenLoopback(registered string) (net.Listener, string, error) {
	if registered == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, "", fmt.Errorf("evault: listen for the sign-in redirect: %w", err)
		}
		return ln, "http://" + ln.Addr().String() + "/callback", nil
	}
	u, err := url.Parse(registered)
	if err != nil || u.Scheme != "http" || u.Port() == "" || u.Path != "/callback" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, "", fmt.Errorf("evault: the vault's redirect URI %q is no loopback http://HOST:PORT/callback", registered)
	}
	// The code must come back to this machine only: a redirect URI the
	// vault (or whoever answers at its URL) names elsewhere is refused.
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, "", fmt.Errorf("evault: the vault's redirect URI %q is not on this machine: a loopback callback is localhost, 127.0.0.1 or [::1]", registered)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if _, err := strconv.Atoi(u.Port()); err != nil {
		return nil, "", fmt.Errorf("evault: the vault's redirect URI %q has no port", registered)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, u.Port()))
	if err != nil {
		return nil, "", fmt.Errorf("evault: listen on port %s for the sign-in redirect (is another login running?): %w", u.Port(), err)
	}
	return ln, registered, nil
}

func openBrowser(u string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if cmd.Start() == nil {
		go cmd.Wait()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// keptToken is what evault keeps of a sign-in.
type keptToken struct {
	Issuer       string    `json:"issuer"`
	ClientID     string    `json:"clientId"`
	IDToken      string    `json:"idToken"`
	RefreshToken string    `json:"refreshToken,omitempty"`
	Expiry       time.Time `json:"expiry"`
}

// keptFrom checks a token answer's ID token (issuer, audience, signature,
// expiry: the vault checks it again) and keeps it with the refresh token.
func keptFrom(ctx context.Context, p *oidc.Provider, si *client.SignIn, tok *oauth2.Token) (keptToken, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return keptToken{}, exit(ExitAuth, "sign-in: the provider answered without an ID token (is the openid scope allowed?)")
	}
	id, err := p.Verifier(&oidc.Config{ClientID: si.ClientID}).Verify(ctx, raw)
	if err != nil {
		return keptToken{}, exit(ExitAuth, "sign-in: the provider's ID token does not verify: %v", err)
	}
	return keptToken{Issuer: si.Issuer, ClientID: si.ClientID, IDToken: raw, RefreshToken: tok.RefreshToken, Expiry: id.Expiry}, nil
}

// tokenStore is evault/tokens.json: the kept sign-in of each API.
type tokenStore struct {
	path string
	mu   *sync.Mutex
}

var tokenFileMu sync.Mutex

func (a *app) tokens() tokenStore {
	return tokenStore{path: filepath.Join(a.configDir(), "evault", "tokens.json"), mu: &tokenFileMu}
}

func (s tokenStore) read() (map[string]keptToken, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]keptToken{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("evault: tokens: %w", err)
	}
	all := map[string]keptToken{}
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, fmt.Errorf("evault: tokens %s: %w", s.path, err)
	}
	return all, nil
}

func (s tokenStore) get(api string) (keptToken, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := s.read()
	t, ok := all[api]
	return t, err == nil && ok
}

func (s tokenStore) keep(api string, t keptToken) error {
	return s.update(func(all map[string]keptToken) { all[api] = t })
}

func (s tokenStore) forget(api string) error {
	return s.update(func(all map[string]keptToken) { delete(all, api) })
}

func (s tokenStore) update(change func(map[string]keptToken)) error {
	return s.locked(context.Background(), func() error {
		all, err := s.read()
		if err != nil {
			return err
		}
		change(all)
		return s.write(all)
	})
}

// tokenLockWait bounds the wait for another evault process's turn.
const tokenLockWait = 30 * time.Second

// locked runs fn holding tokens.json.lock, so that the evault processes of
// one user (a script's parallel downloads) take turns: the sign-in one of
// them refreshed is what the next finds, rather than each spending the
// same refresh token, which providers rotate (and, detecting its reuse,
// revoke).
func (s tokenStore) locked(ctx context.Context, fn func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("evault: tokens: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, tokenLockWait)
	defer cancel()
	l := flock.New(s.path+".lock", flock.SetPermissions(0o600))
	if ok, err := l.TryLockContext(ctx, 20*time.Millisecond); !ok {
		return fmt.Errorf("evault: tokens: wait for %s.lock: %w", s.path, cmp.Or(err, context.DeadlineExceeded))
	}
	defer l.Unlock()
	return fn()
}

// write replaces the file, readable by its owner only, atomically: a
// temporary file of its own, renamed over it.
func (s tokenStore) write(all map[string]keptToken) error {
	data, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), "tokens-*.tmp") // 0600
	if err != nil {
		return fmt.Errorf("evault: tokens: %w", err)
	}
	defer os.Remove(tmp.Name()) // once renamed, nothing
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.path)
	}
	if err != nil {
		return fmt.Errorf("evault: tokens: %w", err)
	}
	return nil
}

// refreshAhead is how long before expiry a kept token is refreshed.
const refreshAhead = time.Minute

// signedIn returns the token source of the sign-in kept for api: its ID
// token, refreshed with the refresh token when it is about to expire.
func (a *app) signedIn(api string, kept keptToken) func(context.Context) (string, error) {
	var mu sync.Mutex
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if time.Until(kept.Expiry) > refreshAhead {
			return kept.IDToken, nil
		}
		st := a.tokens()
		err := st.locked(ctx, func() error {
			// Another process may have refreshed it meanwhile: its
			// sign-in, kept, is the one to use (or refresh).
			all, err := st.read()
			if err != nil {
				return err
			}
			if cur, ok := all[api]; ok {
				kept = cur
			}
			if time.Until(kept.Expiry) > refreshAhead {
				return nil
			}
			next, err := a.refresh(ctx, api, kept)
			if err != nil {
				return err
			}
			all[api] = next
			if err := st.write(all); err != nil {
				return err
			}
			kept = next
			return nil
		})
		if err != nil {
			return "", err
		}
		return kept.IDToken, nil
	}
}

// refresh renews a kept sign-in with its refresh token.
func (a *app) refresh(ctx context.Context, api string, kept keptToken) (keptToken, error) {
	if kept.RefreshToken == "" {
		return keptToken{}, exit(ExitAuth, "the sign-in for %s expired at %s; run evault login", api, kept.Expiry.Format(time.RFC3339))
	}
	octx := a.oauthContext(ctx)
	p, err := oidc.NewProvider(octx, kept.Issuer)
	if err != nil {
		return keptToken{}, fmt.Errorf("evault: sign-in provider %s: %w", kept.Issuer, err)
	}
	conf := &oauth2.Config{ClientID: kept.ClientID, Endpoint: p.Endpoint()}
	tok, err := conf.TokenSource(octx, &oauth2.Token{RefreshToken: kept.RefreshToken, Expiry: time.Unix(1, 0)}).Token()
	if err != nil {
		return keptToken{}, exit(ExitAuth, "the sign-in for %s could not be refreshed (%v); run evault login", api, err)
	}
	next, err := keptFrom(ctx, p, &client.SignIn{Issuer: kept.Issuer, ClientID: kept.ClientID}, tok)
	if err != nil {
		return keptToken{}, err
	}
	if next.RefreshToken == "" {
		next.RefreshToken = kept.RefreshToken // Cognito keeps the one it gave
	}
	return next, nil
}
