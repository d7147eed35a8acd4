// Package httpapi is the vault's HTTP API: routes, authentication and
// problem+json errors (RFC 9457). The same http.Handler runs behind API
// Gateway (through the apigw adapter) and in the local server.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/evidencevault/vault/internal/logging"
	"github.com/evidencevault/vault/internal/vault"
)

// Server answers the vault's API.
type Server struct {
	v       Vault
	auth    Authenticator
	log     *slog.Logger
	origins []string
	signIn  *vault.SignIn
	timeout time.Duration
}

// RequestTimeout is how long a request may take by default: under API
// Gateway's 30 seconds, so that a hung storage is answered with a
// retryable problem, not cut off by the gateway.
const RequestTimeout = 25 * time.Second

// WithRequestTimeout bounds every request to d (RequestTimeout if 0):
// storage calls still running then fail, and the request is answered
// 503 storage-unavailable.
func WithRequestTimeout(d time.Duration) Option {
	return func(s *Server) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// Option configures a Server.
type Option func(*Server)

// AllowOrigins lets browser scripts from origins (such as
// https://portal.example.com) call the API (CORS). None may by default.
func AllowOrigins(origins ...string) Option {
	return func(s *Server) { s.origins = append(s.origins, origins...) }
}

// New returns a Server for v that identifies callers with auth.
func New(v Vault, auth Authenticator, log *slog.Logger, opts ...Option) *Server {
	s := &Server{v: v, auth: auth, log: log, timeout: RequestTimeout}
	for _, o := range opts {
		o(s)
	}
	return s
}

// route is one endpoint of the API.
type route struct {
	method, pattern string
	// public routes need no verified identity.
	public bool
	serve  func(http.ResponseWriter, *http.Request) error
}

// anyTenant are the routes that answer an auditor who names no tenant:
// how they learn which tenants granted them access.
var anyTenant = map[string]bool{"/v1/me": true}

// routes lists every endpoint the API serves: openapi/openapi.yaml is
// their contract, and tests check each against it.
func (s *Server) routes() []route {
	return []route{
		{"GET", "/v1/openapi.yaml", true, s.contract},
		{"GET", "/v1/keys", true, s.keys},
		{"GET", "/v1/verification-policy", true, s.verifierPolicy},
		{"GET", "/v1/sections", true, s.sections},
		{"POST", "/v1/dossiers", false, s.idempotent(s.createDossier)},
		{"GET", "/v1/dossiers", false, s.listDossiers},
		{"GET", "/v1/dossiers/{dossier}", false, s.getDossier},
		{"GET", "/v1/dossiers/{dossier}/documents", false, s.documents},
		{"GET", "/v1/dossiers/{dossier}/versions", false, s.versions},
		{"GET", "/v1/dossiers/{dossier}/versions/{version}", false, s.version},
		{"GET", "/v1/dossiers/{dossier}/download", false, s.download},
		{"POST", "/v1/dossiers/{dossier}/uploads", false, s.idempotent(s.startUpload)},
		{"POST", "/v1/uploads/{upload}/complete", false, bodiless(s.complete)},
		{"GET", "/v1/uploads/{upload}", false, s.upload},
		{"DELETE", "/v1/uploads/{upload}", false, bodiless(s.abortUpload)},
		{"POST", "/v1/uploads/{upload}/parts", false, s.presignParts},
		{"GET", "/v1/receipts/{receipt}", false, s.receipt},
		{"GET", "/v1/receipts/{receipt}/sigstore", false, s.sigstoreBundle},
		{"POST", "/v1/verify", false, s.verify},
		{"GET", "/v1/log/checkpoint", false, s.checkpoint},
		{"GET", "/v1/log/checkpoints/{size}", false, s.checkpoint},
		{"GET", "/v1/log/proofs/inclusion", false, s.inclusionProof},
		{"GET", "/v1/log/proofs/consistency", false, s.consistencyProof},
		{"GET", "/v1/log/keys", false, s.keyHistory},
		{"GET", "/v1/log/entries", false, s.logEntries},
		{"GET", "/v1/auth/config", true, s.authConfig},
		{"GET", "/v1/me", false, s.me},
		{"GET", "/v1/grants", false, s.listGrants},
		{"POST", "/v1/grants", false, s.idempotent(s.createGrant)},
		{"GET", "/v1/grants/{grant}", false, s.getGrant},
		{"DELETE", "/v1/grants/{grant}", false, bodiless(s.revokeGrant)},
		{"GET", "/v1/access", false, s.accessTrail},
		{"GET", "/v1/dossiers/{dossier}/lifecycle", false, s.dossierState},
		{"PUT", "/v1/dossiers/{dossier}/market", false, s.setMarket},
		{"POST", "/v1/dossiers/{dossier}/holds", false, s.idempotent(s.setHold)},
		{"POST", "/v1/dossiers/{dossier}/holds/{hold}/release", false, s.idempotent(s.releaseHold)},
		{"POST", "/v1/dossiers/{dossier}/status", false, s.idempotent(s.setStatus)},
		{"POST", "/v1/dossiers/{dossier}/signoffs", false, s.idempotent(s.signOff)},
		{"PUT", "/v1/dossiers/{dossier}/approval-policy", false, s.setPolicy},
		{"GET", "/v1/dossiers/{dossier}/completeness", false, s.completeness},
		{"POST", "/v1/dossiers/{dossier}/submissions", false, s.idempotentUpTo(maxSubmissionBody, s.submit)},
		{"GET", "/v1/dossiers/{dossier}/submissions", false, s.submissions},
		{"GET", "/v1/dossiers/{dossier}/submissions/{submission}", false, s.submission},
		{"GET", "/v1/dossiers/{dossier}/submissions/{submission}/changes", false, s.submissionChanges},
		{"POST", "/v1/dossiers/{dossier}/exports", false, s.idempotentReading(bodiless(s.recordExport))},
	}
}

// Handler returns the API's routes behind request ids and access logs.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	methods := map[string][]string{}
	var patterns, served []string // served: every method of some route, for CORS
	for _, rt := range s.routes() {
		if !slices.Contains(served, rt.method) {
			served = append(served, rt.method)
		}
		h := s.authed(rt.serve, anyTenant[rt.pattern])
		if rt.public {
			h = s.answer(rt.serve)
		}
		mux.Handle(rt.method+" "+rt.pattern, s.unambiguous(h))
		if methods[rt.pattern] == nil {
			patterns = append(patterns, rt.pattern)
		}
		methods[rt.pattern] = append(methods[rt.pattern], rt.method)
	}
	for _, p := range patterns {
		// The method-less pattern catches the other methods of a known
		// path: 405, with the methods that are served (RFC 9110, 15.5.6).
		// HEAD too, which a GET pattern would otherwise serve: the
		// contract (openapi.yaml) has no HEAD, and a HEAD of a download
		// would log an access whose answer nobody got.
		allow := strings.Join(methods[p], ", ")
		refuse := func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, r, s.log, &requestError{kind: wrongMethod, detail: r.Method + " is not served at " + r.URL.Path + "; " + allow + " is"})
		}
		mux.HandleFunc(p, refuse)
		if slices.Contains(methods[p], http.MethodGet) {
			mux.HandleFunc(http.MethodHead+" "+p, refuse)
		}
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, &requestError{kind: noRoute, detail: "no API route " + r.URL.Path + "; see docs/api.md and openapi/openapi.yaml (GET /v1/openapi.yaml)"})
	})
	return s.observe(s.cors(mux, served))
}

// validRequestID reports whether a caller's X-Request-Id may be echoed and
// logged: 1 to 128 of [A-Za-z0-9._:=-] (a loop, not a regexp: docs/design.md,
// cold starts).
func validRequestID(s string) bool {
	if len(s) < 1 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._:=-", c) >= 0) {
			return false
		}
	}
	return true
}

// observe gives every request an id (API Gateway's, the caller's
// X-Request-Id, or a new one), echoes it, and logs the request when done.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
		defer cancel()
		id := logging.RequestID(ctx)
		if id == "" {
			if id = r.Header.Get("X-Request-Id"); !validRequestID(id) {
				var b [8]byte
				rand.Read(b[:])
				id = hex.EncodeToString(b[:])
			}
			ctx = logging.WithRequestID(ctx, id)
		}
		w.Header().Set("X-Request-Id", id)
		who := &caller{}
		ctx = context.WithValue(ctx, callerKey{}, who)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(ctx))
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", rec.status, "ms", time.Since(start).Milliseconds()}
		if who.known {
			attrs = append(attrs, "tenant", who.id.Tenant, "subject", who.id.Subject, "role", string(who.id.Role))
		}
		s.log.InfoContext(ctx, "request", attrs...)
	})
}

// caller records who a request turned out to be, for its log line.
type caller struct {
	id    vault.Identity
	known bool
}

type callerKey struct{}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// answer runs h and answers its error as problem+json.
func (s *Server) answer(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, s.log, err)
		}
	})
}

// unambiguous refuses, before next runs, a request that gives a query
// parameter, or a header the vault reads one value of, more than once:
// which one counts would be the server's guess, not the caller's choice.
func (s *Server) unambiguous(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := ambiguity(r); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func ambiguity(r *http.Request) error {
	var fields []vault.FieldError
	for name, vs := range r.URL.Query() {
		if len(vs) > 1 {
			fields = append(fields, vault.FieldError{Pointer: "/" + name, Detail: fmt.Sprintf("is given %d times; give it once", len(vs))})
		}
	}
	for _, h := range []string{TenantHeader, "Idempotency-Key"} {
		if n := len(r.Header.Values(h)); n > 1 {
			fields = append(fields, vault.FieldError{Pointer: "/" + h, Detail: fmt.Sprintf("header is given %d times; give it once", n)})
		}
	}
	if fields == nil {
		return nil
	}
	slices.SortFunc(fields, func(a, b vault.FieldError) int { return strings.Compare(a.Pointer, b.Pointer) })
	return &requestError{kind: badQuery, detail: queryDetail(fields), fields: fields}
}

// authed runs h with the caller's verified identity in the request
// context, acting in the tenant the request names (Vault-Tenant) or its
// own. anyTenant routes take the identity as its token says, whatever
// tenant is named or granted: how an auditor learns where they may act.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request) error, anyTenant bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := s.auth.Authenticate(r)
		if err == nil && !anyTenant {
			id, err = s.v.Authorize(r.Context(), id, r.Header.Get(TenantHeader))
		}
		if err == nil && id.Tenant == "" && !anyTenant {
			err = &vault.Error{Code: vault.CodeInvalid, Message: "name the tenant to act in: send the header " + TenantHeader + ": <tenant> (GET /v1/me lists the tenants that granted you access)",
				Fields: []vault.FieldError{{Pointer: "/" + TenantHeader, Detail: "is required of an auditor"}}}
		}
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if who, ok := r.Context().Value(callerKey{}).(*caller); ok {
			who.id, who.known = id, true
		}
		s.answer(h).ServeHTTP(w, r.WithContext(vault.NewContext(r.Context(), id)))
	})
}
