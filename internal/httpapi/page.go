package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/evidencevault/vault/internal/vault"
)

// Lists come in pages: ?limit=n (1 to 1,000, 100 by default) and
// ?cursor=c, where c is the "next" of the page before. A cursor is opaque
// to clients: it names the list it belongs to and the last item of the
// page it came from, so that a page starts where the last ended even if
// items were added meanwhile (lists only grow). A list is named by its
// kind and what it lists (listName), so that a cursor passed to another
// list, by a client's mistake, is refused rather than skipping items.

// listName names the list of kind that r asks for: of the caller's tenant,
// and of scope (a dossier, a path, the query's filters).
func listName(r *http.Request, kind string, scope ...string) string {
	id, _ := vault.FromContext(r.Context())
	h := sha256.New()
	for _, part := range append([]string{id.Tenant}, scope...) {
		h.Write([]byte(strconv.Itoa(len(part)) + ":" + part))
	}
	return kind + "." + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:9])
}

// pageParams reads limit and cursor for the list named list.
func pageParams(r *http.Request, list string) (vault.Page, error) {
	q := r.URL.Query()
	p := vault.Page{Limit: vault.DefaultPageLimit}
	var fields []vault.FieldError
	if v := q.Get("limit"); v != "" {
		n, err := number(v)
		if err != nil || n < 1 || n > vault.MaxPageLimit {
			fields = append(fields, vault.FieldError{Pointer: "/limit", Detail: "must be a whole number from 1 to " + strconv.Itoa(vault.MaxPageLimit)})
		}
		p.Limit = int(n)
	}
	if c := q.Get("cursor"); c != "" {
		raw, err := base64.RawURLEncoding.DecodeString(c)
		name, after, ok := strings.Cut(string(raw), "\x00")
		if err != nil || !ok || name != list || after == "" {
			fields = append(fields, vault.FieldError{Pointer: "/cursor", Detail: "is not a cursor of this list: pass the \"next\" of its previous page unchanged"})
		}
		p.After = after
	}
	if fields != nil {
		return vault.Page{}, &requestError{kind: badQuery, detail: queryDetail(fields), fields: fields}
	}
	return p, nil
}

// number reads a whole number of a query or a path as the contract types
// it: decimal digits only, no leading zero. strconv alone would also take
// "+1", "-0" and "01", and a cached answer would then have several URLs.
func number(s string) (int64, error) {
	if s == "" || len(s) > 18 || strings.Trim(s, "0123456789") != "" || len(s) > 1 && s[0] == '0' {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseInt(s, 10, 64)
}

// nextCursor is the cursor of the page after the one that ended at after.
func nextCursor(list, after string) string {
	if after == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(list + "\x00" + after))
}

// queryDetail says what is wrong with the query parameters in fields.
func queryDetail(fields []vault.FieldError) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = strings.TrimPrefix(f.Pointer, "/") + " " + f.Detail
	}
	return strings.Join(parts, "; ")
}
