package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
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
	data, err := readJSON(w, r, limit)
	if err != nil {
		return err
	}
	return parseJSON(data, v)
}

// readJSON reads a JSON body of at most limit bytes.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, &requestError{kind: unsupportedMedia, detail: "send the body as JSON with Content-Type: application/json"}
	}
	return readBody(w, r, limit)
}

// readBody reads a body of at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &requestError{kind: tooLarge, detail: fmt.Sprintf("the body must be at most %d bytes", limit)}
	}
	if err != nil {
		return nil, &requestError{kind: malformedJSON, detail: "the body could not be read"}
	}
	return data, nil
}

// bodiless serves a request that takes no body (a DELETE, a complete, an
// export): one it is sent anyway must be empty or {}, and each member of
// an object is refused as unknown, before anything is stored. Ignoring it
// would act on a request other than the one the caller wrote.
func bodiless(next func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if r.ContentLength != 0 {
			data, err := readBody(w, r, maxMetadataBody)
			if err != nil {
				return err
			}
			if len(bytes.TrimSpace(data)) > 0 {
				if err := parseJSON(data, &struct{}{}); err != nil {
					return err
				}
				if bytes.TrimSpace(data)[0] != '{' {
					return &requestError{kind: malformedJSON, detail: "this request takes no body, or {}"}
				}
			}
		}
		return next(w, r)
	}
}

// decodeChecked is decodeJSON for a body the vault validates: when some
// fields have the wrong JSON type, the others are checked too, so that one
// answer lists every bad field. (check sees the type-broken fields as
// unset, and is told which they are; their type problem is the one
// reported.)
func decodeChecked(w http.ResponseWriter, r *http.Request, v any, check func(broken []string) []vault.FieldError) error {
	return decodeLimited(w, r, maxMetadataBody, v, check)
}

// decodeLimited is decodeChecked for a body of at most limit bytes.
func decodeLimited(w http.ResponseWriter, r *http.Request, limit int64, v any, check func(broken []string) []vault.FieldError) error {
	data, err := readJSON(w, r, limit)
	if err != nil {
		return err
	}
	err = parseJSON(data, v)
	var re *requestError
	if !errors.As(err, &re) || re.kind != wrongType {
		return err
	}
	// The decoder stopped at the first member of the wrong type: decode
	// again without those, so that check sees every other field.
	var broken []string
	for _, f := range re.fields {
		broken = append(broken, f.Pointer)
	}
	if rest, err := strictjson.Without(data, broken); err == nil {
		reflect.ValueOf(v).Elem().SetZero()
		strictjson.Unmarshal(rest, v) // its problems are re's already
	}
	for _, f := range check(broken) {
		// A rule over a whole list that holds a removed element (unique,
		// say) would judge a list the caller did not send.
		if !coveredBy(f.Pointer, re.fields) && !holdsBroken(f.Pointer, broken) {
			re.fields = append(re.fields, f)
		}
	}
	re.detail = fmt.Sprintf("%d field(s) of the body are refused; each is listed (docs/api.md describes the request)", len(re.fields))
	return re
}

// holdsBroken reports whether ptr is a container of one of broken.
func holdsBroken(ptr string, broken []string) bool {
	for _, b := range broken {
		if strings.HasPrefix(b, ptr+"/") {
			return true
		}
	}
	return false
}

// coveredBy reports whether ptr is, or is inside, a field already listed.
func coveredBy(ptr string, fields []vault.FieldError) bool {
	for _, f := range fields {
		if ptr == f.Pointer || strings.HasPrefix(ptr, f.Pointer+"/") {
			return true
		}
	}
	return false
}

// parseJSON is decodeJSON without the HTTP: the part that parses untrusted
// bytes, fuzzed on its own. It answers with every problem of the body at
// once: the problem type is the first one's kind, errors lists each field.
func parseJSON(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return &requestError{kind: malformedJSON, detail: "the body is empty; send a JSON object"}
	}
	err := strictjson.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var se *strictjson.Error
	if !errors.As(err, &se) || len(se.Problems) == 0 {
		return &requestError{kind: malformedJSON, detail: "the body is not JSON this request takes"}
	}
	first := se.Problems[0]
	switch first.Kind {
	case strictjson.ErrSyntax:
		detail := first.Detail
		if first.Offset >= 0 {
			line, col := position(data, first.Offset)
			detail = fmt.Sprintf("%s at line %d, column %d", detail, line, col)
		}
		return &requestError{kind: malformedJSON, detail: detail}
	case strictjson.ErrTrailingData:
		return &requestError{kind: malformedJSON, detail: "the body holds data after its JSON value"}
	}
	re := &requestError{kind: bodyProblems[first.Kind]}
	for _, p := range se.Problems {
		// The pointer "" is the body itself: an array where the object
		// goes, say.
		re.fields = append(re.fields, vault.FieldError{Pointer: p.Pointer, Detail: p.Detail})
	}
	re.detail = fmt.Sprintf("%d field(s) of the body are refused; each is listed (docs/api.md describes the request)", len(re.fields))
	return re
}

// bodyProblems answers each kind of field problem.
var bodyProblems = map[error]problemType{
	strictjson.ErrDuplicateName: duplicateFields,
	strictjson.ErrInvalidUTF8:   invalidUTF8,
	strictjson.ErrUnknownField:  unknownFields,
	strictjson.ErrType:          wrongType,
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
