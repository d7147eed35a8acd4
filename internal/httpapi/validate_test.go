package httpapi_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/evidencevault/vault/openapi"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// contract checks every exchange of the API tests against the OpenAPI
// document: each answer must be one the document describes for its route
// (problems included), and each request the vault accepted (2xx) must be
// one the document allows. A request it refused may break the contract:
// that is what the tests send.
func contract(t *testing.T, h http.Handler) http.Handler {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document)
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = nil // any host: the test server's port is its own
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	// The completeness report's HTML is checked as a string.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())

		check := r.Clone(r.Context())
		check.Body = io.NopCloser(bytes.NewReader(body))
		route, params, err := router.FindRoute(check)
		switch {
		case err != nil && (rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed),
			r.Method == http.MethodOptions:
			return // no route, rightly; preflights are CORS's
		case err != nil:
			t.Errorf("openapi: %s %s answered %d but is not in the document: %v", r.Method, r.URL.Path, rec.Code, err)
			return
		}
		in := &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route, Options: opts}
		if rec.Code < 300 {
			if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
				t.Errorf("openapi: %s %s was accepted (%d) but breaks the contract: %v", r.Method, r.URL, rec.Code, err)
			}
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
			Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), Options: opts}
		if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
			t.Errorf("openapi: the answer %d to %s %s breaks the contract: %v\n%.600s", rec.Code, r.Method, r.URL, err, rec.Body.Bytes())
		}
	})
}
