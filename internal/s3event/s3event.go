// Package s3event turns S3 ObjectCreated notifications into seals, so that
// an upload whose client never calls complete still gets its receipt. The
// same code serves AWS's Lambda trigger and, locally, MinIO's webhook
// target, whose events differ slightly: eventSource minio:s3 instead of
// aws:s3, and event names with an s3: prefix.
package s3event

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/evidencevault/vault/internal/vault"
)

// Sealer seals the upload an object version belongs to; *vault.Service is
// one.
type Sealer interface {
	SealObject(ctx context.Context, key, versionID string) (*vault.Receipt, error)
}

// Object is a created object version an event reports.
type Object struct {
	Bucket    string
	Key       string // URL-decoded
	VersionID string
}

// Created returns the objects created in ev, from AWS or MinIO, skipping
// other event kinds and other sources.
func Created(ev events.S3Event) []Object {
	var out []Object
	for _, r := range ev.Records {
		if r.EventSource != "aws:s3" && r.EventSource != "minio:s3" {
			continue
		}
		if !sealable[strings.TrimPrefix(r.EventName, "s3:")] {
			continue
		}
		out = append(out, Object{Bucket: r.S3.Bucket.Name, Key: r.S3.Object.URLDecodedKey, VersionID: r.S3.Object.VersionID})
	}
	return out
}

// sealable are the events that create new bytes. MinIO also reports
// retention and tagging changes as ObjectCreated (PutRetention, PutTagging),
// which the vault's own sealing causes; those are not uploads.
var sealable = map[string]bool{
	"ObjectCreated:Put":                     true,
	"ObjectCreated:Post":                    true,
	"ObjectCreated:Copy":                    true,
	"ObjectCreated:CompleteMultipartUpload": true,
}

// Decode parses an S3 event notification body: what the Lambda runtime
// hands the seal function, or what MinIO's webhook posts.
func Decode(data []byte) (events.S3Event, error) {
	var ev events.S3Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return events.S3Event{}, fmt.Errorf("s3event: decode: %w", err)
	}
	return ev, nil
}

// Handler seals every object an event reports as created in bucket. It
// returns an error only for failures worth a retry (storage unreachable);
// permanent ones, such as an object no upload session knows, are logged and
// dropped, since retrying cannot mend them.
func Handler(s Sealer, bucket string, log *slog.Logger) func(context.Context, events.S3Event) error {
	return func(ctx context.Context, ev events.S3Event) error {
		var errs []error
		for _, o := range Created(ev) {
			if o.Bucket != bucket {
				log.WarnContext(ctx, "seal: event for another bucket ignored", "bucket", o.Bucket, "key", o.Key)
				continue
			}
			r, err := s.SealObject(ctx, o.Key, o.VersionID)
			switch code := vault.ErrorCode(err); {
			case err == nil && r == nil:
				log.DebugContext(ctx, "seal: not evidence, ignored", "key", o.Key)
			case err == nil:
				log.InfoContext(ctx, "seal: event handled", "key", o.Key, "versionId", o.VersionID, "receipt", r.Predicate.ReceiptID)
			case code == vault.CodeInternal && !errors.Is(err, vault.ErrNotFound):
				log.ErrorContext(ctx, "seal: failed, will retry", "key", o.Key, "versionId", o.VersionID, "err", err)
				errs = append(errs, err)
			default:
				log.WarnContext(ctx, "seal: refused", "key", o.Key, "versionId", o.VersionID, "code", string(code), "err", err)
			}
		}
		return errors.Join(errs...)
	}
}

// maxWebhookBody bounds a MinIO notification; one carries one record.
const maxWebhookBody = 1 << 20

// Webhook serves MinIO's webhook target: it checks the bearer token MinIO
// was configured with, decodes the notification and runs handle. A failure
// worth a retry answers 503, so that MinIO keeps the event in its queue.
func Webhook(token string, handle func(context.Context, events.S3Event) error, log *slog.Logger) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			http.Error(w, "bad webhook token", http.StatusForbidden)
			return
		}
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		ev, err := Decode(data)
		if err != nil {
			log.WarnContext(r.Context(), "seal: undecodable webhook body", "err", err)
			http.Error(w, "not an S3 event", http.StatusBadRequest)
			return
		}
		if err := handle(r.Context(), ev); err != nil {
			http.Error(w, "seal failed; retry", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

var _ Sealer = (*vault.Service)(nil)
