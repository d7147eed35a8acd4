package s3store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/evidencevault/vault/internal/vault"
)

// BucketOptions configure a bucket made by EnsureBucket.
type BucketOptions struct {
	// NotifyQueueARN, when set, receives ObjectCreated events for evidence:
	// locally MinIO's webhook target, arn:minio:sqs::PRIMARY:webhook.
	NotifyQueueARN string
}

// EnsureBucket creates the bucket with Object Lock (which also turns on
// versioning) unless it exists, and points its ObjectCreated notifications
// at opts.NotifyQueueARN. In AWS the deployment creates the bucket; this is
// for the local stack and tests.
func (s *Store) EnsureBucket(ctx context.Context, opts BucketOptions) error {
	_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{
		Bucket:                     &s.bucket,
		ObjectLockEnabledForBucket: aws.Bool(true),
	})
	if code := errorCode(err); err != nil && code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
		return translate("create bucket", s.bucket, err)
	}
	lock, err := s.client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &s.bucket})
	if err != nil {
		return translate("read the object lock configuration of bucket", s.bucket, err)
	}
	if lock.ObjectLockConfiguration == nil || lock.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled {
		return fmt.Errorf("s3store: bucket %s exists without Object Lock; evidence cannot be kept there", s.bucket)
	}
	if opts.NotifyQueueARN == "" {
		return nil
	}
	notify := &s3.PutBucketNotificationConfigurationInput{
		Bucket: &s.bucket,
		NotificationConfiguration: &types.NotificationConfiguration{
			QueueConfigurations: []types.QueueConfiguration{{
				QueueArn: aws.String(opts.NotifyQueueARN),
				Events:   []types.Event{types.EventS3ObjectCreated},
				Filter: &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{
					FilterRules: []types.FilterRule{{Name: types.FilterRuleNamePrefix, Value: aws.String(vault.EvidencePrefix)}},
				}},
			}},
		},
	}
	// MinIO registers its notification targets in the background after it
	// starts answering; until then it calls the target's ARN unknown.
	deadline := time.Now().Add(targetWait)
	for {
		_, err = s.client.PutBucketNotificationConfiguration(ctx, notify)
		if err == nil {
			return nil
		}
		if errorCode(err) != "InvalidArgument" || time.Now().After(deadline) {
			return translate("configure notifications of bucket", s.bucket, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// targetWait bounds how long EnsureBucket waits for a notification target.
const targetWait = 30 * time.Second
