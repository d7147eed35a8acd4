// Package evault is the evault command: the vault's CLI for uploaders
// (dossiers, large resumable uploads from a manifest) and auditors
// (verified downloads, offline verification, export bundles). cmd/evault
// only calls Main.Run.
package evault

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/evidencevault/vault/client"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/spf13/cobra"
)

// Exit codes, documented in --help.
const (
	ExitOK          = 0
	ExitError       = 1 // anything else: network, server, local files
	ExitUsage       = 2 // bad flags or arguments
	ExitInvalid     = 3 // metadata or manifest refused; nothing was sent
	ExitVerify      = 4 // a file, receipt, proof, key or bundle failed verification, or storage was tampered with; nothing was kept
	ExitNotFound    = 5 // not found, or not visible to this identity
	ExitAuth        = 6 // no valid token, or the role may not do this
	ExitConflict    = 7 // already exists, or the upload is not ready
	ExitInterrupted = 130
)

const exitCodesHelp = `Exit codes:
  0    success
  1    error: network, server or local files
  2    usage: bad flags or arguments
  3    invalid: metadata or manifest refused, per file and field; nothing was sent
  4    verification failed: a file, receipt, log proof, key or bundle does not
       match, or the vault found its storage holds what it did not write;
       nothing is kept under the final name
  5    not found, or not visible to this identity
  6    not authenticated, or the role may not do this
  7    conflict: already exists, or an upload is not complete
  130  interrupted (Ctrl-C); run the same upload again to resume it`

// Main is the command with its surroundings, so that tests run the same
// wiring as the binary.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// HTTP carries API calls and transfers; http.DefaultClient if nil.
	HTTP *http.Client
	// Terminal says whether Stderr is a terminal (progress bars).
	Terminal bool
	// Dir is where .local/env is looked for (and its parents); the working
	// directory if "".
	Dir string
	// ConfigDir holds evault/config.json and evault/known_vaults.json;
	// the user's configuration directory if "".
	ConfigDir string
	// Version is what --version prints and the User-Agent names; the
	// module's build information if "" (release builds set it).
	Version string
}

// version is the module version and commit evault was built from.
func (m *Main) version() string {
	if m.Version != "" {
		return m.Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " (commit " + rev + dirty + ")"
	}
	return v
}

// exitError carries an exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exit(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

// Run runs the command line args and returns the exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if m.Getenv == nil {
		m.Getenv = os.Getenv
	}
	if m.HTTP == nil {
		m.HTTP = client.NewHTTPClient()
	}
	app := &app{main: m}
	root := app.root()
	root.SetArgs(args)
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(m.Stderr, "evault:", err)
	return exitCode(ctx, err)
}

func exitCode(ctx context.Context, err error) int {
	var ee *exitError
	var p *client.Problem
	var ve *client.VerifyError
	var te *client.TrustError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		// Before the answer it cut short: Ctrl-C while a retry waits
		// returns the answer that made it wait as well.
		return ExitInterrupted
	case errors.As(err, &ve), errors.As(err, &te):
		return ExitVerify
	case errors.As(err, &p):
		switch {
		case p.Status == http.StatusUnauthorized || p.Status == http.StatusForbidden:
			return ExitAuth
		case p.Status == http.StatusNotFound:
			return ExitNotFound
		case p.Status == http.StatusConflict || p.Status == http.StatusGone:
			return ExitConflict
		case p.Status == http.StatusUnprocessableEntity && p.Slug() == "integrity", p.Slug() == "tampered":
			return ExitVerify
		case p.Status == http.StatusUnprocessableEntity || p.Status == http.StatusBadRequest:
			return ExitInvalid
		}
		return ExitError
	case strings.Contains(err.Error(), "unknown flag") || strings.Contains(err.Error(), "accepts ") || strings.Contains(err.Error(), "requires ") ||
		strings.Contains(err.Error(), "unknown command") || strings.Contains(err.Error(), "required flag"):
		return ExitUsage
	}
	return ExitError
}

// app holds the global flags and what they resolve to.
type app struct {
	main       *Main
	api, token string
	configFile string
	role       string
	tenant     string
	jsonOut    bool
	quiet      bool
	timeout    time.Duration
	cl         *client.Client
	policyFlags
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "evault",
		Short: "Evidence Vault: upload, download and verify sealed evidence",
		Long: `evault moves dossier evidence in and out of an Evidence Vault and verifies it.

The API URL comes from, in this order: --api; EVAULT_API; the config file
(--config, default ~/.config/evault/config.json, {"api": "...", "token": "..."});
or the local stack's .local/env (make run), found in this directory or a parent.
The token: --token; EVAULT_TOKEN; the config file; the sign-in evault login kept
for that API (refreshed as it expires); or .local/env's --role demo token.

Auditors act in one tenant at a time, among those that granted them access
(evault me lists them): --tenant or EVAULT_TENANT.

Trust: on first use of a vault's log evault pins its key, and the newest
checkpoint it verified, in ~/.config/evault/known_vaults.json. Later it trusts
only keys the log's signed key history leads to from the pinned one, and only
a log that extends the checkpoint kept; anything else is refused (exit 4).
--key PUBKEY checks against a key you obtained yourself instead.
Beyond the key: --tsa-roots makes each receipt's RFC 3161 timestamp count, and
--witness makes checkpoints count only when those witnesses cosigned them, so
that even a first look at a log is protected against a second history.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       a.main.version(),
	}
	root.SetVersionTemplate("evault {{.Version}}\n")
	f := root.PersistentFlags()
	f.StringVar(&a.api, "api", "", "vault API base URL")
	f.StringVar(&a.token, "token", "", "bearer token (JWT)")
	f.StringVar(&a.configFile, "config", "", "config file (default ~/.config/evault/config.json)")
	f.StringVar(&a.role, "role", "uploader", "with .local/env: which demo token to use (uploader, admin, auditor, other)")
	f.StringVar(&a.tenant, "tenant", "", "the tenant to act in, for auditors (default EVAULT_TENANT, or your token's)")
	f.BoolVar(&a.jsonOut, "json", false, "print results as JSON, for scripts")
	f.BoolVarP(&a.quiet, "quiet", "q", false, "print nothing but errors")
	f.DurationVar(&a.timeout, "timeout", time.Minute, "longest wait for one API call, retries included (transfers of evidence are not bounded)")
	a.policyFlags.add(f)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &exitError{code: ExitUsage, err: err} })
	root.AddCommand(a.dossierCmd(), a.uploadCmd(), a.lsCmd(), a.versionsCmd(), a.getCmd(),
		a.verifyCmd(), a.exportCmd(), a.verifyBundleCmd(), a.keysCmd(), a.logCmd(), a.trustedRootCmd(),
		a.loginCmd(), a.logoutCmd(), a.meCmd(), a.grantCmd(), a.accessCmd(),
		a.lifecycleCmd(), a.marketCmd(), a.holdCmd(), a.statusCmd(), a.signoffCmd(), a.policyCmd(), a.completenessCmd(), a.submissionCmd())
	for _, c := range root.Commands() {
		c.Long = strings.TrimSpace(c.Long+"\n\n"+exitCodesHelp) + "\n"
		if c.HasSubCommands() && c.RunE == nil {
			// A group of commands: a word that is none of them is a
			// usage error, not a help page that exits 0.
			c.Args = func(c *cobra.Command, args []string) error {
				if len(args) > 0 {
					return exit(ExitUsage, "unknown command %q for %q; see %s --help", args[0], c.CommandPath(), c.CommandPath())
				}
				return nil
			}
			c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
		}
	}
	return root
}

// client resolves the API URL and token and returns the API client.
func (a *app) client() (*client.Client, error) {
	if a.cl != nil {
		return a.cl, nil
	}
	api, token, err := a.resolve()
	if err != nil {
		return nil, err
	}
	if a.timeout <= 0 {
		return nil, exit(ExitUsage, "--timeout must be a positive duration, such as 30s or 2m")
	}
	opts := client.Options{UserAgent: "evault/" + a.main.version(), Timeout: a.timeout, Tenant: a.tenantName()}
	if token == "" {
		if kept, ok := a.tokens().get(api); ok {
			opts.Token = a.signedIn(api, kept)
		} else if env := a.localEnv(); env != nil && env["VAULT_URL"] == api {
			token = env["VAULT_"+strings.ToUpper(a.role)+"_TOKEN"]
			if opts.Tenant == "" && a.role == "auditor" {
				opts.Tenant = env["VAULT_TENANT"] // the demo's, which its auditor names
			}
		}
	}
	cl, err := client.New(api, token, a.main.HTTP, opts)
	if err != nil {
		return nil, exit(ExitUsage, "%v", err)
	}
	a.cl = cl
	return cl, nil
}

// apiURL resolves the API URL alone.
func (a *app) apiURL() (string, error) {
	api, _, err := a.resolve()
	return api, err
}

// resolve finds the API URL and an explicit token (flags, environment,
// config file), in that order; the URL falls back to .local/env's.
func (a *app) resolve() (api, token string, err error) {
	api, token = a.api, a.token
	fill := func(u, t string) {
		if api == "" {
			api = u
		}
		if token == "" {
			token = t
		}
	}
	fill(a.main.Getenv("EVAULT_API"), a.main.Getenv("EVAULT_TOKEN"))
	if api == "" || token == "" {
		var cfg struct{ API, Token string }
		path := a.configFile
		if path == "" {
			path = filepath.Join(a.configDir(), "evault", "config.json")
		}
		if data, err := os.ReadFile(path); err == nil {
			if err := json.Unmarshal(data, &cfg); err != nil {
				return "", "", exit(ExitUsage, "config %s: %v", path, err)
			}
			// The file pairs a token with its API: it goes to that API
			// only, not to one --api, EVAULT_API or a .local/env in some
			// parent directory names instead; a token without its API
			// could go anywhere, so it is refused.
			if cfg.Token != "" && cfg.API == "" {
				return "", "", exit(ExitUsage, "config %s: a token needs the api it is for", path)
			}
			if api == "" || strings.TrimRight(api, "/") == strings.TrimRight(cfg.API, "/") {
				fill(cfg.API, cfg.Token)
			}
		} else if a.configFile != "" {
			return "", "", exit(ExitUsage, "config: %v", err)
		}
	}
	if api == "" {
		if env := a.localEnv(); env != nil {
			api = env["VAULT_URL"]
		}
	}
	if api == "" {
		return "", "", exit(ExitUsage, "no vault API URL: give --api, EVAULT_API or a config file, or start the local stack with make run")
	}
	return strings.TrimRight(api, "/"), token, nil
}

// tenantName is the tenant to act in: --tenant, else EVAULT_TENANT.
func (a *app) tenantName() string {
	if a.tenant != "" {
		return a.tenant
	}
	return a.main.Getenv("EVAULT_TENANT")
}

// localEnv reads .local/env from Dir or its nearest parent that has one.
func (a *app) localEnv() map[string]string {
	dir := a.main.Dir
	if dir == "" {
		dir, _ = os.Getwd()
	}
	for dir != "" {
		if f, err := os.Open(filepath.Join(dir, ".local", "env")); err == nil {
			defer f.Close()
			env := map[string]string{}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if k, v, ok := strings.Cut(sc.Text(), "="); ok {
					env[k] = v
				}
			}
			return env
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return nil
}

func readKeys(files []string) ([]receipt.Key, error) {
	var keys []receipt.Key
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, exit(ExitUsage, "key: %v", err)
		}
		k, err := receipt.ParsePublicKey(data)
		if err != nil {
			return nil, exit(ExitUsage, "key %s: %v", f, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// print writes a result: v as JSON with --json, else text (unless --quiet).
func (a *app) print(v any, text func(w io.Writer)) error {
	switch {
	case a.jsonOut:
		enc := json.NewEncoder(a.main.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case !a.quiet:
		text(a.main.Stdout)
	}
	return nil
}
