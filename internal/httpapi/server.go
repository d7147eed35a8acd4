// Package httpapi is the vault's HTTP API: routes, authentication and
// problem+json errors (RFC 9457). The same http.Handler runs behind API
// Gateway (through the apigw adapter) and in the local server.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/logging"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
)

// Server answers the vault's API.
type Server struct {
	svc  *vault.Service
	auth Authenticator
	log  *slog.Logger
}

// New returns a Server for svc that identifies callers with auth.
func New(svc *vault.Service, auth Authenticator, log *slog.Logger) *Server {
	return &Server{svc: svc, auth: auth, log: log}
}

// Handler returns the API's routes behind request ids and access logs.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/keys", s.keys)
	mux.Handle("POST /v1/dossiers", s.authed(s.createDossier))
	mux.Handle("GET /v1/dossiers", s.authed(s.listDossiers))
	mux.Handle("GET /v1/dossiers/{dossier}", s.authed(s.getDossier))
	mux.Handle("GET /v1/dossiers/{dossier}/documents", s.authed(s.documents))
	mux.Handle("GET /v1/dossiers/{dossier}/versions", s.authed(s.versions))
	mux.Handle("GET /v1/dossiers/{dossier}/download", s.authed(s.download))
	mux.Handle("POST /v1/dossiers/{dossier}/uploads", s.authed(s.startUpload))
	mux.Handle("POST /v1/uploads/{upload}/complete", s.authed(s.complete))
	mux.Handle("GET /v1/uploads/{upload}", s.authed(s.upload))
	mux.Handle("DELETE /v1/uploads/{upload}", s.authed(s.abortUpload))
	mux.Handle("POST /v1/uploads/{upload}/parts", s.authed(s.presignParts))
	mux.Handle("GET /v1/receipts/{receipt}", s.authed(s.receipt))
	mux.Handle("POST /v1/verify", s.authed(s.verify))
	mux.Handle("GET /v1/log/checkpoint", s.authed(s.checkpoint))
	mux.Handle("GET /v1/log/checkpoints/{size}", s.authed(s.checkpoint))
	mux.Handle("GET /v1/log/proofs/inclusion", s.authed(s.inclusionProof))
	mux.Handle("GET /v1/log/proofs/consistency", s.authed(s.consistencyProof))
	// Method-less patterns catch the other methods of known paths: 405.
	for _, p := range []string{"/v1/keys", "/v1/dossiers", "/v1/dossiers/{dossier}", "/v1/dossiers/{dossier}/documents",
		"/v1/dossiers/{dossier}/versions", "/v1/dossiers/{dossier}/download", "/v1/dossiers/{dossier}/uploads",
		"/v1/uploads/{upload}/complete", "/v1/uploads/{upload}", "/v1/uploads/{upload}/parts", "/v1/receipts/{receipt}", "/v1/verify", "/v1/log/checkpoint",
		"/v1/log/checkpoints/{size}", "/v1/log/proofs/inclusion", "/v1/log/proofs/consistency"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			writeError(w, r, s.log, &requestError{kind: wrongMethod, detail: r.Method + " is not served at " + r.URL.Path})
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, &requestError{kind: noRoute, detail: "no API route " + r.URL.Path + "; see docs/api.md"})
	})
	return s.observe(mux)
}

// validRequestID reports whether a caller's X-Request-Id may be echoed and
// logged: 1 to 128 of [A-Za-z0-9._:=-]. (A loop, not a regexp with counted
// repetition, whose compiling slowed Lambda cold starts.)
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
		ctx := r.Context()
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

// authed runs h with the caller's verified identity in the request context.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := s.auth.Authenticate(r)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if who, ok := r.Context().Value(callerKey{}).(*caller); ok {
			who.id, who.known = id, true
		}
		r = r.WithContext(vault.NewContext(r.Context(), id))
		if err := h(w, r); err != nil {
			writeError(w, r, s.log, err)
		}
	})
}

func (s *Server) keys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.svc.Keys(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"keys": keys})
}

func (s *Server) createDossier(w http.ResponseWriter, r *http.Request) error {
	var in vault.DossierInput
	if err := decodeJSON(w, r, maxMetadataBody, &in); err != nil {
		return err
	}
	d, err := s.svc.CreateDossier(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/dossiers/"+d.ID)
	writeJSON(w, http.StatusCreated, "application/json", d)
	return nil
}

func (s *Server) listDossiers(w http.ResponseWriter, r *http.Request) error {
	ds, err := s.svc.ListDossiers(r.Context())
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []vault.Dossier{}
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"dossiers": ds})
	return nil
}

func (s *Server) getDossier(w http.ResponseWriter, r *http.Request) error {
	d, err := s.svc.Dossier(r.Context(), r.PathValue("dossier"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", d)
	return nil
}

func (s *Server) documents(w http.ResponseWriter, r *http.Request) error {
	dossier := r.PathValue("dossier")
	vs, err := s.svc.Documents(r.Context(), dossier)
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []vault.Version{}
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"dossier": dossier, "documents": vs})
	return nil
}

// pathParam reads the required path query parameter that names a document.
func pathParam(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", &requestError{kind: badQuery, detail: "name the document with ?path=",
			fields: []vault.FieldError{{Pointer: "/path", Detail: "is required"}}}
	}
	return p, nil
}

func (s *Server) versions(w http.ResponseWriter, r *http.Request) error {
	dossier := r.PathValue("dossier")
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	vs, err := s.svc.Versions(r.Context(), dossier, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"dossier": dossier, "path": p, "versions": vs})
	return nil
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) error {
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		if version, err = strconv.Atoi(v); err != nil || version < 1 {
			return &requestError{kind: badQuery, detail: "version must be a version number, 1 or more",
				fields: []vault.FieldError{{Pointer: "/version", Detail: "must be a whole number from 1"}}}
		}
	}
	d, err := s.svc.Download(r.Context(), r.PathValue("dossier"), p, version)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{
		"version": d.Version, "download": d.Download, "receipt": d.Receipt.Bundle(),
	})
	return nil
}

func (s *Server) startUpload(w http.ResponseWriter, r *http.Request) error {
	var doc vault.Document
	if err := decodeJSON(w, r, maxMetadataBody, &doc); err != nil {
		return err
	}
	q := r.URL.Query()
	var t vault.Ticket
	var err error
	switch mp := q.Get("multipart"); mp {
	case "", "false":
		if q.Has("partSize") {
			return &requestError{kind: badQuery, detail: "partSize applies only with multipart=true",
				fields: []vault.FieldError{{Pointer: "/partSize", Detail: "needs multipart=true"}}}
		}
		t, err = s.svc.StartUpload(r.Context(), r.PathValue("dossier"), doc)
	case "true":
		var partSize int64
		if v := q.Get("partSize"); v != "" {
			if partSize, err = strconv.ParseInt(v, 10, 64); err != nil || partSize < 1 {
				return &requestError{kind: badQuery, detail: "partSize must be a number of bytes",
					fields: []vault.FieldError{{Pointer: "/partSize", Detail: "must be a whole number of bytes"}}}
			}
		}
		t, err = s.svc.StartMultipartUpload(r.Context(), r.PathValue("dossier"), doc, partSize)
	default:
		return &requestError{kind: badQuery, detail: "multipart must be true or false",
			fields: []vault.FieldError{{Pointer: "/multipart", Detail: "must be true or false"}}}
	}
	if err != nil {
		return err
	}
	complete := "/v1/uploads/" + t.UploadID + "/complete"
	w.Header().Set("Location", complete)
	writeJSON(w, http.StatusCreated, "application/json", struct {
		vault.Ticket
		Complete string `json:"complete"`
	}{t, complete})
	return nil
}

// receiptBody is how the API returns a sealed receipt: the bundle as
// stored (envelope and log proof), and its predicate decoded for
// convenience.
type receiptBody struct {
	ReceiptID string                 `json:"receiptId"`
	Subject   receipt.Subject        `json:"subject"`
	Predicate vault.ReceiptPredicate `json:"predicate"`
	Envelope  *receipt.Envelope      `json:"envelope"`
	Log       *ledger.Proof          `json:"log"`
}

func (s *Server) complete(w http.ResponseWriter, r *http.Request) error {
	rc, err := s.svc.Complete(r.Context(), r.PathValue("upload"))
	var pending *vault.SealPending
	if errors.As(err, &pending) {
		// Not an error: a large object is still being hashed, and the
		// next call continues where this one stopped.
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusAccepted, "application/json", map[string]any{
			"uploadId": pending.UploadID, "state": "sealing", "hashedBytes": pending.Hashed, "size": pending.Size})
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", receiptBody{rc.Predicate.ReceiptID, rc.Subject, rc.Predicate, rc.Envelope, rc.Log})
	return nil
}

func (s *Server) receipt(w http.ResponseWriter, r *http.Request) error {
	rc, err := s.svc.Receipt(r.Context(), r.PathValue("receipt"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", rc.Bundle())
	return nil
}

// verifyRequest is the body of POST /v1/verify.
type verifyRequest struct {
	Receipt json.RawMessage `json:"receipt"`
	SHA256  string          `json:"sha256,omitempty"`
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request) error {
	var req verifyRequest
	if err := decodeJSON(w, r, maxVerifyBody, &req); err != nil {
		return err
	}
	if len(req.Receipt) == 0 {
		return &vault.Error{Code: vault.CodeInvalid, Message: "1 field is invalid",
			Fields: []vault.FieldError{{Pointer: "/receipt", Detail: "is required: the receipt bundle (or its DSSE envelope) as JSON"}}}
	}
	v, err := s.svc.Verify(r.Context(), req.Receipt, req.SHA256)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", v)
	return nil
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) error {
	st, err := s.svc.Upload(r.Context(), r.PathValue("upload"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", st)
	return nil
}

func (s *Server) abortUpload(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.AbortUpload(r.Context(), r.PathValue("upload")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// partsRequest is the body of POST /v1/uploads/{upload}/parts.
type partsRequest struct {
	Parts []vault.PartURL `json:"parts"`
}

func (s *Server) presignParts(w http.ResponseWriter, r *http.Request) error {
	var in partsRequest
	if err := decodeJSON(w, r, maxPartsBody, &in); err != nil {
		return err
	}
	parts, err := s.svc.PresignParts(r.Context(), r.PathValue("upload"), in.Parts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"parts": parts})
	return nil
}
