package vault

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// S3's multipart limits (docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
const (
	MinPartSize     = 5 << 20  // every part but the last
	MaxPartSize     = 5 << 30  // any part
	MaxParts        = 10000    // parts per upload
	MaxObjectSize   = 5 << 40  // one object
	DefaultPartSize = 64 << 20 // unless the file needs larger parts to fit MaxParts
	// MaxPartsPerRequest bounds one PresignParts call.
	MaxPartsPerRequest = 1000
)

// Multipart is the part plan of a multipart upload: every part is PartSize
// bytes except the last.
type Multipart struct {
	PartSize int64 `json:"partSize"`
	Parts    int   `json:"parts"`
}

// multipartSession is what a session records about its multipart upload.
type multipartSession struct {
	Multipart
	StorageUploadID string `json:"storageUploadId"`
}

// partSize returns the size of part n (from 1) of a file of size bytes.
func (m Multipart) partSize(n int, size int64) int64 {
	if n < m.Parts {
		return m.PartSize
	}
	return size - int64(m.Parts-1)*m.PartSize
}

// PlanParts returns the part plan for a file of size bytes with parts of
// partSize, or of DefaultPartSize (grown to fit MaxParts) if partSize is 0.
func PlanParts(size, partSize int64) (Multipart, []FieldError) {
	if partSize == 0 {
		partSize = max(DefaultPartSize, ceilDiv(size, MaxParts))
		partSize = ceilDiv(partSize, 1<<20) << 20
	}
	var fields []FieldError
	switch {
	case size > MaxObjectSize:
		fields = append(fields, FieldError{"/file/size", "is more than 5 TiB, the largest object storage keeps"})
	case partSize < MinPartSize || partSize > MaxPartSize:
		fields = append(fields, FieldError{"/partSize", "must be from 5 MiB to 5 GiB"})
	case ceilDiv(size, partSize) > MaxParts:
		fields = append(fields, FieldError{"/partSize", fmt.Sprintf("makes %d parts; at most %d are allowed, so use parts of at least %d bytes", ceilDiv(size, partSize), MaxParts, ceilDiv(size, MaxParts))})
	}
	return Multipart{PartSize: partSize, Parts: int(max(1, ceilDiv(size, partSize)))}, fields
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// StartMultipartUpload is StartUpload for a file sent in parts: it validates
// the metadata, opens a multipart upload whose object is retained from
// arrival, and returns the part plan. Part URLs come from PresignParts. The
// session lasts MultipartTTL, so that a large upload can be resumed.
func (s *Service) StartMultipartUpload(ctx context.Context, dossier string, doc Document, partSize int64) (Ticket, error) {
	return s.BeginUpload(ctx, dossier, doc, UploadOptions{Multipart: true, PartSize: partSize})
}

// PartURL asks for a presigned URL for one part, bound to its SHA-256.
type PartURL struct {
	Number int    `json:"partNumber"`
	SHA256 string `json:"sha256"`
}

// PresignedPart is a presigned PUT of one part.
type PresignedPart struct {
	Number int `json:"partNumber"`
	Presigned
}

// PresignParts returns presigned PUTs for parts of a multipart upload, each
// bound to the part's exact length and SHA-256: storage refuses other bytes.
func (s *Service) PresignParts(ctx context.Context, uploadID string, parts []PartURL) ([]PresignedPart, error) {
	sess, err := s.writableSession(ctx, uploadID)
	if err != nil {
		return nil, err
	}
	if sess.Multipart == nil {
		return nil, invalid([]FieldError{{"/parts", "upload " + uploadID + " is a single PUT, not a multipart upload"}})
	}
	if s.now().After(sess.ExpiresAt) {
		return nil, errorf(CodeExpired, "upload %s expired at %s; start a new upload", uploadID, sess.ExpiresAt.Format(time.RFC3339))
	}
	var fields []FieldError
	switch {
	case len(parts) == 0:
		fields = append(fields, FieldError{"/parts", "name at least one part"})
	case len(parts) > MaxPartsPerRequest:
		fields = append(fields, FieldError{"/parts", fmt.Sprintf("at most %d parts per request", MaxPartsPerRequest)})
	}
	for i, p := range parts {
		at := "/parts/" + strconv.Itoa(i)
		if p.Number < 1 || p.Number > sess.Multipart.Parts {
			fields = append(fields, FieldError{at + "/partNumber", fmt.Sprintf("must be from 1 to %d", sess.Multipart.Parts)})
		}
		if !validSHA256(p.SHA256) {
			fields = append(fields, FieldError{at + "/sha256", "must be 64 lower-case hex digits"})
		}
	}
	if fields != nil {
		return nil, invalid(fields)
	}
	// Storage would take no part of an aborted or completed upload: say
	// so now rather than hand out URLs that fail.
	if _, err := s.uploads.ListParts(ctx, sess.Key, sess.Multipart.StorageUploadID); errors.Is(err, ErrNotFound) {
		if _, err := s.uploadedVersion(ctx, sess); err == nil {
			return nil, errorf(CodeConflict, "upload %s was completed: it takes no more parts; complete seals it", uploadID)
		}
		return nil, errorf(CodeConflict, "upload %s was aborted: it takes no more parts; start a new upload", uploadID)
	} else if err != nil {
		return nil, fmt.Errorf("vault: presign part: %w", err)
	}
	out := make([]PresignedPart, len(parts))
	for i, p := range parts {
		pre, err := s.urls.PresignPart(ctx, PartRequest{
			Key: sess.Key, UploadID: sess.Multipart.StorageUploadID, Number: p.Number,
			Size: sess.Multipart.partSize(p.Number, sess.Document.File.Size), SHA256: p.SHA256, TTL: s.cfg.UploadTTL,
		})
		if err != nil {
			return nil, fmt.Errorf("vault: presign part: %w", err)
		}
		out[i] = PresignedPart{Number: p.Number, Presigned: pre}
	}
	return out, nil
}

// UploadStatus is where an upload stands; for an open multipart upload,
// the parts storage holds, so that a client can resume.
type UploadStatus struct {
	UploadID  string     `json:"uploadId"`
	Dossier   string     `json:"dossier"`
	Path      string     `json:"path"`
	Size      int64      `json:"size"`
	SHA256    string     `json:"sha256"`
	ExpiresAt time.Time  `json:"expiresAt"`
	Multipart *Multipart `json:"multipart,omitempty"`
	// State is "open" (parts may be sent), "completed" (the object exists;
	// complete seals it) or "aborted" (or expired without bytes).
	State string `json:"state"`
	Parts []Part `json:"parts,omitempty"`
}

// Upload reports an upload's state and, while it is open, its stored parts.
func (s *Service) Upload(ctx context.Context, uploadID string) (*UploadStatus, error) {
	sess, err := s.writableSession(ctx, uploadID)
	if err != nil {
		return nil, err
	}
	st := &UploadStatus{UploadID: sess.ID, Dossier: sess.Dossier.ID, Path: sess.Document.Path,
		Size: sess.Document.File.Size, SHA256: sess.Document.File.SHA256, ExpiresAt: sess.ExpiresAt, State: "open"}
	if sess.Multipart == nil {
		if _, err := s.uploadedVersion(ctx, sess); err == nil {
			st.State = "completed"
		} else if ErrorCode(err) == CodeExpired {
			st.State = "aborted"
		} else if ErrorCode(err) != CodeNotUploaded {
			return nil, err
		}
		return st, nil
	}
	st.Multipart = &sess.Multipart.Multipart
	parts, err := s.uploads.ListParts(ctx, sess.Key, sess.Multipart.StorageUploadID)
	switch {
	case errors.Is(err, ErrNotFound):
		st.State = "aborted"
		if _, err := s.uploadedVersion(ctx, sess); err == nil {
			st.State = "completed"
		}
	case err != nil:
		return nil, fmt.Errorf("vault: upload status: %w", err)
	default:
		for i := range parts {
			parts[i].ETag = ""
		}
		st.Parts = parts
	}
	return st, nil
}

// AbortUpload discards an open multipart upload and its parts. Sealed
// evidence is never affected; aborting an upload that was completed is a
// conflict.
func (s *Service) AbortUpload(ctx context.Context, uploadID string) error {
	sess, err := s.writableSession(ctx, uploadID)
	if err != nil {
		return err
	}
	if sess.Multipart == nil {
		return invalid([]FieldError{{"/uploadId", "upload " + uploadID + " is a single PUT; an unused upload URL simply expires"}})
	}
	if _, err := s.uploadedVersion(ctx, sess); err == nil {
		return errorf(CodeConflict, "upload %s was completed; its evidence is kept", uploadID)
	}
	if err := s.uploads.AbortMultipart(ctx, sess.Key, sess.Multipart.StorageUploadID); err != nil {
		return fmt.Errorf("vault: abort upload: %w", err)
	}
	s.log.InfoContext(ctx, "upload aborted", "tenant", sess.Tenant, "upload", sess.ID, "path", sess.Document.Path)
	return nil
}

// completeParts joins the parts of a multipart upload into its object once
// every planned part is stored with its SHA-256, and returns the object. A
// retry after the join finds the object instead.
func (s *Service) completeParts(ctx context.Context, sess session) (ObjectInfo, error) {
	mp := sess.Multipart
	parts, err := s.uploads.ListParts(ctx, sess.Key, mp.StorageUploadID)
	if errors.Is(err, ErrNotFound) {
		return s.uploadedVersion(ctx, sess)
	}
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("vault: complete parts: %w", err)
	}
	have := make(map[int]Part, len(parts))
	for _, p := range parts {
		have[p.Number] = p
	}
	var missing []string
	ordered := make([]Part, 0, mp.Parts)
	for n := 1; n <= mp.Parts; n++ {
		p, ok := have[n]
		if !ok {
			missing = append(missing, strconv.Itoa(n))
			continue
		}
		if want := mp.partSize(n, sess.Document.File.Size); p.Size != want || p.SHA256 == "" {
			return ObjectInfo{}, errorf(CodeIntegrity, "part %d holds %d bytes (want %d) and SHA-256 %q", n, p.Size, want, p.SHA256)
		}
		ordered = append(ordered, p)
	}
	if missing != nil {
		if len(missing) > 10 {
			missing = append(missing[:10], "…")
		}
		return ObjectInfo{}, errorf(CodeNotUploaded, "upload %s lacks %d of %d parts (%s): send them first", sess.ID, mp.Parts-len(ordered), mp.Parts, strings.Join(missing, ", "))
	}
	versionID, err := s.uploads.CompleteMultipart(ctx, sess.Key, mp.StorageUploadID, ordered)
	if errors.Is(err, ErrNotFound) {
		return s.uploadedVersion(ctx, sess) // a concurrent complete joined them
	}
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("vault: complete parts: %w", err)
	}
	info, err := s.objects.Stat(ctx, sess.Key, versionID)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("vault: complete parts: %w", err)
	}
	return info, nil
}
