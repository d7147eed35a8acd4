package memstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/evidencevault/vault/internal/vault"
)

// ErrRefused is what storage answers a presigned request that does not
// match what was signed: other bytes, another length, an expired URL.
var ErrRefused = errors.New("memstore: request refused")

// grant is what one presigned URL allows.
type grant struct {
	put     *vault.PutRequest
	get     *vault.GetRequest
	part    *vault.PartRequest
	expires time.Time
}

// upload is an open multipart upload.
type upload struct {
	key   string
	req   vault.PutRequest
	parts map[int]storedPart
}

type storedPart struct {
	body   []byte
	sha256 string
}

func (b *Bucket) sign(g grant, method, key string, headers map[string]string) vault.Presigned {
	b.seq++
	token := strconv.Itoa(b.seq)
	b.grants[token] = g
	u := url.URL{Scheme: "memstore", Host: b.name, Path: "/" + key, RawQuery: url.Values{"token": {token}}.Encode()}
	return vault.Presigned{Method: method, URL: u.String(), Headers: headers, ExpiresAt: g.expires.UTC()}
}

func checksumHeader(sha string) string {
	raw, _ := hex.DecodeString(sha)
	return base64.StdEncoding.EncodeToString(raw)
}

// PresignPut returns a PUT that Send honours only with exactly the declared
// length and SHA-256.
func (b *Bucket) PresignPut(ctx context.Context, req vault.PutRequest) (vault.Presigned, error) {
	if err := b.enter(ctx, "PresignPut", req.Key); err != nil {
		return vault.Presigned{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	h := map[string]string{"Content-Type": req.ContentType, "X-Amz-Checksum-Sha256": checksumHeader(req.SHA256)}
	for k, v := range req.Metadata {
		h["X-Amz-Meta-"+k] = v
	}
	if req.Lock != nil {
		h["X-Amz-Object-Lock-Mode"] = string(req.Lock.Mode)
		h["X-Amz-Object-Lock-Retain-Until-Date"] = req.Lock.Until.UTC().Format(time.RFC3339)
	}
	r := req
	r.Metadata = maps.Clone(req.Metadata)
	return b.sign(grant{put: &r, expires: b.now().Add(req.TTL)}, "PUT", req.Key, h), nil
}

// PresignGet returns a GET of one exact version.
func (b *Bucket) PresignGet(ctx context.Context, req vault.GetRequest) (vault.Presigned, error) {
	if err := b.enter(ctx, "PresignGet", req.Key); err != nil {
		return vault.Presigned{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r := req
	return b.sign(grant{get: &r, expires: b.now().Add(req.TTL)}, "GET", req.Key, nil), nil
}

// PresignPart returns a part PUT bound to the part's length and SHA-256.
func (b *Bucket) PresignPart(ctx context.Context, req vault.PartRequest) (vault.Presigned, error) {
	if err := b.enter(ctx, "PresignPart", req.Key); err != nil {
		return vault.Presigned{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r := req
	h := map[string]string{"X-Amz-Checksum-Sha256": checksumHeader(req.SHA256)}
	return b.sign(grant{part: &r, expires: b.now().Add(req.TTL)}, "PUT", req.Key, h), nil
}

func (b *Bucket) grant(p vault.Presigned) (grant, error) {
	u, err := url.Parse(p.URL)
	if err != nil || u.Scheme != "memstore" || u.Host != b.name {
		return grant{}, fmt.Errorf("%w: %q is not a URL of bucket %s", ErrRefused, p.URL, b.name)
	}
	g, ok := b.grants[u.Query().Get("token")]
	if !ok {
		return grant{}, fmt.Errorf("%w: unknown signature", ErrRefused)
	}
	if !b.now().Before(g.expires) {
		return grant{}, fmt.Errorf("%w: the URL expired at %s", ErrRefused, g.expires.Format(time.RFC3339))
	}
	return g, nil
}

// Send makes a presigned PUT (of an object or a part) with body, as a
// client would: storage refuses other bytes or another length.
func (b *Bucket) Send(p vault.Presigned, body []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	g, err := b.grant(p)
	if err != nil {
		return err
	}
	switch {
	case g.put != nil:
		r := g.put
		if int64(len(body)) != r.Size || sum(body) != r.SHA256 {
			return fmt.Errorf("%w: %d bytes with SHA-256 %s, the URL is for %d with %s", ErrRefused, len(body), sum(body), r.Size, r.SHA256)
		}
		b.add(r.Key, &version{body: bytes.Clone(body), contentType: r.ContentType, meta: maps.Clone(r.Metadata), sha256: r.SHA256, lock: lockOf(r.Lock)})
		return nil
	case g.part != nil:
		r := g.part
		up, ok := b.uploads[r.UploadID]
		if !ok || up.key != r.Key {
			return fmt.Errorf("%w: no open upload %s", ErrRefused, r.UploadID)
		}
		if int64(len(body)) != r.Size || sum(body) != r.SHA256 {
			return fmt.Errorf("%w: part %d: %d bytes with SHA-256 %s, the URL is for %d with %s", ErrRefused, r.Number, len(body), sum(body), r.Size, r.SHA256)
		}
		up.parts[r.Number] = storedPart{body: bytes.Clone(body), sha256: r.SHA256}
		return nil
	}
	return fmt.Errorf("%w: %s is not a PUT", ErrRefused, p.URL)
}

// Fetch makes a presigned GET and returns the version's bytes.
func (b *Bucket) Fetch(p vault.Presigned) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g, err := b.grant(p)
	if err != nil {
		return nil, err
	}
	if g.get == nil {
		return nil, fmt.Errorf("%w: %s is not a GET", ErrRefused, p.URL)
	}
	v := b.find(g.get.Key, g.get.VersionID)
	if v == nil || v.marker {
		return nil, fmt.Errorf("memstore: fetch %s@%s: %w", g.get.Key, g.get.VersionID, vault.ErrNotFound)
	}
	return bytes.Clone(v.body), nil
}

// CreateMultipart opens a multipart upload for req's key.
func (b *Bucket) CreateMultipart(ctx context.Context, req vault.PutRequest) (string, error) {
	if err := b.enter(ctx, "CreateMultipart", req.Key); err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	id := fmt.Sprintf("mpu%08d", b.seq)
	r := req
	r.Metadata = maps.Clone(req.Metadata)
	b.uploads[id] = &upload{key: req.Key, req: r, parts: map[int]storedPart{}}
	return id, nil
}

// ListParts returns an open upload's parts in order.
func (b *Bucket) ListParts(ctx context.Context, key, uploadID string) ([]vault.Part, error) {
	if err := b.enter(ctx, "ListParts", key); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	up, ok := b.uploads[uploadID]
	if !ok || up.key != key {
		return nil, fmt.Errorf("memstore: list parts of %s: %w", key, vault.ErrNotFound)
	}
	var parts []vault.Part
	for _, n := range slices.Sorted(maps.Keys(up.parts)) {
		p := up.parts[n]
		parts = append(parts, vault.Part{Number: n, Size: int64(len(p.body)), SHA256: p.sha256, ETag: etag(p.sha256)})
	}
	return parts, nil
}

func etag(sha string) string { return `"` + sha[:32] + `"` }

// CompleteMultipart joins the named parts into a new version. Storage
// keeps no SHA-256 of the whole, as S3 keeps only a composite checksum.
func (b *Bucket) CompleteMultipart(ctx context.Context, key, uploadID string, parts []vault.Part) (string, error) {
	if err := b.enter(ctx, "CompleteMultipart", key); err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	up, ok := b.uploads[uploadID]
	if !ok || up.key != key {
		return "", fmt.Errorf("memstore: complete %s: %w", key, vault.ErrNotFound)
	}
	var body []byte
	for i, p := range parts {
		stored, ok := up.parts[p.Number]
		if !ok || p.Number != i+1 || stored.sha256 != p.SHA256 || etag(stored.sha256) != p.ETag {
			return "", fmt.Errorf("memstore: complete %s: part %d does not match a stored part", key, p.Number)
		}
		body = append(body, stored.body...)
	}
	delete(b.uploads, uploadID)
	v := b.add(key, &version{body: body, contentType: up.req.ContentType, meta: up.req.Metadata, lock: lockOf(up.req.Lock)})
	return v.id, nil
}

// AbortMultipart discards an upload; one already gone is not an error.
func (b *Bucket) AbortMultipart(ctx context.Context, key, uploadID string) error {
	if err := b.enter(ctx, "AbortMultipart", key); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.uploads, uploadID)
	return nil
}
