package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/evidencevault/vault/internal/vault"
)

// Scratch is the vault's transient state (vault.Scratch) in a bucket
// without Object Lock or versioning: what is overwritten there leaves no
// locked version behind, and what the sequencer leaves expires.
type Scratch struct {
	client *s3.Client
	bucket string
}

var _ vault.Scratch = (*Scratch)(nil)

// NewScratch returns the scratch store on bucket.
func NewScratch(client *s3.Client, bucket string) *Scratch {
	return &Scratch{client: client, bucket: bucket}
}

// Bucket names the bucket.
func (s *Scratch) Bucket() string { return s.bucket }

// ScratchExpiryDays is how long the sequencer's objects (leases, pending
// entries) live after their last write, and TransientExpiryDays the
// vault's transient state (hash states, idempotency attempts); the
// stack's bucket has the same rules (infra).
const (
	ScratchExpiryDays   = 1
	TransientExpiryDays = 30
)

// EnsureBucket creates the bucket if it does not exist, refusing one
// with Object Lock (transient state must not be kept for years), and
// makes the sequencer's objects expire.
func (s *Scratch) EnsureBucket(ctx context.Context) error {
	_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &s.bucket})
	if code := errorCode(err); err != nil && code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
		return translate("create bucket", s.bucket, err)
	}
	lock, err := s.client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &s.bucket})
	if err == nil && lock.ObjectLockConfiguration != nil && lock.ObjectLockConfiguration.ObjectLockEnabled == types.ObjectLockEnabledEnabled {
		return fmt.Errorf("s3store: scratch bucket %s has Object Lock; its objects are overwritten and must not be retained", s.bucket)
	}
	_, err = s.client.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: &s.bucket,
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
			ID:         aws.String("sequencer-expires"),
			Status:     types.ExpirationStatusEnabled,
			Filter:     &types.LifecycleRuleFilter{Prefix: aws.String("sequencer/")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(ScratchExpiryDays)},
		}, {
			ID:         aws.String("transient-expires"),
			Status:     types.ExpirationStatusEnabled,
			Filter:     &types.LifecycleRuleFilter{Prefix: aws.String("transient/")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(TransientExpiryDays)},
		}}},
	})
	if err != nil {
		return translate("configure the lifecycle of bucket", s.bucket, err)
	}
	return nil
}

// Get returns key's body and ETag.
func (s *Scratch) Get(ctx context.Context, key string) ([]byte, string, bool, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		err = translate("get", key, err)
		if errors.Is(err, vault.ErrNotFound) {
			return nil, "", false, nil
		}
		return nil, "", false, err
	}
	defer out.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(out.Body); err != nil {
		return nil, "", false, translate("get", key, err)
	}
	return buf.Bytes(), aws.ToString(out.ETag), true, nil
}

// Swap writes body at key if its ETag is tag (If-Match), or with tag ""
// if key does not exist (If-None-Match: *).
func (s *Scratch) Swap(ctx context.Context, key string, body []byte, tag string) (string, bool, error) {
	in := &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("application/json")}
	if tag == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(tag)
	}
	out, err := s.client.PutObject(ctx, in)
	if err == nil {
		return aws.ToString(out.ETag), true, nil
	}
	switch errorCode(err) {
	case "PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey":
		// Another write came first (S3 answers 409 to a write racing
		// one in progress, and a missing key to If-Match 404).
		return "", false, nil
	}
	return "", false, translate("swap", key, err)
}

// Put writes body at key.
func (s *Scratch) Put(ctx context.Context, key string, body []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("application/json")})
	return translate("put", key, err)
}

// List returns the keys under prefix in lexical order.
func (s *Scratch) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, translate("list", prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

// Delete removes keys, a thousand per request.
func (s *Scratch) Delete(ctx context.Context, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		ids := make([]types.ObjectIdentifier, n)
		for i, k := range keys[:n] {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &s.bucket,
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return translate("delete", keys[0], err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return &storageError{op: "delete", key: aws.ToString(e.Key), detail: aws.ToString(e.Message), kind: vault.ErrStorage}
		}
		keys = keys[n:]
	}
	return nil
}
