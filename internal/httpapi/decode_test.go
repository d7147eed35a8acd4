package httpapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/evidencevault/vault/internal/vault"
)

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"path":"a.txt","file":{"name":"a.txt","size":1}}`,
		`{"name":"x","colour":"red"}`,
		`{"file":{"md5":1}}`,
		`{"standards":[1,2]}`,
		`[]`, `null`, `{"path":`, `{} {}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range []any{&vault.Document{}, &vault.DossierInput{}, &verifyRequest{}} {
			err := parseJSON(data, v)
			var re *requestError
			if err != nil && !errors.As(err, &re) {
				t.Fatalf("parseJSON(%q) = %v, not a request error", data, err)
			}
			if re != nil && re.kind.status != 400 {
				t.Fatalf("parseJSON(%q) answered %d, want 400", data, re.kind.status)
			}
			fields := errFields(re)
			for _, f := range fields {
				switch {
				case f.Pointer == "" && len(fields) != 1:
					t.Fatalf("parseJSON(%q): the body itself refused among %d fields", data, len(fields))
				case f.Pointer != "" && f.Pointer[0] != '/':
					t.Fatalf("parseJSON(%q): pointer %q", data, f.Pointer)
				}
			}
		}
	})
}

func errFields(re *requestError) []vault.FieldError {
	if re == nil {
		return nil
	}
	return re.fields
}

// TestBodyProblemsAllReported: what is signed is exactly what was sent, so
// a body that could be read more than one way is refused, every offending
// field named at once.
func TestBodyProblemsAllReported(t *testing.T) {
	tests := []struct {
		name string
		body string
		kind problemType
		want []string
	}{
		{"unknown fields, in document order", `{"path":"a","x":1,"file":{"name":"a","y":2,"size":3},"standards":["a"],"z":{"w":1}}`,
			unknownFields, []string{"/x", "/file/y", "/z"}},
		{"a key given twice", `{"path":"a.pdf","title":"A","title":"B","path":"b.pdf"}`, duplicateFields, []string{"/title", "/path"}},
		{"keys that differ only in case", `{"path":"a.pdf","TITLE":"A","Path":"b.pdf"}`, unknownFields, []string{"/TITLE", "/Path"}},
		{"invalid UTF-8", "{\"path\":\"a\xff.pdf\",\"title\":\"caf\xe9\"}", invalidUTF8, []string{"/path", "/title"}},
		{"wrong types, every one", `{"path":1,"title":true,"file":{"size":"1","name":[]},"standards":"IEC 62304"}`,
			wrongType, []string{"/path", "/title", "/file/size", "/file/name", "/standards"}},
		{"an array for the object", `[]`, wrongType, []string{""}},
		{"a string for the object", `"a.pdf"`, wrongType, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parseJSON([]byte(tt.body), &vault.Document{})
			var re *requestError
			if !errors.As(err, &re) || re.kind != tt.kind {
				t.Fatalf("got %v, want a %s problem", err, tt.kind.slug)
			}
			var got []string
			for _, f := range re.fields {
				got = append(got, f.Pointer)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("got fields %v, want %v", got, tt.want)
			}
		})
	}
}
