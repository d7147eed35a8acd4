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
// the value too, and answer every bad field at once. It walks data once,
// however many pointers; values stay as they were written (numbers are
// not rounded); pointers that name nothing in data are passed over.
func Without(data []byte, pointers []string) ([]byte, error) {
	v := jsontext.Value(bytes.TrimSpace(data))
	if !v.IsValid(lenient) {
		return nil, ErrSyntax
	}
	root := &cut{}
	for _, p := range pointers {
		n := root
		for _, t := range tokens(p) {
			if n.whole {
				break
			}
			if n.next == nil {
				n.next = map[string]*cut{}
			}
			if n.next[t] == nil {
				n.next[t] = &cut{}
			}
			n = n.next[t]
		}
		n.whole, n.next = true, nil
	}
	return remove(v, root)
}

// cut is what to take out of a value: all of it, or parts of its members.
type cut struct {
	whole bool
	next  map[string]*cut
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

func remove(v jsontext.Value, c *cut) (jsontext.Value, error) {
	if c.whole {
		return jsontext.Value("null"), nil
	}
	if len(c.next) == 0 {
		return v, nil
	}
	switch v.Kind() {
	case '{':
		var m map[string]jsontext.Value
		if err := json.Unmarshal(v, &m, lenient); err != nil {
			return nil, err
		}
		for k, sub := range c.next {
			e, ok := m[k]
			switch {
			case !ok:
			case sub.whole:
				delete(m, k)
			default:
				r, err := remove(e, sub)
				if err != nil {
					return nil, err
				}
				m[k] = r
			}
		}
		return json.Marshal(m, lenient)
	case '[':
		var a []jsontext.Value
		if err := json.Unmarshal(v, &a, lenient); err != nil {
			return nil, err
		}
		for k, sub := range c.next {
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(a) {
				continue
			}
			if a[i], err = remove(a[i], sub); err != nil {
				return nil, err
			}
		}
		return json.Marshal(a, lenient)
	}
	return v, nil
}
