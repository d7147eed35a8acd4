package s3store

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/evidencevault/vault/internal/vault"
)

// Open streams one version from offset on.
func (s *Store) Open(ctx context.Context, key, versionID string, offset int64) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: &key, VersionId: &versionID}
	if offset > 0 {
		in.Range = aws.String("bytes=" + strconv.FormatInt(offset, 10) + "-")
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, translate("open", key, err)
	}
	return out.Body, nil
}

// CreateMultipart starts a multipart upload with SHA-256 part checksums,
// so that each presigned part is bound to its digest.
func (s *Store) CreateMultipart(ctx context.Context, req vault.PutRequest) (string, error) {
	in := &s3.CreateMultipartUploadInput{
		Bucket:            &s.bucket,
		Key:               &req.Key,
		ContentType:       &req.ContentType,
		Metadata:          req.Metadata,
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	}
	if req.Lock != nil {
		in.ObjectLockMode = types.ObjectLockMode(req.Lock.Mode)
		in.ObjectLockRetainUntilDate = aws.Time(req.Lock.Until.UTC())
	}
	out, err := s.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		return "", translate("create multipart upload", req.Key, err)
	}
	return aws.ToString(out.UploadId), nil
}

// PresignPart returns a part PUT URL that storage honours only with exactly
// the declared length and SHA-256.
func (s *Store) PresignPart(ctx context.Context, req vault.PartRequest) (vault.Presigned, error) {
	sum, err := hex.DecodeString(req.SHA256)
	if err != nil || len(sum) != 32 {
		return vault.Presigned{}, fmt.Errorf("s3store: presign part %d: bad sha256 %q", req.Number, req.SHA256)
	}
	expires := s.now().Add(req.TTL)
	out, err := s.presign.PresignUploadPart(ctx, &s3.UploadPartInput{
		Bucket:         &s.bucket,
		Key:            &req.Key,
		UploadId:       &req.UploadID,
		PartNumber:     aws.Int32(int32(req.Number)),
		ContentLength:  aws.Int64(req.Size),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum)),
	}, s3.WithPresignExpires(req.TTL))
	if err != nil {
		return vault.Presigned{}, translate(fmt.Sprintf("presign part %d of", req.Number), req.Key, err)
	}
	return vault.Presigned{Method: out.Method, URL: out.URL, Headers: headers(out.SignedHeader), ExpiresAt: expires.UTC()}, nil
}

// ListParts returns the stored parts of an open upload.
func (s *Store) ListParts(ctx context.Context, key, uploadID string) ([]vault.Part, error) {
	var parts []vault.Part
	p := s3.NewListPartsPaginator(s.client, &s3.ListPartsInput{Bucket: &s.bucket, Key: &key, UploadId: &uploadID})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, translate("list parts of", key, err)
		}
		for _, part := range page.Parts {
			parts = append(parts, vault.Part{
				Number: int(aws.ToInt32(part.PartNumber)),
				Size:   aws.ToInt64(part.Size),
				SHA256: hexChecksum(aws.ToString(part.ChecksumSHA256)),
				ETag:   aws.ToString(part.ETag),
			})
		}
	}
	return parts, nil
}

// CompleteMultipart joins the parts into one object version.
func (s *Store) CompleteMultipart(ctx context.Context, key, uploadID string, parts []vault.Part) (string, error) {
	done := make([]types.CompletedPart, len(parts))
	for i, p := range parts {
		sum, err := hex.DecodeString(p.SHA256)
		if err != nil {
			return "", fmt.Errorf("s3store: complete %s: part %d: bad sha256", key, p.Number)
		}
		done[i] = types.CompletedPart{
			PartNumber:     aws.Int32(int32(p.Number)),
			ETag:           aws.String(p.ETag),
			ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum)),
		}
	}
	out, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &s.bucket,
		Key:             &key,
		UploadId:        &uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	if err != nil {
		return "", translate("complete", key, err)
	}
	return aws.ToString(out.VersionId), nil
}

// AbortMultipart discards an open upload; an upload already gone is not an
// error.
func (s *Store) AbortMultipart(ctx context.Context, key, uploadID string) error {
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: &uploadID})
	if err != nil && errorCode(err) != "NoSuchUpload" {
		return translate("abort", key, err)
	}
	return nil
}

// hexChecksum turns S3's base64 SHA-256 into hex; "" for anything else.
func hexChecksum(b64 string) string {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 32 {
		return ""
	}
	return hex.EncodeToString(raw)
}
