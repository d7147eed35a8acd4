package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/evidencevault/vault/internal/logging"
	"github.com/evidencevault/vault/internal/vault"
)

// ProblemBase prefixes every problem type URI; docs/api.md describes each.
const ProblemBase = "https://evidencevault.dev/problems/"

// Problem is an RFC 9457 problem detail, with one entry per bad field.
type Problem struct {
	Type      string             `json:"type"`
	Title     string             `json:"title"`
	Status    int                `json:"status"`
	Detail    string             `json:"detail,omitempty"`
	Instance  string             `json:"instance,omitempty"`
	RequestID string             `json:"requestId,omitempty"`
	Errors    []vault.FieldError `json:"errors,omitempty"`
}

// problemType is how one kind of failure is answered.
type problemType struct {
	status int
	slug   string
	title  string
}

// codes maps every vault error code to its answer, in one place.
var codes = map[vault.Code]problemType{
	vault.CodeInvalid:         {http.StatusUnprocessableEntity, "invalid-request", "Request fields are invalid"},
	vault.CodeNotFound:        {http.StatusNotFound, "not-found", "Not found"},
	vault.CodeConflict:        {http.StatusConflict, "conflict", "Already exists"},
	vault.CodeForbidden:       {http.StatusForbidden, "forbidden", "Not allowed for this role"},
	vault.CodeUnauthenticated: {http.StatusUnauthorized, "unauthenticated", "Authentication required"},
	vault.CodeNotUploaded:     {http.StatusConflict, "not-uploaded", "Upload has no bytes yet"},
	vault.CodeExpired:         {http.StatusGone, "upload-expired", "Upload expired"},
	vault.CodeIntegrity:       {http.StatusUnprocessableEntity, "integrity", "Stored bytes differ from the declaration"},
	vault.CodeTampered:        {http.StatusBadGateway, "tampered", "Storage holds what the vault did not write"},
	vault.CodeUnavailable:     {http.StatusServiceUnavailable, "unavailable", "Storage did not answer in full; try again"},
	vault.CodeKeyReused:       {http.StatusUnprocessableEntity, "idempotency-key-reused", "Idempotency-Key used for another request"},
	vault.CodeInProgress:      {http.StatusConflict, "idempotency-in-progress", "A request with this Idempotency-Key is running"},
	vault.CodeReauthenticate:  {http.StatusUnauthorized, "reauthentication-required", "Sign in again to sign"},
	vault.CodeInternal:        {http.StatusInternalServerError, "internal", "Internal error"},
}

// Problems the HTTP layer itself raises, before the service is reached.
var (
	malformedJSON    = problemType{http.StatusBadRequest, "malformed-json", "Body is not valid JSON"}
	unknownFields    = problemType{http.StatusBadRequest, "unknown-fields", "Body has unknown fields"}
	wrongType        = problemType{http.StatusBadRequest, "wrong-type", "A field has the wrong JSON type"}
	storageFull      = problemType{http.StatusInsufficientStorage, "storage-full", "Storage is full"}
	storageDown      = problemType{http.StatusServiceUnavailable, "storage-unavailable", "Storage did not answer in time"}
	duplicateFields  = problemType{http.StatusBadRequest, "duplicate-fields", "Body gives a field twice"}
	invalidUTF8      = problemType{http.StatusBadRequest, "invalid-utf8", "Body is not valid UTF-8"}
	tooLarge         = problemType{http.StatusRequestEntityTooLarge, "body-too-large", "Body is too large"}
	unsupportedMedia = problemType{http.StatusUnsupportedMediaType, "unsupported-media-type", "Body must be application/json"}
	badQuery         = problemType{http.StatusBadRequest, "invalid-query", "Query parameters are invalid"}
	noRoute          = problemType{http.StatusNotFound, "not-found", "Not found"}
	wrongMethod      = problemType{http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed"}
	originRefused    = problemType{http.StatusForbidden, "origin-not-allowed", "Origin not allowed"}
)

// requestError is a failure of the HTTP layer with its problem type.
type requestError struct {
	kind   problemType
	detail string
	fields []vault.FieldError
}

func (e *requestError) Error() string { return "httpapi: " + e.kind.slug + ": " + e.detail }

// writeError answers err as problem+json. Errors without a known code are
// logged with their cause and answered as an opaque internal error.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var re *requestError
	var ve *vault.Error
	p := Problem{Instance: r.URL.Path, RequestID: logging.RequestID(r.Context())}
	switch {
	case errors.As(err, &re):
		p.Type, p.Title, p.Status = ProblemBase+re.kind.slug, re.kind.title, re.kind.status
		p.Detail, p.Errors = re.detail, re.fields
	case errors.As(err, &ve) && ve.Code != vault.CodeInternal:
		kind := codes[ve.Code]
		p.Type, p.Title, p.Status = ProblemBase+kind.slug, kind.title, kind.status
		p.Detail, p.Errors = ve.Message, ve.Fields
		if ve.Err != nil {
			log.WarnContext(r.Context(), "request refused", "code", string(ve.Code), "err", err)
		}
	case errors.Is(err, vault.ErrStorageFull):
		p.Type, p.Title, p.Status = ProblemBase+storageFull.slug, storageFull.title, storageFull.status
		p.Detail = "storage is full: nothing was stored; try again once its operator has freed space"
		log.ErrorContext(r.Context(), "storage full", "err", err, "method", r.Method, "path", r.URL.Path)
	case errors.Is(err, vault.ErrStorageUnavailable), errors.Is(err, context.DeadlineExceeded):
		p.Type, p.Title, p.Status = ProblemBase+storageDown.slug, storageDown.title, storageDown.status
		p.Detail = "storage did not answer in time or is failing; what was not acknowledged was not done: repeat the request in a few seconds (repeating an upload or complete is safe)"
		log.ErrorContext(r.Context(), "storage unavailable", "err", err, "method", r.Method, "path", r.URL.Path)
	default:
		kind := codes[vault.CodeInternal]
		p.Type, p.Title, p.Status = ProblemBase+kind.slug, kind.title, kind.status
		p.Detail = "the vault could not complete the request; quote the request id when reporting it"
		log.ErrorContext(r.Context(), "internal error", "err", err, "method", r.Method, "path", r.URL.Path)
	}
	switch {
	case p.Type == ProblemBase+storageDown.slug:
		w.Header().Set("Retry-After", "5")
	case p.Status == http.StatusServiceUnavailable || p.Status == http.StatusInsufficientStorage || p.Type == ProblemBase+"idempotency-in-progress":
		w.Header().Set("Retry-After", "1")
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description=`+strconv.Quote(p.Detail))
	}
	writeJSON(w, p.Status, "application/problem+json", p)
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	data, err := marshalJSON(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"title":"Internal error","status":500}`+"\n")
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	w.Write(data)
}

// marshalJSON is how every JSON answer is written: indented, one line
// feed at the end.
func marshalJSON(v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	return append(data, '\n'), err
}
