// Package s3store adapts aws-sdk-go-v2's S3 client to the vault's storage
// (vault.Records, Objects, Uploads and Presigner): versioned objects,
// Object Lock retention, conditional creates (If-None-Match: *), multipart
// uploads and presigned URLs bound to a checksum. It works
// against AWS S3 and S3-compatible stores such as MinIO.
//
// S3's answers are translated at this boundary (errors.go): a missing key
// or version becomes vault.ErrNotFound, a failed precondition
// vault.ErrExists, any other failure vault.ErrStorage with S3's detail in
// the message. No SDK error value reaches the vault.
package s3store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/evidencevault/vault/internal/vault"
)

// Store is the vault's object storage in one S3 bucket.
type Store struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
	now     func() time.Time
	log     *slog.Logger
}

// New returns a Store for bucket using client for requests and presigning;
// log hears of reads that found someone else's writes (nil: slog.Default).
func New(client *s3.Client, bucket string, log *slog.Logger) *Store {
	if log == nil {
		log = slog.Default()
	}
	return &Store{client: client, presign: s3.NewPresignClient(client), bucket: bucket, now: time.Now, log: log}
}

// Bucket returns the bucket's name.
func (s *Store) Bucket() string { return s.bucket }

// conflictRetries bounds retries of a conditional write that S3 answered
// with 409 ConditionalRequestConflict: another write to the key was in
// flight, and S3 asks the caller to try again.
const conflictRetries = 5

// Create writes body at key unless the key already exists.
func (s *Store) Create(ctx context.Context, key string, body []byte, lock *vault.Lock) error {
	in := &s3.PutObjectInput{
		Bucket:            &s.bucket,
		Key:               &key,
		Body:              bytes.NewReader(body),
		ContentLength:     aws.Int64(int64(len(body))),
		ContentType:       aws.String(contentTypeOf(key)),
		IfNoneMatch:       aws.String("*"),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	}
	if lock != nil {
		in.ObjectLockMode = types.ObjectLockMode(lock.Mode)
		in.ObjectLockRetainUntilDate = aws.Time(lock.Until.UTC())
	}
	for attempt := 0; ; attempt++ {
		in.Body = bytes.NewReader(body)
		_, err := s.client.PutObject(ctx, in)
		switch code := errorCode(err); {
		case err == nil:
			return nil
		case code == "PreconditionFailed":
			return &storageError{op: "create", key: key, detail: "the key exists", kind: vault.ErrExists}
		case code == "ConditionalRequestConflict" && attempt < conflictRetries:
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(10<<attempt) * time.Millisecond):
			}
		default:
			return translate("create", key, err)
		}
	}
}

func contentTypeOf(key string) string {
	switch {
	case strings.HasSuffix(key, ".json"):
		return "application/json"
	case strings.HasSuffix(key, ".pem"):
		return "application/x-pem-file"
	}
	return "application/octet-stream"
}

// Put overwrites key with body: a new version, for the few objects that
// are hints rather than records.
func (s *Store) Put(ctx context.Context, key string, body []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String(contentTypeOf(key)),
	})
	if err != nil {
		return translate("put", key, err)
	}
	return nil
}

// Get returns the body of the newest version that is not a delete marker.
// The vault never deletes, so a marker is someone else's: the version
// beneath stays readable, and the read is logged.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	data, err := s.get(ctx, key, "")
	if err == nil || !hiddenByMarker(err) {
		return data, err
	}
	objs, lerr := s.List(ctx, key)
	if lerr != nil {
		return nil, lerr
	}
	for _, o := range objs {
		if o.Key != key {
			continue
		}
		for i := len(o.Versions) - 1; i >= 0; i-- {
			if v := o.Versions[i]; !v.DeleteMarker {
				s.log.WarnContext(ctx, "s3store: read beneath a delete marker the vault did not write", "key", key, "versionId", v.ID)
				return s.get(ctx, key, v.ID)
			}
		}
	}
	return nil, err
}

// GetVersion returns one version's body.
func (s *Store) GetVersion(ctx context.Context, key, versionID string) ([]byte, error) {
	return s.get(ctx, key, versionID)
}

func (s *Store) get(ctx context.Context, key, versionID string) ([]byte, error) {
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: &key}
	if versionID != "" {
		in.VersionId = &versionID
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, translate("get", key, err)
	}
	defer out.Body.Close()
	// An object of GiB planted among the records would otherwise be read
	// whole, by every read of them, the schedule's included. One larger
	// than any record the vault writes is someone else's: its body is
	// given as empty, which no reader takes for a record, so that each
	// passes over it as over any other junk (a read error would stop
	// those that then read the versions beneath, or write over it).
	oversize := func(n int64) ([]byte, error) {
		s.log.WarnContext(ctx, "s3store: an object larger than any record of the vault; not read", "key", key, "version", versionID, "bytes", n)
		return []byte{}, nil
	}
	if n := aws.ToInt64(out.ContentLength); n > maxRecord {
		return oversize(n)
	}
	data, err := io.ReadAll(io.LimitReader(out.Body, maxRecord+1))
	if err != nil {
		return nil, translate("read", key, err)
	}
	if int64(len(data)) > maxRecord {
		return oversize(int64(len(data)))
	}
	return data, nil
}

// maxRecord bounds what Get and GetVersion read: the largest record is a
// log commit of 256 entries of at most 256 KiB each (64 MiB); evidence is
// read through Open.
var maxRecord int64 = 128 << 20

// List returns every key under prefix with all its versions and delete
// markers, oldest first: one ListObjectVersions request per thousand.
func (s *Store) List(ctx context.Context, prefix string) ([]vault.Object, error) {
	byKey := map[string]*vault.Object{}
	var keys []string
	add := func(key, id string, at *time.Time, marker bool) {
		o := byKey[key]
		if o == nil {
			o = &vault.Object{Key: key}
			byKey[key] = o
			keys = append(keys, key)
		}
		o.Versions = append(o.Versions, vault.ObjectVersion{ID: id, LastModified: aws.ToTime(at), DeleteMarker: marker})
	}
	p := s3.NewListObjectVersionsPaginator(s.client, &s3.ListObjectVersionsInput{Bucket: &s.bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, translate("list versions under", prefix, err)
		}
		for _, v := range page.Versions {
			add(aws.ToString(v.Key), aws.ToString(v.VersionId), v.LastModified, false)
		}
		for _, m := range page.DeleteMarkers {
			add(aws.ToString(m.Key), aws.ToString(m.VersionId), m.LastModified, true)
		}
	}
	slices.Sort(keys)
	out := make([]vault.Object, len(keys))
	for i, k := range keys {
		o := byKey[k]
		// Oldest first; S3 lists each key's versions newest first.
		slices.SortStableFunc(o.Versions, func(a, b vault.ObjectVersion) int { return a.LastModified.Compare(b.LastModified) })
		out[i] = *o
	}
	return out, nil
}

// Versions returns the version ids of exactly key, newest first, without
// delete markers.
func (s *Store) Versions(ctx context.Context, key string) ([]string, error) {
	var ids []string
	p := s3.NewListObjectVersionsPaginator(s.client, &s3.ListObjectVersionsInput{Bucket: &s.bucket, Prefix: &key})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, translate("list versions of", key, err)
		}
		for _, v := range page.Versions {
			if aws.ToString(v.Key) == key {
				ids = append(ids, aws.ToString(v.VersionId))
			}
		}
	}
	return ids, nil
}

// Stat describes one version, asking storage for its SHA-256 checksum.
func (s *Store) Stat(ctx context.Context, key, versionID string) (vault.ObjectInfo, error) {
	in := &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled}
	if versionID != "" {
		in.VersionId = &versionID
	}
	out, err := s.client.HeadObject(ctx, in)
	if code := errorCode(err); code == "InvalidArgument" || code == "BadRequest" {
		// A version id that S3 could not have issued: no such version. (A
		// HEAD response has no body, so MinIO's code is only BadRequest.)
		return vault.ObjectInfo{}, &storageError{op: "stat", key: key, detail: "no version " + versionID, kind: vault.ErrNotFound}
	}
	if err != nil {
		return vault.ObjectInfo{}, translate("stat", key, err)
	}
	info := vault.ObjectInfo{
		Key:          key,
		VersionID:    aws.ToString(out.VersionId),
		Size:         aws.ToInt64(out.ContentLength),
		ContentType:  aws.ToString(out.ContentType),
		LastModified: aws.ToTime(out.LastModified),
		Metadata:     map[string]string{},
		LockMode:     vault.LockMode(out.ObjectLockMode),
		RetainUntil:  aws.ToTime(out.ObjectLockRetainUntilDate),
		LegalHold:    out.ObjectLockLegalHoldStatus == types.ObjectLockLegalHoldStatusOn,
	}
	for k, v := range out.Metadata {
		info.Metadata[strings.ToLower(k)] = v
	}
	// A composite checksum of a multipart upload ("…-N") is not the SHA-256
	// of the object; report none rather than a wrong one.
	if sum := aws.ToString(out.ChecksumSHA256); !strings.Contains(sum, "-") {
		info.SHA256 = hexChecksum(sum)
	}
	return info, nil
}

// Retain applies an Object Lock retention to one version.
func (s *Store) Retain(ctx context.Context, key, versionID string, lock vault.Lock) error {
	_, err := s.client.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{
		Bucket:    &s.bucket,
		Key:       &key,
		VersionId: &versionID,
		Retention: &types.ObjectLockRetention{
			Mode:            types.ObjectLockRetentionMode(lock.Mode),
			RetainUntilDate: aws.Time(lock.Until.UTC()),
		},
	})
	if err != nil {
		return translate("retain", key, err)
	}
	return nil
}

// Hold sets or lifts the legal hold on one version.
func (s *Store) Hold(ctx context.Context, key, versionID string, on bool) error {
	status := types.ObjectLockLegalHoldStatusOff
	if on {
		status = types.ObjectLockLegalHoldStatusOn
	}
	_, err := s.client.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{
		Bucket:    &s.bucket,
		Key:       &key,
		VersionId: &versionID,
		LegalHold: &types.ObjectLockLegalHold{Status: status},
	})
	if err != nil {
		return translate("legal hold", key, err)
	}
	return nil
}

// PresignPut returns a PUT URL that storage honours only with exactly the
// declared length, SHA-256, content type and metadata: they are signed
// headers, and S3 verifies the body against x-amz-checksum-sha256.
func (s *Store) PresignPut(ctx context.Context, req vault.PutRequest) (vault.Presigned, error) {
	sum, err := hex.DecodeString(req.SHA256)
	if err != nil {
		return vault.Presigned{}, fmt.Errorf("s3store: presign put %s: sha256 %q is not hex", req.Key, req.SHA256)
	}
	expires := s.now().Add(req.TTL)
	in := &s3.PutObjectInput{
		Bucket:         &s.bucket,
		Key:            &req.Key,
		ContentLength:  aws.Int64(req.Size),
		ContentType:    &req.ContentType,
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum)),
		Metadata:       req.Metadata,
	}
	if req.Lock != nil {
		in.ObjectLockMode = types.ObjectLockMode(req.Lock.Mode)
		in.ObjectLockRetainUntilDate = aws.Time(req.Lock.Until.UTC())
	}
	out, err := s.presign.PresignPutObject(ctx, in, s3.WithPresignExpires(req.TTL))
	if err != nil {
		return vault.Presigned{}, translate("presign put", req.Key, err)
	}
	return vault.Presigned{Method: out.Method, URL: out.URL, Headers: headers(out.SignedHeader), ExpiresAt: expires.UTC()}, nil
}

// PresignGet returns a GET URL for one exact version, offered as a download
// under the document's file name.
func (s *Store) PresignGet(ctx context.Context, req vault.GetRequest) (vault.Presigned, error) {
	expires := s.now().Add(req.TTL)
	in := &s3.GetObjectInput{
		Bucket:    &s.bucket,
		Key:       &req.Key,
		VersionId: &req.VersionID,
	}
	if req.FileName != "" {
		in.ResponseContentDisposition = aws.String(mime.FormatMediaType("attachment", map[string]string{"filename": req.FileName}))
	}
	if req.ContentType != "" {
		in.ResponseContentType = &req.ContentType
	}
	out, err := s.presign.PresignGetObject(ctx, in, s3.WithPresignExpires(req.TTL))
	if err != nil {
		return vault.Presigned{}, translate("presign get", req.Key, err)
	}
	return vault.Presigned{Method: out.Method, URL: out.URL, Headers: headers(out.SignedHeader), ExpiresAt: expires.UTC()}, nil
}

// headers flattens the signed headers a client must send; Host is implied
// by the URL.
func headers(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if strings.EqualFold(k, "Host") || len(v) == 0 {
			continue
		}
		out[http.CanonicalHeaderKey(k)] = strings.Join(v, ",")
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Storage returns the store in each of the roles the vault keeps objects
// in: one bucket holds everything.
func (s *Store) Storage() vault.Storage {
	return vault.Storage{Records: s, Objects: s, Uploads: s, Presigner: s}
}
