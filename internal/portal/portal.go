// Package portal serves the web portal's files, embedded: a page that
// signs its user in through the vault's provider (authorization code with
// PKCE, in the browser) and calls the API itself, so that what it shows
// is what the API answers that user. This is its first part: sign-in, and
// the dossiers a user may read (an auditor's, per granting tenant).
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
// file, such as its sign-in callback, get the page itself.
func Handler(prefix string) http.Handler {
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is part of the binary
	}
	serve := http.StripPrefix(strings.TrimSuffix(prefix, "/"), http.FileServerFS(static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Scripts, styles and calls only from here: the token the page
		// holds goes to no one else. The provider's token endpoint is
		// called from the page, so connect-src names it.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		name := strings.TrimPrefix(r.URL.Path, prefix)
		if _, err := fs.Stat(static, path.Clean("/" + name)[1:]); name == "" || err != nil {
			r = r.Clone(r.Context())
			r.URL.Path = prefix // the page, for / and the callback
		}
		serve.ServeHTTP(w, r)
	})
}
