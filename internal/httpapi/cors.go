package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// CORS for browser clients: only the origins a deployment allows (none by
// default), with credentials sent as a bearer token, never as cookies, so
// Access-Control-Allow-Credentials is not needed.
var (
	// corsHeaders are the request headers a browser client may send.
	corsHeaders = []string{"Authorization", "Content-Type", "Idempotency-Key", "If-None-Match", "Vault-Tenant", "X-Request-Id"}
	// exposedHeaders are the response headers its scripts may read.
	exposedHeaders = []string{"ETag", "Location", "Retry-After", "X-Request-Id", "Idempotent-Replayed", "Allow", "X-Log-Origin", "X-Log-Size"}
)

// corsMaxAge is how long a browser may cache a preflight answer (seconds).
const corsMaxAge = 7200

// cors answers preflight requests and marks the answers of allowed origins.
func (s *Server) cors(next http.Handler, methods []string) http.Handler {
	allowMethods := strings.Join(methods, ", ")
	if len(s.origins) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Answers differ by origin whether or not this request has one:
		// caches must key on it.
		w.Header().Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		allowed := slices.Contains(s.origins, origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			w.Header().Add("Vary", "Access-Control-Request-Method")
			w.Header().Add("Vary", "Access-Control-Request-Headers")
			if !allowed {
				writeError(w, r, s.log, &requestError{kind: originRefused, detail: "origin " + origin + " may not call this API; the deployment lists the origins it allows"})
				return
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", allowMethods)
			h.Set("Access-Control-Allow-Headers", strings.Join(corsHeaders, ", "))
			h.Set("Access-Control-Max-Age", strconv.Itoa(corsMaxAge))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Expose-Headers", strings.Join(exposedHeaders, ", "))
		}
		next.ServeHTTP(w, r)
	})
}

// ParseOrigins reads a comma-separated list of origins, each
// scheme://host[:port] exactly as browsers send it in Origin: no path, no
// trailing slash, no wildcard (a vault's API is not for every site).
func ParseOrigins(list string) ([]string, error) {
	var origins []string
	for o := range strings.SplitSeq(list, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
			return nil, fmt.Errorf("httpapi: origin %q: want scheme://host[:port], such as https://portal.example.com", o)
		}
		// Browsers send an origin without its scheme's default port.
		host := strings.ToLower(u.Host)
		if u.Scheme == "https" {
			host = strings.TrimSuffix(host, ":443")
		} else {
			host = strings.TrimSuffix(host, ":80")
		}
		origins = append(origins, u.Scheme+"://"+host)
	}
	return origins, nil
}
