package strictjson

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Without returns data with the values at pointers taken out: an object's
// member removed, an array's element made null (so that the pointers of
// the others still hold). Unmarshal stops at a member of the wrong type;
// decoding Without(data, those members) lets a caller check the rest of
// the value too, and answer every bad field at once. Values stay as they
// were written (numbers are not rounded); pointers that name nothing in
// data are passed over.
func Without(data []byte, pointers []string) ([]byte, error) {
	v := jsontext.Value(bytes.TrimSpace(data))
	if !v.IsValid(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)) {
		return nil, ErrSyntax
	}
	for _, p := range pointers {
		var err error
		if v, err = remove(v, tokens(p)); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// tokens splits a JSON pointer into its unescaped reference tokens.
func tokens(p string) []string {
	if p == "" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, t := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return parts
}

var lenient = json.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

func remove(v jsontext.Value, at []string) (jsontext.Value, error) {
	if len(at) == 0 {
		return jsontext.Value("null"), nil
	}
	switch v.Kind() {
	case '{':
		var m map[string]jsontext.Value
		if err := json.Unmarshal(v, &m, lenient); err != nil {
			return nil, err
		}
		c, ok := m[at[0]]
		if !ok {
			return v, nil
		}
		if len(at) == 1 {
			delete(m, at[0])
		} else {
			r, err := remove(c, at[1:])
			if err != nil {
				return nil, err
			}
			m[at[0]] = r
		}
		return json.Marshal(m, lenient)
	case '[':
		var a []jsontext.Value
		if err := json.Unmarshal(v, &a, lenient); err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(at[0])
		if err != nil || i < 0 || i >= len(a) {
			return v, nil
		}
		if a[i], err = remove(a[i], at[1:]); err != nil {
			return nil, err
		}
		return json.Marshal(a, lenient)
	}
	return v, nil
}
