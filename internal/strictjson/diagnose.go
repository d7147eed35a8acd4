package strictjson

import (
	"bytes"
	"encoding"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The decoder stops at its first refusal. To answer with every problem at
// once, refused data is read again: its syntax token by token with
// jsontext, tolerating duplicate names and invalid UTF-8 so as to list
// them, then its members against the target's fields, each value decoded
// on its own by encoding/json/v2 for its type errors.

// node is a JSON value as read for the diagnosis.
type node struct {
	kind    jsontext.Kind
	raw     jsontext.Value // scalars
	members []member       // objects, in order
	elems   []*node        // arrays
}

type member struct {
	name  string
	value *node
	dup   bool // a later member of the same name
}

// diagnose lists every problem of data as a value for v.
func diagnose(data []byte, v any) []Problem {
	dec := jsontext.NewDecoder(bytes.NewReader(data), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	var problems []Problem
	root, err := readNode(dec, "", &problems)
	if err != nil {
		return []Problem{syntaxProblem(err)}
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		problems = append(problems, Problem{Kind: ErrTrailingData, Detail: "data follows the JSON value", Offset: dec.InputOffset()})
	}
	t := reflect.TypeOf(v)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil {
		problems = append(problems, check(root, t, "")...)
	}
	return problems
}

func syntaxProblem(err error) Problem {
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		if errors.Is(se.Err, io.ErrUnexpectedEOF) {
			return Problem{Kind: ErrSyntax, Pointer: string(se.JSONPointer), Detail: "the data ends in the middle of a JSON value", Offset: se.ByteOffset}
		}
		return Problem{Kind: ErrSyntax, Pointer: string(se.JSONPointer), Detail: se.Err.Error(), Offset: se.ByteOffset}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return Problem{Kind: ErrSyntax, Detail: "the data ends in the middle of a JSON value", Offset: -1}
	}
	return Problem{Kind: ErrSyntax, Detail: err.Error(), Offset: -1}
}

// readNode reads one value, noting duplicate names and invalid UTF-8.
func readNode(dec *jsontext.Decoder, at string, problems *[]Problem) (*node, error) {
	switch kind := dec.PeekKind(); kind {
	case '{':
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		n := &node{kind: kind}
		seen := map[string]bool{}
		for dec.PeekKind() != '}' {
			raw, err := dec.ReadValue()
			if err != nil {
				return nil, err
			}
			name, valid := stringOf(raw)
			ptr := at + Pointer(name)
			if !valid {
				*problems = append(*problems, Problem{Kind: ErrInvalidUTF8, Pointer: ptr, Detail: "the member's name is not valid UTF-8", Offset: -1})
			}
			dup := seen[name]
			if dup {
				*problems = append(*problems, Problem{Kind: ErrDuplicateName, Pointer: ptr, Detail: "is given more than once; each member may appear once", Offset: -1})
			}
			seen[name] = true
			value, err := readNode(dec, ptr, problems)
			if err != nil {
				return nil, err
			}
			n.members = append(n.members, member{name: name, value: value, dup: dup})
		}
		_, err := dec.ReadToken()
		return n, err
	case '[':
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		n := &node{kind: kind}
		for i := 0; dec.PeekKind() != ']'; i++ {
			e, err := readNode(dec, at+Pointer(strconv.Itoa(i)), problems)
			if err != nil {
				return nil, err
			}
			n.elems = append(n.elems, e)
		}
		_, err := dec.ReadToken()
		return n, err
	default:
		raw, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		if kind == '"' {
			if _, valid := stringOf(raw); !valid {
				*problems = append(*problems, Problem{Kind: ErrInvalidUTF8, Pointer: at, Detail: "is not valid UTF-8", Offset: -1})
			}
		}
		return &node{kind: raw.Kind(), raw: raw.Clone()}, nil
	}
}

// stringOf decodes a raw JSON string, and reports whether it is valid
// UTF-8 (lone surrogate escapes included).
func stringOf(raw jsontext.Value) (string, bool) {
	valid := raw.IsValid()
	var s string
	json.Unmarshal(raw, &s, jsontext.AllowInvalidUTF8(true))
	return s, valid
}

var (
	rawMessage  = reflect.TypeFor[stdjson.RawMessage]()
	rawValue    = reflect.TypeFor[jsontext.Value]()
	anyType     = reflect.TypeFor[any]()
	unmarshalV1 = reflect.TypeFor[stdjson.Unmarshaler]()
	unmarshalV2 = reflect.TypeFor[json.Unmarshaler]()
	unmarshalTx = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// check compares a value with the Go type it is decoded into.
func check(n *node, t reflect.Type, at string) []Problem {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.kind == 'n' || t == rawMessage || t == rawValue || t == anyType {
		return nil // null sets the zero value; raw values take anything
	}
	if custom(t) {
		return decodeLeaf(n, t, at)
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.kind != '{' {
			return []Problem{{Kind: ErrType, Pointer: at, Detail: "must be a JSON object, not " + kindName(n.kind), Offset: -1}}
		}
		fields := fieldsOf(t)
		var problems []Problem
		for _, m := range n.members {
			if m.dup {
				continue
			}
			ptr := at + Pointer(m.name)
			ft, ok := fields[m.name]
			if !ok {
				problems = append(problems, Problem{Kind: ErrUnknownField, Pointer: ptr, Detail: unknownDetail(m.name, fields), Offset: -1})
				continue
			}
			problems = append(problems, check(m.value, ft, ptr)...)
		}
		return problems
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			// []byte is a base64 string in JSON, not an array.
			if n.kind != '"' {
				return []Problem{{Kind: ErrType, Pointer: at, Detail: "must be a base64 string, not " + kindName(n.kind), Offset: -1}}
			}
			return decodeLeaf(n, t, at)
		}
		if n.kind != '[' {
			return []Problem{{Kind: ErrType, Pointer: at, Detail: "must be a JSON array, not " + kindName(n.kind), Offset: -1}}
		}
		var problems []Problem
		for i, e := range n.elems {
			problems = append(problems, check(e, t.Elem(), at+Pointer(strconv.Itoa(i)))...)
		}
		return problems
	case reflect.Map:
		if n.kind != '{' {
			return []Problem{{Kind: ErrType, Pointer: at, Detail: "must be a JSON object, not " + kindName(n.kind), Offset: -1}}
		}
		var problems []Problem
		for _, m := range n.members {
			if !m.dup {
				problems = append(problems, check(m.value, t.Elem(), at+Pointer(m.name))...)
			}
		}
		return problems
	}
	return decodeLeaf(n, t, at)
}

// custom reports whether t decodes itself (time.Time, ledger.Hashes, ...).
func custom(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(unmarshalV1) || p.Implements(unmarshalV2) || p.Implements(unmarshalTx)
}

// decodeLeaf decodes one value on its own, for its type error.
func decodeLeaf(n *node, t reflect.Type, at string) []Problem {
	raw := n.raw
	if raw == nil {
		var err error
		if raw, err = json.Marshal(n.tree()); err != nil {
			return nil
		}
	}
	err := json.Unmarshal(raw, reflect.New(t).Interface(), options, jsontext.AllowInvalidUTF8(true))
	if err == nil {
		return nil
	}
	var me *json.SemanticError
	if errors.As(err, &me) {
		return []Problem{{Kind: ErrType, Pointer: at, Detail: typeDetail(me), Offset: -1}}
	}
	return []Problem{{Kind: ErrType, Pointer: at, Detail: err.Error(), Offset: -1}}
}

// tree rebuilds a composite value for decoding it whole.
func (n *node) tree() any {
	switch n.kind {
	case '{':
		m := map[string]any{}
		for _, mb := range n.members {
			if !mb.dup {
				m[mb.name] = mb.value.tree()
			}
		}
		return m
	case '[':
		a := make([]any, len(n.elems))
		for i, e := range n.elems {
			a[i] = e.tree()
		}
		return a
	}
	return n.raw
}

// fieldsOf maps a struct's JSON member names (as encoding/json/v2 matches
// them: exactly) to their types, with embedded structs inlined.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" && tag == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range fieldsOf(ft) {
					m[k] = v
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	return m
}

func unknownDetail(name string, fields map[string]reflect.Type) string {
	for f := range fields {
		if strings.EqualFold(f, name) {
			return fmt.Sprintf("is not a field: names are case-sensitive, and this one is %q", f)
		}
	}
	return "is not a field of this object"
}

// typeDetail says what a field's value should have been.
func typeDetail(me *json.SemanticError) string {
	got := kindName(me.JSONKind)
	if me.GoType == nil {
		return "has the wrong type: " + fmt.Sprint(me.Err)
	}
	t := me.GoType
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		if got == "string" {
			return "is not an RFC 3339 date-time, such as 2027-06-30T23:59:59Z"
		}
		return "must be an RFC 3339 date-time string, such as 2027-06-30T23:59:59Z, not " + got
	}
	want := jsonKindOf(t)
	if integer(t) && got == "number" {
		// A fraction, or a number beyond the type's range.
		if r := integerRange(t); r != "" {
			return "must be a whole number " + r
		}
		return "must be a whole number"
	}
	if want == got || want == "" {
		// The right JSON type, but not a value the field takes (a
		// malformed string, say).
		if me.Err == nil {
			return got + " is not a value this field takes"
		}
		return fmt.Sprintf("%s is not a valid value: %v", got, me.Err)
	}
	return fmt.Sprintf("must be a JSON %s, not %s", want, got)
}

var timeType = reflect.TypeFor[time.Time]()

func integer(t reflect.Type) bool { return t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64 }

// integerRange is "from MIN to MAX" for an integer type t narrower than
// 64 bits, whose range a field's own rules may not say; "" for 64 bits,
// whose range the field's rules say better (a size, a count).
func integerRange(t reflect.Type) string {
	shift := 64 - t.Bits()
	switch {
	case shift == 0:
		return ""
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		return fmt.Sprintf("from 0 to %d", uint64(math.MaxUint64)>>shift)
	}
	return fmt.Sprintf("from %d to %d", int64(math.MinInt64)>>shift, int64(math.MaxInt64)>>shift)
}

func jsonKindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if custom(t) {
		return ""
	}
	if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
		return "string" // base64
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return ""
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "a value"
}
