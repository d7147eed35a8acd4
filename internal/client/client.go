// Package client is a Go client of the vault's HTTP API (docs/api.md), and
// the transfers built on it: uploads in one PUT or in resumable parallel
// parts, and downloads that are verified before they are kept.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
)

// Client calls one vault's API with one bearer token.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// New returns a Client for the API at baseURL. httpClient carries both API
// calls and presigned transfers; http.DefaultClient if nil.
func New(baseURL, token string, httpClient *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: API URL %q is not an http(s) URL", baseURL)
	}
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: u, token: token, http: httpClient}, nil
}

// Problem is an API error answer (RFC 9457 problem+json).
type Problem struct {
	Type      string             `json:"type"`
	Title     string             `json:"title"`
	Status    int                `json:"status"`
	Detail    string             `json:"detail,omitempty"`
	RequestID string             `json:"requestId,omitempty"`
	Errors    []vault.FieldError `json:"errors,omitempty"`
}

func (p *Problem) Error() string {
	msg := fmt.Sprintf("%s (%d)", p.Title, p.Status)
	if p.Detail != "" {
		msg += ": " + p.Detail
	}
	for _, f := range p.Errors {
		msg += fmt.Sprintf("\n  %s: %s", f.Pointer, f.Detail)
	}
	return msg
}

// Slug is the problem type's last segment ("not-found", "invalid-request").
func (p *Problem) Slug() string { return p.Type[strings.LastIndex(p.Type, "/")+1:] }

// do sends one API request; body, when non-nil, is sent as JSON and out,
// when non-nil, receives the JSON answer. It returns the status; answers of
// 400 and above become *Problem.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) (int, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("client: %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return 0, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, fmt.Errorf("client: %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		p := &Problem{}
		if json.Unmarshal(data, p) != nil || p.Status == 0 {
			p = &Problem{Type: "about:blank", Title: http.StatusText(resp.StatusCode), Status: resp.StatusCode, Detail: strings.TrimSpace(string(data))}
		}
		return resp.StatusCode, p
	}
	switch o := out.(type) {
	case nil:
	case *[]byte:
		*o = data
	default:
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("client: %s %s: answer: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// Keys returns the vault's published public keys.
func (c *Client) Keys(ctx context.Context) ([]receipt.Key, error) {
	var out struct {
		Keys []vault.PublicKey `json:"keys"`
	}
	if _, err := c.do(ctx, "GET", "/v1/keys", nil, nil, &out); err != nil {
		return nil, err
	}
	keys := make([]receipt.Key, 0, len(out.Keys))
	for _, k := range out.Keys {
		key, err := receipt.ParsePublicKey([]byte(k.PEM))
		if err != nil {
			return nil, fmt.Errorf("client: key %s: %w", k.KeyID, err)
		}
		if key.ID != k.KeyID {
			return nil, fmt.Errorf("client: key listed as %s is %s", k.KeyID, key.ID)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// CreateDossier creates a dossier.
func (c *Client) CreateDossier(ctx context.Context, in vault.DossierInput) (vault.Dossier, error) {
	var d vault.Dossier
	_, err := c.do(ctx, "POST", "/v1/dossiers", nil, in, &d)
	return d, err
}

// Dossiers lists the dossiers the caller may read.
func (c *Client) Dossiers(ctx context.Context) ([]vault.Dossier, error) {
	var out struct {
		Dossiers []vault.Dossier `json:"dossiers"`
	}
	_, err := c.do(ctx, "GET", "/v1/dossiers", nil, nil, &out)
	return out.Dossiers, err
}

// Documents lists the latest sealed version of each document of a dossier.
func (c *Client) Documents(ctx context.Context, dossier string) ([]vault.Version, error) {
	var out struct {
		Documents []vault.Version `json:"documents"`
	}
	_, err := c.do(ctx, "GET", "/v1/dossiers/"+url.PathEscape(dossier)+"/documents", nil, nil, &out)
	return out.Documents, err
}

// Versions lists every sealed version of one document, oldest first.
func (c *Client) Versions(ctx context.Context, dossier, path string) ([]vault.Version, error) {
	var out struct {
		Versions []vault.Version `json:"versions"`
	}
	_, err := c.do(ctx, "GET", "/v1/dossiers/"+url.PathEscape(dossier)+"/versions", url.Values{"path": {path}}, nil, &out)
	return out.Versions, err
}

// Download is a presigned GET of one version, with its receipt bundle.
type Download struct {
	Version  vault.Version   `json:"version"`
	Download vault.Presigned `json:"download"`
	Receipt  json.RawMessage `json:"receipt"`
}

// Download asks for one version of a document (the latest if version is 0).
func (c *Client) Download(ctx context.Context, dossier, path string, version int) (*Download, error) {
	q := url.Values{"path": {path}}
	if version > 0 {
		q.Set("version", strconv.Itoa(version))
	}
	var out Download
	if _, err := c.do(ctx, "GET", "/v1/dossiers/"+url.PathEscape(dossier)+"/download", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// StartUpload opens an upload: one presigned PUT, or with multipart a part
// plan (partSize 0 lets the vault choose).
func (c *Client) StartUpload(ctx context.Context, dossier string, doc vault.Document, multipart bool, partSize int64) (vault.Ticket, error) {
	q := url.Values{}
	if multipart {
		q.Set("multipart", "true")
		if partSize > 0 {
			q.Set("partSize", strconv.FormatInt(partSize, 10))
		}
	}
	var t vault.Ticket
	_, err := c.do(ctx, "POST", "/v1/dossiers/"+url.PathEscape(dossier)+"/uploads", q, doc, &t)
	return t, err
}

// PresignParts asks for presigned PUTs of parts, each bound to its SHA-256.
func (c *Client) PresignParts(ctx context.Context, uploadID string, parts []vault.PartURL) ([]vault.PresignedPart, error) {
	var out struct {
		Parts []vault.PresignedPart `json:"parts"`
	}
	_, err := c.do(ctx, "POST", "/v1/uploads/"+url.PathEscape(uploadID)+"/parts", nil, map[string]any{"parts": parts}, &out)
	return out.Parts, err
}

// UploadStatus reports an upload's state and stored parts.
func (c *Client) UploadStatus(ctx context.Context, uploadID string) (*vault.UploadStatus, error) {
	var st vault.UploadStatus
	if _, err := c.do(ctx, "GET", "/v1/uploads/"+url.PathEscape(uploadID), nil, nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Abort discards an open multipart upload.
func (c *Client) Abort(ctx context.Context, uploadID string) error {
	_, err := c.do(ctx, "DELETE", "/v1/uploads/"+url.PathEscape(uploadID), nil, nil, nil)
	return err
}

// Sealing is the progress complete reports while the vault hashes a large
// object.
type Sealing struct {
	HashedBytes int64 `json:"hashedBytes"`
	Size        int64 `json:"size"`
}

// Complete seals an upload and returns its receipt bundle, calling again
// while the vault reports that it is still hashing (progress, when non-nil,
// hears of each step).
func (c *Client) Complete(ctx context.Context, uploadID string, progress func(Sealing)) ([]byte, error) {
	for {
		var raw []byte
		status, err := c.do(ctx, "POST", "/v1/uploads/"+url.PathEscape(uploadID)+"/complete", nil, nil, &raw)
		if err != nil {
			return nil, err
		}
		if status != http.StatusAccepted {
			var body struct {
				Envelope json.RawMessage `json:"envelope"`
				Log      json.RawMessage `json:"log"`
			}
			if err := json.Unmarshal(raw, &body); err != nil {
				return nil, fmt.Errorf("client: complete: %w", err)
			}
			return json.Marshal(body)
		}
		var s Sealing
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("client: complete: %w", err)
		}
		if progress != nil {
			progress(s)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Receipt returns a receipt bundle as stored.
func (c *Client) Receipt(ctx context.Context, receiptID string) ([]byte, error) {
	var raw []byte
	_, err := c.do(ctx, "GET", "/v1/receipts/"+url.PathEscape(receiptID), nil, nil, &raw)
	return raw, err
}

// Checkpoint returns the tenant log's signed checkpoint at size, or the
// latest if size is 0.
func (c *Client) Checkpoint(ctx context.Context, size int64) ([]byte, error) {
	path := "/v1/log/checkpoint"
	if size > 0 {
		path = "/v1/log/checkpoints/" + strconv.FormatInt(size, 10)
	}
	var raw []byte
	_, err := c.do(ctx, "GET", path, nil, nil, &raw)
	return raw, err
}

// InclusionProof proves log entry index in the tree of size.
func (c *Client) InclusionProof(ctx context.Context, index, size int64) (*vault.LogProof, error) {
	var p vault.LogProof
	q := url.Values{"index": {strconv.FormatInt(index, 10)}, "size": {strconv.FormatInt(size, 10)}}
	if _, err := c.do(ctx, "GET", "/v1/log/proofs/inclusion", q, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// ConsistencyProof proves that the tree of size from is a prefix of the
// tree of size to.
func (c *Client) ConsistencyProof(ctx context.Context, from, to int64) (*vault.LogProof, error) {
	var p vault.LogProof
	q := url.Values{"from": {strconv.FormatInt(from, 10)}, "to": {strconv.FormatInt(to, 10)}}
	if _, err := c.do(ctx, "GET", "/v1/log/proofs/consistency", q, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// IsNotFound reports whether err is the API's 404.
func IsNotFound(err error) bool {
	var p *Problem
	return errors.As(err, &p) && p.Status == http.StatusNotFound
}
