package strictjson_test

import (
	stdjson "encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/strictjson"
)

type file struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

type plan struct {
	Parts int `json:"parts"`
}

type doc struct {
	plan
	Title     string             `json:"title"`
	Tags      []string           `json:"tags,omitempty"`
	File      file               `json:"file"`
	Effective time.Time          `json:"effective"`
	Extra     stdjson.RawMessage `json:"extra,omitempty"`
	Limit     *int               `json:"limit"`
}

// problems returns "kind pointer" for each problem of err.
func problems(err error) []string {
	var e *strictjson.Error
	if !errors.As(err, &e) {
		return nil
	}
	kinds := map[error]string{strictjson.ErrSyntax: "syntax", strictjson.ErrTrailingData: "trailing", strictjson.ErrDuplicateName: "duplicate",
		strictjson.ErrInvalidUTF8: "utf8", strictjson.ErrUnknownField: "unknown", strictjson.ErrType: "type"}
	var out []string
	for _, p := range e.Problems {
		out = append(out, kinds[p.Kind]+" "+p.Pointer)
	}
	return out
}

func TestUnmarshal(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"valid", `{"title":"a","parts":2,"file":{"name":"x","size":1},"effective":"2026-01-02T03:04:05Z","extra":{"any":[1]},"limit":null}`, nil},
		{"a member twice", `{"title":"a","title":"b"}`, []string{"duplicate /title"}},
		{"case-variant names", `{"TITLE":"a","File":{"Name":"x"}}`, []string{"unknown /TITLE", "unknown /File"}},
		{"invalid UTF-8 in a value", "{\"title\":\"a\xffb\"}", []string{"utf8 /title"}},
		{"a lone surrogate", `{"title":"a\ud800b"}`, []string{"utf8 /title"}},
		{"invalid UTF-8 in a name", "{\"t\xffx\":1}", []string{"utf8 /t\ufffdx", "unknown /t\ufffdx"}},
		{"every unknown field", `{"x":1,"file":{"name":"a","y":2},"z":3}`, []string{"unknown /x", "unknown /file/y", "unknown /z"}},
		{"every wrong type", `{"title":1,"parts":"2","file":{"size":"big"},"tags":[1,"b",true],"effective":"yesterday","limit":"x"}`,
			[]string{"type /title", "type /parts", "type /file/size", "type /tags/0", "type /tags/2", "type /effective", "type /limit"}},
		{"an object where a string goes", `{"title":{"a":1},"file":"x"}`, []string{"type /title", "type /file"}},
		{"trailing data", `{"title":"a"} {}`, []string{"trailing "}},
		{"not JSON", `{"title" 1}`, []string{"syntax /title"}},
		{"cut short", `{"title":`, []string{"syntax /title"}},
		{"all at once", `{"title":"a","title":1,"x":2,"parts":"3"}`, []string{"duplicate /title", "unknown /x", "type /parts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			err := strictjson.Unmarshal([]byte(tt.in), &d)
			got := problems(err)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || (err == nil) != (tt.want == nil) {
				t.Errorf("got %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}

// TestBytes: []byte is a base64 string in JSON, and its problems say so.
func TestBytes(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`{"tokens":["AAEC"]}`, ""},
		{`{"tokens":[null]}`, ""},
		{`{"tokens":[1]}`, "/tokens/0: must be a base64 string, not number"},
		{`{"tokens":[[1]]}`, "/tokens/0: must be a base64 string, not array"},
		{`{"tokens":["!!"]}`, "/tokens/0: "},
		{`{"tokens":"AAEC"}`, "/tokens: must be a JSON array, not string"},
	}
	for _, tt := range tests {
		var v struct {
			Tokens [][]byte `json:"tokens"`
		}
		err := strictjson.Unmarshal([]byte(tt.in), &v)
		var e *strictjson.Error
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: got %v, want no error", tt.in, err)
		case tt.want != "" && (!errors.As(err, &e) || len(e.Problems) != 1):
			t.Errorf("%s: got %v, want one problem", tt.in, err)
		case tt.want != "" && !strings.HasPrefix(e.Problems[0].Pointer+": "+e.Problems[0].Detail, tt.want):
			t.Errorf("%s: got %q, want %q", tt.in, e.Problems[0].Pointer+": "+e.Problems[0].Detail, tt.want)
		case tt.want == "/tokens/0: " && strings.Contains(e.Problems[0].Detail, "array"):
			t.Errorf("%s: got %q, which calls base64 an array", tt.in, e.Problems[0].Detail)
		}
	}
}

func TestKinds(t *testing.T) {
	var d doc
	err := strictjson.Unmarshal([]byte(`{"title":"a","title":"b"}`), &d)
	if !errors.Is(err, strictjson.ErrDuplicateName) || errors.Is(err, strictjson.ErrUnknownField) {
		t.Errorf("got %v, want a duplicate name and nothing else", err)
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`{"title":"a","parts":1,"file":{"name":"x","size":1}}`))
	f.Add([]byte(`{"title":"a","title":"b","x":[1,{}]}`))
	f.Add([]byte("{\"title\":\"\xff\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d doc
		err := strictjson.Unmarshal(data, &d)
		if err != nil {
			var e *strictjson.Error
			if !errors.As(err, &e) || len(e.Problems) == 0 {
				t.Fatalf("refused %q without a problem: %v", data, err)
			}
			return
		}
		// Whatever is accepted reads the same with encoding/json, which
		// is laxer: strictness only ever refuses.
		var again doc
		if err := stdjson.Unmarshal(data, &again); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", data, err)
		}
	})
}

func ExampleUnmarshal() {
	var v struct {
		Path  string `json:"path"`
		Title string `json:"title"`
	}
	err := strictjson.Unmarshal([]byte(`{"path":"a.pdf","path":"b.pdf","Title":"x"}`), &v)
	for _, p := range err.(*strictjson.Error).Problems {
		fmt.Println(p.Pointer, p.Detail)
	}
	// Output:
	// /path is given more than once; each member may appear once
	// /Title is not a field: names are case-sensitive, and this one is "title"
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

// TestTypeDetails: a refused value's detail says what the field takes.
func TestTypeDetails(t *testing.T) {
	type target struct {
		Size  int64      `json:"size"`
		Parts uint8      `json:"parts"`
		Until *time.Time `json:"until"`
		Name  string     `json:"name"`
	}
	tests := []struct {
		in, want string
	}{
		{`{"size":1.5}`, "/size: must be a whole number"},
		{`{"size":1e30}`, "/size: must be a whole number"},
		{`{"parts":300}`, "/parts: must be a whole number from 0 to 255"},
		{`{"parts":-1}`, "/parts: must be a whole number from 0 to 255"},
		{`{"size":"1"}`, "/size: must be a JSON number, not string"},
		{`{"until":5}`, "/until: must be an RFC 3339 date-time string, such as 2027-06-30T23:59:59Z, not number"},
		{`{"until":"next week"}`, "/until: is not an RFC 3339 date-time, such as 2027-06-30T23:59:59Z"},
		{`{"name":5}`, "/name: must be a JSON string, not number"},
	}
	for _, tt := range tests {
		var v target
		err := strictjson.Unmarshal([]byte(tt.in), &v)
		var e *strictjson.Error
		if !errors.As(err, &e) || len(e.Problems) != 1 {
			t.Errorf("%s: got %v, want one problem", tt.in, err)
			continue
		}
		if got := e.Problems[0].Pointer + ": " + e.Problems[0].Detail; got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.in, got, tt.want)
		}
	}
}
