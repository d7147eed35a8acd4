package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
)

// What never changes once it exists (a receipt, the checkpoint at a size)
// is answered with a strong ETag and
// Cache-Control: immutable, and a conditional GET that already holds it
// gets 304 Not Modified. The answers are per caller (they need a token), so
// shared caches keep none of them: private.
const immutableCache = "private, max-age=31536000, immutable"

// revalidatedCache is for what a cache may keep but must check each time
// (a version's record, whose state changes): its ETag makes that a 304.
const revalidatedCache = "private, no-cache"

// etag is a strong entity tag of body: its SHA-256, which is also what a
// client may check the body against.
func etag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`
}

// writeImmutable answers body, or 304 when the request's If-None-Match
// names its tag (RFC 9110, 13.1.2: weak comparison).
func writeImmutable(w http.ResponseWriter, r *http.Request, contentType string, body []byte) error {
	return writeTagged(w, r, contentType, body, immutableCache)
}

// writeTagged is writeImmutable with another Cache-Control, for what may
// change (the API's own contract, with each release): no-cache, so that
// caches revalidate it every time.
func writeTagged(w http.ResponseWriter, r *http.Request, contentType string, body []byte, cacheControl string) error {
	tag := etag(body)
	h := w.Header()
	h.Set("ETag", tag)
	h.Set("Cache-Control", cacheControl)
	// One browser may hold several users' answers: they differ by token.
	h.Add("Vary", "Authorization, Vault-Tenant")
	if noneMatch(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

// noneMatch reports whether an If-None-Match header names tag (or is *).
func noneMatch(header, tag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}
