package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func BenchmarkOps(b *testing.B) {
	x := setup(b)
	ctx := context.Background()
	body := bytes.Repeat([]byte("e"), 1024)
	for i := range 200 {
		k := fmt.Sprintf("p/%d", i)
		x.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &x.bucket, Key: &k, Body: bytes.NewReader(body)})
	}
	run := func(name string, f func(c, i int) error) {
		var wg sync.WaitGroup
		start := time.Now()
		n := 0
		for c := range 32 {
			wg.Go(func() {
				for i := range 50 {
					if err := f(c, i); err != nil {
						b.Error(name, err)
						return
					}
				}
			})
			n += 50
		}
		wg.Wait()
		b.Logf("%s: %.0f/s", name, float64(n)/time.Since(start).Seconds())
	}
	run("put", func(c, i int) error {
		k := fmt.Sprintf("q/%d/%d", c, i)
		_, err := x.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &x.bucket, Key: &k, Body: bytes.NewReader(body)})
		return err
	})
	run("put-locked-ifnonematch", func(c, i int) error {
		k := fmt.Sprintf("r/%d/%d", c, i)
		_, err := x.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &x.bucket, Key: &k, Body: bytes.NewReader(body), IfNoneMatch: aws.String("*"),
			ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: aws.Time(time.Now().Add(time.Hour)), ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
		return err
	})
	run("put-empty", func(c, i int) error {
		k := fmt.Sprintf("e/%d/%d", c, i)
		_, err := x.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &x.bucket, Key: &k, Body: bytes.NewReader(nil)})
		return err
	})
	run("get", func(c, i int) error {
		k := fmt.Sprintf("p/%d", (c*50+i)%200)
		out, err := x.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &x.bucket, Key: &k})
		if err == nil {
			out.Body.Close()
		}
		return err
	})
	run("get-404", func(c, i int) error {
		k := fmt.Sprintf("nope/%d", (c*50+i)%200)
		_, err := x.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &x.bucket, Key: &k})
		if err != nil {
			return nil
		}
		return fmt.Errorf("found")
	})
	run("head", func(c, i int) error {
		k := fmt.Sprintf("p/%d", (c*50+i)%200)
		_, err := x.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &x.bucket, Key: &k, ChecksumMode: types.ChecksumModeEnabled})
		return err
	})
	run("list-small", func(c, i int) error {
		_, err := x.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &x.bucket, Prefix: aws.String(fmt.Sprintf("q/%d/", c))})
		return err
	})
	run("list-200", func(c, i int) error {
		_, err := x.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &x.bucket, Prefix: aws.String("p/")})
		return err
	})
	run("delete", func(c, i int) error {
		k := fmt.Sprintf("q/%d/%d", c, i)
		_, err := x.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &x.bucket, Key: &k})
		return err
	})
	run("put-412", func(c, i int) error {
		k := fmt.Sprintf("r/%d/%d", c, i)
		_, err := x.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &x.bucket, Key: &k, Body: bytes.NewReader(body), IfNoneMatch: aws.String("*")})
		if err == nil {
			return fmt.Errorf("no 412")
		}
		return nil
	})
}
