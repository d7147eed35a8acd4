package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/evidencevault/vault/internal/strictjson"
	"github.com/evidencevault/vault/internal/vault"
)

// Body limits: metadata is small; a verify request carries a receipt.
const (
	maxMetadataBody = 64 << 10
	maxVerifyBody   = 512 << 10
	// 1,000 parts of about 100 bytes each.
	maxPartsBody = 256 << 10
)

// decodeJSON reads one JSON value of at most limit bytes into v. It refuses
// other media types, oversize bodies, malformed JSON, wrong types, trailing
// data and unknown fields, reporting every unknown field at once.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return &requestError{kind: unsupportedMedia, detail: "send the body as JSON with Content-Type: application/json"}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &requestError{kind: tooLarge, detail: fmt.Sprintf("the body must be at most %d bytes", limit)}
	}
	if err != nil {
		return &requestError{kind: malformedJSON, detail: "the body could not be read"}
	}
	return parseJSON(data, v)
}

// parseJSON is decodeJSON without the HTTP: the part that parses untrusted
// bytes, fuzzed on its own.
func parseJSON(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return &requestError{kind: malformedJSON, detail: "the body is empty; send a JSON object"}
	}
	err := strictjson.Unmarshal(data, v)
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var unknownField *strictjson.UnknownFieldError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, strictjson.ErrTrailingData):
		return &requestError{kind: malformedJSON, detail: "the body holds data after its JSON value"}
	case errors.As(err, &syntax):
		line, col := position(data, syntax.Offset)
		return &requestError{kind: malformedJSON, detail: fmt.Sprintf("%s at line %d, column %d", syntax.Error(), line, col)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &requestError{kind: malformedJSON, detail: "the body ends in the middle of a JSON value"}
	case errors.As(err, &typeErr):
		ptr := strictjson.Pointer(strings.Split(typeErr.Field, ".")...)
		return &requestError{kind: wrongType, detail: "a field has the wrong JSON type",
			fields: []vault.FieldError{{Pointer: ptr, Detail: fmt.Sprintf("must be a JSON %s, not %s", jsonKind(typeErr.Type), typeErr.Value)}}}
	case errors.As(err, &unknownField):
		// The decoder stops at the first; this pass finds every one.
		var raw any
		if json.Unmarshal(data, &raw) != nil {
			return &requestError{kind: malformedJSON, detail: err.Error()}
		}
		var fields []vault.FieldError
		for _, p := range unknown(raw, reflect.TypeOf(v), "") {
			fields = append(fields, vault.FieldError{Pointer: p, Detail: "is not a field of this request"})
		}
		return &requestError{kind: unknownFields, detail: fmt.Sprintf("%d unknown field(s); see docs/api.md for the request's fields", len(fields)), fields: fields}
	}
	return &requestError{kind: malformedJSON, detail: err.Error()}
}

// unknown returns the JSON pointers of every member of raw that t, the Go
// type it is decoded into, has no field for.
func unknown(raw any, t reflect.Type, at string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	switch v := raw.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return nil
		}
		fields := jsonFields(t)
		names := make([]string, 0, len(v))
		for name := range v {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			ptr := at + strictjson.Pointer(name)
			ft, ok := fields[strings.ToLower(name)]
			if !ok {
				out = append(out, ptr)
				continue
			}
			out = append(out, unknown(v[name], ft, ptr)...)
		}
	case []any:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return nil
		}
		for i, e := range v {
			out = append(out, unknown(e, t.Elem(), at+strictjson.Pointer(strconv.Itoa(i)))...)
		}
	}
	return out
}

// jsonFields maps a struct's JSON names, folded to lower case as
// encoding/json matches them, to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		if f.Type == reflect.TypeOf(json.RawMessage{}) {
			m[strings.ToLower(name)] = reflect.TypeOf(new(any)).Elem()
			continue
		}
		m[strings.ToLower(name)] = f.Type
	}
	return m
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64, reflect.Uint64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "object"
}

func position(data []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for _, b := range data[:min(int(offset), len(data))] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
