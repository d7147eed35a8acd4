package strictjson_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/evidencevault/vault/internal/strictjson"
)

type doc struct {
	Title string `json:"title"`
	Size  int64  `json:"size"`
}

func TestUnmarshal(t *testing.T) {
	tests := []struct {
		in   string
		want func(error) bool
	}{
		{`{"title":"a","size":1}`, func(err error) bool { return err == nil }},
		{`{"title":"a","extra":1}`, func(err error) bool {
			var u *strictjson.UnknownFieldError
			return errors.As(err, &u) && u.Name == "extra"
		}},
		{`{"title":"a"} {}`, func(err error) bool { return errors.Is(err, strictjson.ErrTrailingData) }},
		{`{"title":`, func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		{`{"size":"1"}`, func(err error) bool { var te *json.UnmarshalTypeError; return errors.As(err, &te) }},
		{`{"title" 1}`, func(err error) bool { var se *json.SyntaxError; return errors.As(err, &se) }},
	}
	for _, tt := range tests {
		var d doc
		if err := strictjson.Unmarshal([]byte(tt.in), &d); !tt.want(err) {
			t.Errorf("Unmarshal(%s): got %v", tt.in, err)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`{"title":"a","size":1}`))
	f.Add([]byte(`{"title":"a","x":[1,{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d doc
		if strictjson.Unmarshal(data, &d) != nil {
			return
		}
		// Whatever is accepted is one object of known fields: it reads
		// the same with encoding/json.
		var again doc
		if err := json.Unmarshal(data, &again); err != nil || again != d {
			t.Errorf("accepted %q as %+v; encoding/json reads %+v, %v", data, d, again, err)
		}
	})
}

func ExamplePointer() {
	fmt.Println(strictjson.Pointer("file", "contentType"))
	fmt.Println(strictjson.Pointer("a/b", "m~n"))
	// Output:
	// /file/contentType
	// /a~1b/m~0n
}

func TestTrailingBrackets(t *testing.T) {
	for _, in := range []string{`{"title":"a"}}`, `{"title":"a"}]`, `{"title":"a"} x`} {
		var d doc
		if err := strictjson.Unmarshal([]byte(in), &d); !errors.Is(err, strictjson.ErrTrailingData) {
			t.Errorf("Unmarshal(%s): got %v, want ErrTrailingData", in, err)
		}
	}
}
