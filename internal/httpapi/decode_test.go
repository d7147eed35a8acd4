package httpapi

import (
	"errors"
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
			for _, f := range errFields(re) {
				if f.Pointer == "" || f.Pointer[0] != '/' {
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

func TestUnknownFieldsAllReported(t *testing.T) {
	err := parseJSON([]byte(`{"path":"a","x":1,"file":{"name":"a","y":2,"size":3},"standards":["a"],"z":{"w":1}}`), &vault.Document{})
	var re *requestError
	if !errors.As(err, &re) || re.kind != unknownFields {
		t.Fatalf("got %v, want unknown fields", err)
	}
	var got []string
	for _, f := range re.fields {
		got = append(got, f.Pointer)
	}
	want := []string{"/file/y", "/x", "/z"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("got %v, want %v", got, want)
		}
	}
}
