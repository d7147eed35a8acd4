package s3store

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"github.com/evidencevault/vault/internal/vault"
)

// storageError is a failed S3 request as the vault sees it: which
// operation on which key, S3's own words, and the vault's sentinel for
// what happened. The SDK's error value stays here: only its text travels.
type storageError struct {
	op, key, detail string
	kind            error // vault.ErrNotFound, vault.ErrExists or vault.ErrStorage
	ctx             error // context.Canceled or DeadlineExceeded, when that was the cause
	// marker is set when the key's newest version is a delete marker.
	marker bool
}

func (e *storageError) Error() string { return "s3store: " + e.op + " " + e.key + ": " + e.detail }

func (e *storageError) Unwrap() []error {
	errs := []error{e.kind}
	if e.kind == vault.ErrStorageUnavailable {
		errs = append(errs, vault.ErrStorage)
	}
	if e.ctx != nil {
		errs = append(errs, e.ctx)
	}
	return errs
}

// translate maps S3's answer to a request on key to the vault's sentinels.
func translate(op, key string, err error) error {
	if err == nil {
		return nil
	}
	e := &storageError{op: op, key: key, detail: err.Error(), kind: vault.ErrStorage, marker: deleteMarker(err)}
	switch errorCode(err) {
	case "NoSuchKey", "NotFound", "NoSuchVersion", "NoSuchUpload", "MethodNotAllowed":
		// HEAD of a delete marker answers 405 MethodNotAllowed. (A
		// missing bucket is a misconfiguration, not a missing object.)
		e.kind = vault.ErrNotFound
	case "PreconditionFailed":
		e.kind = vault.ErrExists
	case "XMinioStorageFull", "InsufficientStorage", "XMinioInsufficientStorage":
		e.kind = vault.ErrStorageFull
	}
	if e.kind == vault.ErrStorage && statusCode(err) == http.StatusInsufficientStorage {
		e.kind = vault.ErrStorageFull
	}
	switch {
	case errors.Is(err, context.Canceled):
		e.ctx = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		e.ctx = context.DeadlineExceeded
	}
	if e.kind == vault.ErrStorage && unavailable(err) {
		e.kind = vault.ErrStorageUnavailable
	}
	return e
}

// unavailable reports whether a failed request is worth repeating: no
// answer in time, no connection, or storage saying it is busy or failing.
func unavailable(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return true
	case statusCode(err) >= 500 && statusCode(err) != http.StatusNotImplemented && statusCode(err) != http.StatusHTTPVersionNotSupported:
		// 501 and 505 are the request's own: it will not work later.
		return true
	}
	switch errorCode(err) {
	case "SlowDown", "ServiceUnavailable", "RequestTimeout", "InternalError", "XMinioServerNotInitialized", "XMinioReadQuorum", "XMinioWriteQuorum":
		return true
	}
	// No answer at all: refused or cut connections.
	var oe *net.OpError
	return statusCode(err) == 0 && (errors.As(err, &oe) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED))
}

// hiddenByMarker reports whether a translated GET or HEAD failed because
// the key's newest version is a delete marker.
func hiddenByMarker(err error) bool {
	var se *storageError
	return errors.As(err, &se) && se.marker
}

// deleteMarker reports whether a GET or HEAD failed because the key's
// newest version is a delete marker (S3 says so in x-amz-delete-marker).
func deleteMarker(err error) bool {
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.Response != nil && re.Response.Header.Get("X-Amz-Delete-Marker") == "true"
}

// statusCode returns the HTTP status of a failed request, 0 if none.
func statusCode(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}

// errorCode returns S3's error code, or "" for a nil or non-API error.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// The vault's storage, all in one bucket.
var (
	_ vault.Records   = (*Store)(nil)
	_ vault.Objects   = (*Store)(nil)
	_ vault.Uploads   = (*Store)(nil)
	_ vault.Presigner = (*Store)(nil)
)
