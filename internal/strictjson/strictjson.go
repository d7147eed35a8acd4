// Package strictjson decodes JSON that is signed, stored or sent by others
// without guessing: one value, no members the target has no field for,
// nothing after it. Receipts, stored records and API bodies are all read
// through it, so that there is one rule for what counts as well-formed.
// It also spells JSON pointers (RFC 6901), the way problems name fields.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// ErrTrailingData: the data holds more after its JSON value.
var ErrTrailingData = errors.New("strictjson: data after the JSON value")

// UnknownFieldError: an object member the target type has no field for.
type UnknownFieldError struct {
	Name string
}

func (e *UnknownFieldError) Error() string {
	return "json: unknown field " + strconv.Quote(e.Name)
}

// Unmarshal decodes exactly one JSON value from data into v. It returns
// *UnknownFieldError for a member v has no field for, ErrTrailingData for
// anything after the value, and encoding/json's own errors
// (*json.SyntaxError, *json.UnmarshalTypeError, io.ErrUnexpectedEOF) for
// the rest.
func Unmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		// encoding/json has no error type for an unknown field; its
		// message is the only sign, and this is the one place read it.
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			if n, err := strconv.Unquote(name); err == nil {
				name = n
			}
			return &UnknownFieldError{Name: name}
		}
		return err
	}
	// Decoder.More says nothing of a stray '}' or ']' after the value:
	// look at what is left.
	if len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		return ErrTrailingData
	}
	return nil
}

// Pointer joins reference tokens into a JSON pointer (RFC 6901), escaping
// each: Pointer("standards", "2") is "/standards/2", Pointer("a/b") "/a~1b".
func Pointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}
