// Package portal serves the web portal's files, embedded: a page that
// signs its user in through the vault's provider (authorization code with
// PKCE, in the browser) and calls the API itself, so that what it shows
// is what the API answers that user. It verifies what it downloads in the
// browser, from a key pinned there (static/verify.js), and uploads with
// the API's presigned URLs. docs/portal.md describes it.
package portal

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var files embed.FS

// Handler serves the portal at prefix (such as "/portal/"); paths with no
// file, such as its sign-in callback, get the page itself. connect are the
// origins the page may call besides its own: the storage endpoint its
// presigned URLs name, and the provider's, if not this origin.
func Handler(prefix string, connect ...string) http.Handler {
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is part of the binary
	}
	csp := "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; img-src 'self'; " +
		"connect-src " + strings.Join(append([]string{"'self'"}, connect...), " ") + "; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	serve := http.StripPrefix(strings.TrimSuffix(prefix, "/"), http.FileServerFS(static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Scripts, styles and calls only from here and connect: the token
		// the page holds goes to no one else. The hash library is
		// WebAssembly, compiled in the worker ('wasm-unsafe-eval'
		// permits that and no eval of scripts).
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		name := strings.TrimPrefix(r.URL.Path, prefix)
		fi, err := fs.Stat(static, path.Clean("/" + name)[1:])
		if name != "" && err == nil && fi.IsDir() {
			http.NotFound(w, r) // no listings of the portal's folders
			return
		}
		if name == "" || err != nil {
			r = r.Clone(r.Context())
			r.URL.Path = prefix // the page, for / and the callback
		}
		serve.ServeHTTP(w, r)
	})
}
