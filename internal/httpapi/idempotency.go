package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
)

// idempotent runs a route that creates under the caller's Idempotency-Key,
// when the request has one: a repeat of the same request gets the first
// answer again, marked Idempotent-Replayed: true (docs/api.md). The
// fingerprint is the method, path, query and body: a repeat must be the
// same request.
func (s *Server) idempotent(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return s.idempotentUpTo(maxMetadataBody, h)
}

// idempotentUpTo is idempotent for a route whose bodies may reach limit
// bytes: the same limit as without a key.
func (s *Server) idempotentUpTo(limit int64, h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return s.remembering(limit, func(r *http.Request, key string, fp []byte, do func() ([]byte, error)) ([]byte, bool, error) {
		return s.v.Remember(r.Context(), key, fp, do)
	}, h)
}

// idempotentReading is idempotent for a route that any reader of the
// path's dossier may call, and that logs what it does (an export).
func (s *Server) idempotentReading(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return s.remembering(maxMetadataBody, func(r *http.Request, key string, fp []byte, do func() ([]byte, error)) ([]byte, bool, error) {
		return s.v.RememberReading(r.Context(), r.PathValue("dossier"), key, fp, do)
	}, h)
}

type rememberFunc func(r *http.Request, key string, fingerprint []byte, do func() ([]byte, error)) ([]byte, bool, error)

func (s *Server) remembering(limit int64, remember rememberFunc, h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			return h(w, r)
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return &requestError{kind: tooLarge, detail: fmt.Sprintf("the body must be at most %d bytes", limit)}
			}
			return &requestError{kind: malformedJSON, detail: "the body could not be read"}
		}
		fp := sha256.New()
		for _, part := range []string{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type")} {
			fp.Write([]byte(part))
			fp.Write([]byte{0})
		}
		fp.Write(body)
		answer, replayed, err := remember(r, key, fp.Sum(nil), func() ([]byte, error) {
			r.Body = io.NopCloser(bytes.NewReader(body))
			rec := httptest.NewRecorder()
			if err := h(rec, r); err != nil {
				return nil, err
			}
			if rec.Code >= 300 {
				return nil, &answerError{rec}
			}
			return json.Marshal(storedAnswer{Status: rec.Code, Location: rec.Header().Get("Location"), ContentType: rec.Header().Get("Content-Type"), Body: rec.Body.Bytes()})
		})
		var ae *answerError
		if errors.As(err, &ae) {
			// Answered, but not with success: passed on, not remembered.
			return replay(w, storedAnswer{Status: ae.rec.Code, Location: ae.rec.Header().Get("Location"), ContentType: ae.rec.Header().Get("Content-Type"), Body: ae.rec.Body.Bytes()}, false)
		}
		if err != nil {
			return err
		}
		var a storedAnswer
		if err := json.Unmarshal(answer, &a); err != nil {
			return err
		}
		return replay(w, a, replayed)
	}
}

// storedAnswer is what the vault remembers of a successful answer.
type storedAnswer struct {
	Status      int    `json:"status"`
	Location    string `json:"location,omitempty"`
	ContentType string `json:"contentType"`
	Body        []byte `json:"body"`
}

// answerError carries an unsuccessful answer out of Remember.
type answerError struct{ rec *httptest.ResponseRecorder }

func (e *answerError) Error() string { return "httpapi: answered " + http.StatusText(e.rec.Code) }

func replay(w http.ResponseWriter, a storedAnswer, replayed bool) error {
	if a.Location != "" {
		w.Header().Set("Location", a.Location)
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Content-Type", a.ContentType)
	w.WriteHeader(a.Status)
	_, err := w.Write(a.Body)
	return err
}
