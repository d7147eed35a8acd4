// Package strictjson decodes JSON that is signed, stored or sent by others
// without guessing, with the semantics of encoding/json/v2
// (github.com/go-json-experiment/json, which Go 1.26 ships only behind
// GOEXPERIMENT=jsonv2): one value, valid UTF-8, unique member names
// (RFC 7493, I-JSON), names matched to fields exactly (case-sensitively),
// no member the target has no field for, nothing after the value.
// Receipts, stored records and API bodies are all read through it, so that
// there is one rule for what counts as well-formed, and what is signed is
// what was sent.
//
// When it refuses, the error lists every offending member by its JSON
// pointer (RFC 6901), so that a caller can answer with one problem per
// field.
package strictjson

import (
	"errors"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Kinds of problems, matched with errors.Is against an *Error.
var (
	// ErrSyntax: the data is not JSON (or ends in the middle of a value).
	ErrSyntax = errors.New("strictjson: not JSON")
	// ErrTrailingData: the data holds more after its JSON value.
	ErrTrailingData = errors.New("strictjson: data after the JSON value")
	// ErrDuplicateName: an object gives a member twice.
	ErrDuplicateName = errors.New("strictjson: duplicate member")
	// ErrInvalidUTF8: a string is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("strictjson: invalid UTF-8")
	// ErrUnknownField: a member the target type has no field for,
	// including one that differs from a field only in case.
	ErrUnknownField = errors.New("strictjson: unknown field")
	// ErrType: a value of the wrong JSON type (or out of range) for its
	// field.
	ErrType = errors.New("strictjson: wrong type")
)

// Problem is one thing wrong with the data.
type Problem struct {
	// Kind is one of the Err* values above.
	Kind error
	// Pointer names the member or value, "" for the whole document.
	Pointer string
	// Detail says what is wrong, for a person.
	Detail string
	// Offset is the byte offset of a syntax error, -1 for other problems.
	Offset int64
}

// Error is every problem found in refused data, in document order.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Detail
		if p.Pointer != "" {
			parts[i] = p.Pointer + ": " + p.Detail
		}
	}
	return "strictjson: " + strings.Join(parts, "; ")
}

// Is reports whether any problem is of kind target.
func (e *Error) Is(target error) bool {
	for _, p := range e.Problems {
		if p.Kind == target {
			return true
		}
	}
	return false
}

// options are encoding/json/v2's defaults for what they refuse (invalid
// UTF-8, duplicate names, case-variant names), and unknown members refused.
var options = json.JoinOptions(json.RejectUnknownMembers(true))

// Unmarshal decodes exactly one JSON value from data into v. It refuses
// what encoding/json/v2 refuses by default, unknown members and trailing
// data, with an *Error listing every problem; v may then be partly set.
func Unmarshal(data []byte, v any) error {
	err := json.Unmarshal(data, v, options)
	if err == nil {
		return nil
	}
	if problems := diagnose(data, v); len(problems) > 0 {
		return &Error{Problems: problems}
	}
	// The decoder saw something the diagnosis did not: report it as is.
	return &Error{Problems: []Problem{fromDecoder(err)}}
}

// fromDecoder turns one error of encoding/json/v2 into a problem.
func fromDecoder(err error) Problem {
	var se *jsontext.SyntacticError
	var me *json.SemanticError
	switch {
	case errors.As(err, &se):
		p := Problem{Kind: ErrSyntax, Pointer: string(se.JSONPointer), Detail: se.Err.Error(), Offset: se.ByteOffset}
		switch {
		case errors.Is(se.Err, jsontext.ErrDuplicateName):
			p.Kind, p.Detail, p.Offset = ErrDuplicateName, "is given more than once", -1
		case strings.Contains(se.Err.Error(), "invalid UTF-8"):
			p.Kind, p.Detail, p.Offset = ErrInvalidUTF8, "is not valid UTF-8", -1
		case strings.Contains(se.Err.Error(), "after top-level value"):
			p.Kind, p.Detail = ErrTrailingData, "data follows the JSON value"
		}
		return p
	case errors.As(err, &me):
		if errors.Is(me.Err, json.ErrUnknownName) {
			return Problem{Kind: ErrUnknownField, Pointer: string(me.JSONPointer), Detail: "is not a field of this object", Offset: -1}
		}
		return Problem{Kind: ErrType, Pointer: string(me.JSONPointer), Detail: typeDetail(me), Offset: -1}
	}
	return Problem{Kind: ErrSyntax, Detail: err.Error(), Offset: -1}
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
