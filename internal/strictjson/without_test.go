package strictjson_test

import (
	"testing"

	"github.com/evidencevault/vault/internal/strictjson"
	"github.com/go-json-experiment/json/jsontext"
)

func TestWithout(t *testing.T) {
	tests := []struct {
		name, data string
		pointers   []string
		want       string
	}{
		{"a member", `{"a": 1, "b": "x"}`, []string{"/a"}, `{"b":"x"}`},
		{"nested, escaped", `{"a/b": {"c~d": 1, "e": 2}}`, []string{"/a~1b/c~0d"}, `{"a/b":{"e":2}}`},
		{"an element made null", `{"s": [1, "two", 3]}`, []string{"/s/1"}, `{"s":[1,null,3]}`},
		{"numbers kept as written", `{"n": 12345678901234567890, "x": true}`, []string{"/x"}, `{"n":12345678901234567890}`},
		{"nothing there", `{"a": 1}`, []string{"/b", "/a/c", "/a/0"}, `{"a":1}`},
		{"out of range", `[1]`, []string{"/5", "/-1", "/x"}, `[1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := strictjson.Without([]byte(tt.data), tt.pointers)
			if err != nil || string(got) != tt.want {
				t.Errorf("got %s (%v), want %s", got, err, tt.want)
			}
		})
	}
	if _, err := strictjson.Without([]byte(`{"a": [1,`), []string{"/a/0"}); err == nil {
		t.Error("broken JSON: no error")
	}
}

// FuzzWithout: whatever the bytes and pointers, Without does not panic,
// and what it returns is JSON.
func FuzzWithout(f *testing.F) {
	f.Add([]byte(`{"a": {"b": [1, 2]}}`), "/a/b/1")
	f.Add([]byte(`[{"x~": 1}]`), "/0/x~0")
	f.Fuzz(func(t *testing.T, data []byte, pointer string) {
		out, err := strictjson.Without(data, []string{pointer})
		if err == nil && !jsontext.Value(out).IsValid(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)) {
			t.Errorf("Without(%q, %q) = %q: not JSON", data, pointer, out)
		}
	})
}
