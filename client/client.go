// Package client is the Go client of Evidence Vault's HTTP API
// (openapi/openapi.yaml, docs/api.md), and the transfers built on it:
// uploads in one PUT or in resumable parallel parts, downloads verified
// before they are kept, export bundles, and the trust a client keeps of a
// vault's log (pinned keys and checkpoints).
//
// API calls time out (Timeout), are retried with backoff on 429, 503 and
// lost connections when repeating them is safe, honouring Retry-After and
// the context, and carry a User-Agent. Creating calls send an
// Idempotency-Key, the same on every retry, so a retry never creates
// twice.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
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
	opts  Options
}

// Options tune a Client; the zero value is the defaults.
type Options struct {
	// UserAgent names the caller, such as "evault/v1.2.0"; the package
	// adds its own name.
	UserAgent string
	// Timeout bounds each API call, retries included (60 s if 0). Transfers
	// of evidence bytes are bounded by the HTTP client's transport only:
	// files may be many GiB.
	Timeout time.Duration
	// Retries is how many times a call is repeated after a 429, a 503 or a
	// lost connection, when repeating it is safe (4 if 0, none if < 0).
	Retries int
	// Tenant is sent as Vault-Tenant: the tenant an auditor acts in,
	// among those that granted them access (GET /v1/me).
	Tenant string
	// Token, when set, gives the bearer token for each call instead of
	// the fixed one: a signed-in user's, refreshed as it expires.
	Token func(ctx context.Context) (string, error)
}

// New returns a Client for the API at baseURL. httpClient carries both API
// calls and presigned transfers (NewHTTPClient's if nil).
func New(baseURL, token string, httpClient *http.Client, opts ...Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: API URL %q is not an http(s) URL", baseURL)
	}
	if httpClient == nil {
		httpClient = NewHTTPClient()
	}
	c := &Client{base: u, token: token, http: httpClient}
	if len(opts) > 0 {
		c.opts = opts[0]
	}
	if c.opts.Timeout == 0 {
		c.opts.Timeout = time.Minute
	}
	if c.opts.Retries == 0 {
		c.opts.Retries = 4
	}
	return c, nil
}

// NewHTTPClient returns an HTTP client for the API and the transfers: no
// overall timeout (a transfer of many GiB takes long), but a bounded wait
// for a connection, a TLS handshake and each answer's headers, and a
// connection that moves no byte either way for two minutes is closed (a
// storage that stops reading an upload, or stops sending a download), so
// that a vault or a storage that stops answering fails the call rather
// than hang.
func NewHTTPClient() *http.Client { return newHTTPClient(2 * time.Minute) }

func newHTTPClient(idle time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &idleConn{Conn: c, idle: idle}, nil
	}
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = time.Minute
	return &http.Client{Transport: t}
}

// idleConn fails a read or write that waits longer than idle for the
// other side.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.idle))
	return c.Conn.Read(p)
}

func (c *idleConn) Write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.idle))
	return c.Conn.Write(p)
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
// 400 and above become *Problem. Safe calls are retried (retry.go).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) (int, error) {
	return c.call(ctx, request{method: method, path: path, query: query, body: body}, out)
}

// request is one API call.
type request struct {
	method, path string
	query        url.Values
	body         any
	// idempotencyKey is sent as Idempotency-Key, making a creating POST
	// safe to repeat.
	idempotencyKey string
}

// call sends rq, repeating it while the answer says to try again and
// repeating is safe.
func (c *Client) call(ctx context.Context, rq request, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	var data []byte
	if rq.body != nil {
		var err error
		if data, err = json.Marshal(rq.body); err != nil {
			return 0, fmt.Errorf("client: %s %s: %w", rq.method, rq.path, err)
		}
	}
	for attempt := 0; ; attempt++ {
		status, wait, err := c.once(ctx, rq, data, out)
		if wait < 0 || attempt >= c.opts.Retries || !rq.repeatable() {
			return status, err
		}
		if serr := sleep(ctx, backoff(attempt, wait)); serr != nil {
			return status, errors.Join(err, serr)
		}
	}
}

// once sends rq once. wait is how long the answer asks to wait before a
// retry (0: the client's choice), or negative when a retry would not help.
func (c *Client) once(ctx context.Context, rq request, data []byte, out any) (status int, wait time.Duration, err error) {
	u := *c.base
	u.Path += rq.path
	u.RawQuery = rq.query.Encode()
	var rd io.Reader
	if data != nil {
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, u.String(), rd)
	if err != nil {
		return 0, -1, fmt.Errorf("client: %s %s: %w", rq.method, rq.path, err)
	}
	if data != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	token := c.token
	if c.opts.Token != nil {
		if token, err = c.opts.Token(ctx); err != nil {
			return 0, -1, fmt.Errorf("client: %s %s: sign-in: %w", rq.method, rq.path, err)
		}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if c.opts.Tenant != "" {
		req.Header.Set("Vault-Tenant", c.opts.Tenant)
	}
	if rq.idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", rq.idempotencyKey)
	}
	req.Header.Set("User-Agent", c.userAgent())
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, -1, fmt.Errorf("client: %s %s: %w", rq.method, rq.path, err)
		}
		return 0, 0, fmt.Errorf("client: %s %s: %w", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, 0, fmt.Errorf("client: %s %s: read answer: %w", rq.method, rq.path, err)
	}
	if resp.StatusCode >= 400 {
		p := &Problem{}
		if json.Unmarshal(body, p) != nil || p.Status == 0 {
			p = &Problem{Type: "about:blank", Title: http.StatusText(resp.StatusCode), Status: resp.StatusCode, Detail: strings.TrimSpace(string(body))}
		}
		wait := retryAfter(resp)
		if resp.StatusCode == http.StatusConflict && p.Slug() == "idempotency-in-progress" {
			// The first of these requests is still being answered: its
			// answer comes to a repeat once it is done.
			wait = max(parseRetryAfter(resp.Header.Get("Retry-After")), 0)
		}
		return resp.StatusCode, wait, p
	}
	switch o := out.(type) {
	case nil:
	case *[]byte:
		*o = body
	default:
		if err := json.Unmarshal(body, out); err != nil {
			return resp.StatusCode, -1, fmt.Errorf("client: %s %s: answer: %w", rq.method, rq.path, err)
		}
	}
	return resp.StatusCode, -1, nil
}

func (c *Client) userAgent() string {
	ua := "evidencevault-client-go (" + runtime.GOOS + "/" + runtime.GOARCH + ")"
	if c.opts.UserAgent != "" {
		ua = c.opts.UserAgent + " " + ua
	}
	return ua
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

// CreateDossier creates a dossier. It is sent with an Idempotency-Key, so
// a retry after a lost answer gets the same dossier, not a conflict.
func (c *Client) CreateDossier(ctx context.Context, in vault.DossierInput) (vault.Dossier, error) {
	var d vault.Dossier
	_, err := c.call(ctx, request{method: "POST", path: "/v1/dossiers", body: in, idempotencyKey: newIdempotencyKey()}, &d)
	return d, err
}

// Dossiers lists the dossiers the caller may read, every page.
func (c *Client) Dossiers(ctx context.Context) ([]vault.Dossier, error) {
	return pages[vault.Dossier](ctx, c, "/v1/dossiers", nil, "dossiers")
}

// Documents lists the latest sealed version of each document of a
// dossier, every page.
func (c *Client) Documents(ctx context.Context, dossier string) ([]vault.Version, error) {
	return pages[vault.Version](ctx, c, "/v1/dossiers/"+url.PathEscape(dossier)+"/documents", nil, "documents")
}

// Versions lists every sealed version of one document, oldest first, every
// page.
func (c *Client) Versions(ctx context.Context, dossier, path string) ([]vault.Version, error) {
	return pages[vault.Version](ctx, c, "/v1/dossiers/"+url.PathEscape(dossier)+"/versions", url.Values{"path": {path}}, "versions")
}

// pageLimit is how many items the client asks for per page.
const pageLimit = 1000

// pages follows a list's pages to its end: the items under member of each.
func pages[T any](ctx context.Context, c *Client, path string, query url.Values, member string) ([]T, error) {
	var all []T
	q := url.Values{"limit": {strconv.Itoa(pageLimit)}}
	for k, v := range query {
		q[k] = v
	}
	for {
		var page map[string]json.RawMessage
		if _, err := c.do(ctx, "GET", path, q, nil, &page); err != nil {
			return nil, err
		}
		var items []T
		if err := json.Unmarshal(page[member], &items); err != nil {
			return nil, fmt.Errorf("client: GET %s: %s: %w", path, member, err)
		}
		all = append(all, items...)
		var next string
		if raw, ok := page["next"]; ok {
			if err := json.Unmarshal(raw, &next); err != nil {
				return nil, fmt.Errorf("client: GET %s: next: %w", path, err)
			}
		}
		if next == "" {
			return all, nil
		}
		q.Set("cursor", next)
	}
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

// StartOptions say how an upload is sent.
type StartOptions struct {
	// Multipart sends the file in parts of PartSize bytes (0: the vault's
	// choice).
	Multipart bool
	PartSize  int64
	// NewVersion seals a new version even when the document's latest
	// version has these bytes.
	NewVersion bool
}

// Unchanged is StartUpload's answer when the document's latest version
// already has the declared bytes: nothing is sent, nothing sealed.
type Unchanged struct {
	Version vault.Version `json:"version"`
	// Receipt is that version's receipt bundle.
	Receipt json.RawMessage `json:"receipt"`
}

func (u *Unchanged) Error() string {
	return fmt.Sprintf("%s is unchanged: version %d has SHA-256 %s", u.Version.Document.Path, u.Version.Version, u.Version.SHA256)
}

// StartUpload opens an upload: one presigned PUT, or with multipart a part
// plan. When the document's latest version has doc's bytes, it returns an
// *Unchanged error (unless opts.NewVersion). It is sent with an
// Idempotency-Key, so a retry opens one upload, not two.
func (c *Client) StartUpload(ctx context.Context, dossier string, doc vault.Document, opts StartOptions) (vault.Ticket, error) {
	q := url.Values{}
	if opts.Multipart {
		q.Set("multipart", "true")
		if opts.PartSize > 0 {
			q.Set("partSize", strconv.FormatInt(opts.PartSize, 10))
		}
	}
	if opts.NewVersion {
		q.Set("newVersion", "true")
	}
	var raw []byte
	status, err := c.call(ctx, request{method: "POST", path: "/v1/dossiers/" + url.PathEscape(dossier) + "/uploads", query: q, body: doc, idempotencyKey: newIdempotencyKey()}, &raw)
	if err != nil {
		return vault.Ticket{}, err
	}
	if status == http.StatusOK {
		u := &Unchanged{}
		if err := json.Unmarshal(raw, u); err != nil {
			return vault.Ticket{}, fmt.Errorf("client: start upload: %w", err)
		}
		return vault.Ticket{}, u
	}
	var t vault.Ticket
	if err := json.Unmarshal(raw, &t); err != nil {
		return vault.Ticket{}, fmt.Errorf("client: start upload: %w", err)
	}
	return t, nil
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
