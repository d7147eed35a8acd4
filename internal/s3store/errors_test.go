package s3store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/evidencevault/vault/internal/vault"
)

func TestTranslate(t *testing.T) {
	withStatus := func(code int, err error) error {
		return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code, Header: http.Header{}}}, Err: err}}
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"no such key", &smithy.GenericAPIError{Code: "NoSuchKey"}, vault.ErrNotFound},
		{"precondition", &smithy.GenericAPIError{Code: "PreconditionFailed"}, vault.ErrExists},
		{"MinIO's disk full", &smithy.GenericAPIError{Code: "XMinioStorageFull"}, vault.ErrStorageFull},
		{"507 without a code", withStatus(http.StatusInsufficientStorage, errors.New("insufficient storage")), vault.ErrStorageFull},
		{"500", withStatus(http.StatusInternalServerError, &smithy.GenericAPIError{Code: "InternalError"}), vault.ErrStorageUnavailable},
		{"503 slow down", withStatus(http.StatusServiceUnavailable, &smithy.GenericAPIError{Code: "SlowDown"}), vault.ErrStorageUnavailable},
		{"no answer in time", fmt.Errorf("operation error S3: GetObject: %w", context.DeadlineExceeded), vault.ErrStorageUnavailable},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, vault.ErrStorageUnavailable},
		{"access denied", withStatus(http.StatusForbidden, &smithy.GenericAPIError{Code: "AccessDenied"}), vault.ErrStorage},
		{"501, a header storage does not implement", withStatus(http.StatusNotImplemented, &smithy.GenericAPIError{Code: "NotImplemented"}), vault.ErrStorage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := translate("put", "k", tt.err)
			if !errors.Is(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for _, other := range []error{vault.ErrNotFound, vault.ErrExists, vault.ErrStorageFull, vault.ErrStorageUnavailable, vault.ErrStorage} {
				if other != tt.want && !(tt.want == vault.ErrStorageUnavailable && other == vault.ErrStorage) && errors.Is(got, other) {
					t.Errorf("got %v, which is also %v", got, other)
				}
			}
		})
	}
}
