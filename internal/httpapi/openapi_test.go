package httpapi

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/evidencevault/vault/openapi"
	"github.com/getkin/kin-openapi/openapi3"
)

// TestContractCoversEveryRoute: every route the router serves is in the
// OpenAPI document, and every operation of the document is served.
func TestContractCoversEveryRoute(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("got OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	var served, documented []string
	for _, rt := range (&Server{}).routes() {
		served = append(served, rt.method+" "+rt.pattern)
		op := doc.Paths.Find(rt.pattern)
		if op == nil || op.GetOperation(rt.method) == nil {
			t.Errorf("%s %s is served but not in the OpenAPI document", rt.method, rt.pattern)
			continue
		}
		if public := op.GetOperation(rt.method).Security; rt.public != (public != nil && len(*public) == 0) {
			t.Errorf("%s %s: public %v, but the document's security says otherwise", rt.method, rt.pattern, rt.public)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
			if !slices.Contains(served, method+" "+path) {
				t.Errorf("%s %s is in the OpenAPI document but not served", method, path)
			}
		}
	}
	if len(served) != len(documented) {
		t.Errorf("got %d routes served, %d documented", len(served), len(documented))
	}
	// Every problem type the API answers with is listed.
	enum := doc.Components.Schemas["Problem"].Value.Properties["type"].Value.Enum
	kinds := []problemType{malformedJSON, unknownFields, wrongType, duplicateFields, invalidUTF8, tooLarge, unsupportedMedia, badQuery, noRoute, wrongMethod, originRefused, storageFull}
	for _, k := range codes {
		kinds = append(kinds, k)
	}
	for _, k := range kinds {
		if !slices.Contains(enum, any(ProblemBase+k.slug)) {
			t.Errorf("problem type %s is answered but not in the document", k.slug)
		}
		if !strings.Contains(doc.Components.Schemas["Problem"].Value.Description, k.slug) {
			t.Errorf("problem type %s is not described", k.slug)
		}
	}
}
