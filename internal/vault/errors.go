package vault

import (
	"errors"
	"fmt"
)

// Code classifies an Error. The HTTP layer maps each code to one status in
// one place; anything without a code is an internal error and is never shown
// to clients.
type Code string

const (
	CodeInvalid         Code = "invalid"         // a request field is wrong; Fields says which
	CodeNotFound        Code = "not_found"       // absent, or not visible to the caller
	CodeConflict        Code = "conflict"        // the resource already exists
	CodeForbidden       Code = "forbidden"       // visible, but the caller's role may not do this
	CodeUnauthenticated Code = "unauthenticated" // no valid identity
	CodeNotUploaded     Code = "not_uploaded"    // complete before the bytes arrived
	CodeExpired         Code = "expired"         // the upload session ran out
	CodeIntegrity       Code = "integrity"       // stored bytes differ from the declaration
	CodeTampered        Code = "tampered"        // storage holds an object the vault did not write, and nothing it did
	CodeUnavailable     Code = "unavailable"     // storage did not answer in full; try again
	CodeKeyReused       Code = "key_reused"      // an idempotency key repeated with another request
	CodeInProgress      Code = "in_progress"     // the first request with an idempotency key still runs
	CodeReauthenticate  Code = "reauthenticate"  // the caller must sign in again: a sign-off needs a fresh sign-in
	CodeInternal        Code = "internal"
)

// Error is the vault's application error. Message is written for the person
// calling the API; Err carries the cause for logs only.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Err     error
}

// FieldError names one bad field of a request by its JSON pointer (RFC 6901).
type FieldError struct {
	Pointer string `json:"pointer"`
	Detail  string `json:"detail"`
}

func (e *Error) Error() string {
	msg := "vault: " + string(e.Code) + ": " + e.Message
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns the code of the first *Error in err's chain, or
// CodeInternal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

func errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// invalid reports bad fields, all at once.
func invalid(fields []FieldError) *Error {
	msg := "1 field is invalid"
	if len(fields) != 1 {
		msg = fmt.Sprintf("%d fields are invalid", len(fields))
	}
	return &Error{Code: CodeInvalid, Message: msg, Fields: fields}
}

// Errors storage returns: adapters such as s3store translate their
// answers into these, so that the service never sees an SDK error type.
var (
	// ErrNotFound: no such key or version.
	ErrNotFound = errors.New("vault: object not found")
	// ErrExists: a conditional create found the key already taken.
	ErrExists = errors.New("vault: object already exists")
	// ErrStorage: storage failed to answer; the adapter's message says how.
	ErrStorage = errors.New("vault: storage failed")
	// ErrStorageFull: storage has no room for what was written; nothing
	// was stored.
	ErrStorageFull = errors.New("vault: storage is full")
	// ErrStorageUnavailable: storage did not answer within its deadline,
	// could not be reached, or said it is busy or failing (5xx): worth
	// trying again. Errors that match it match ErrStorage too.
	ErrStorageUnavailable = errors.New("vault: storage unavailable")
)

// ErrConflict: an object the vault writes once already holds other bytes
// than the vault would write there.
var ErrConflict = errors.New("vault: object exists with other content")
