package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/evidencevault/vault/internal/vault"
	"golang.org/x/sync/errgroup"
)

// UploadOptions tune UploadFile.
type UploadOptions struct {
	// MultipartThreshold is the size from which files go in parts;
	// 64 MiB if 0. Files above 5 GiB always do.
	MultipartThreshold int64
	// PartSize is the part size to ask for; the vault's default if 0.
	PartSize int64
	// Parallel is how many parts are in flight; 4 if 0.
	Parallel int
	// NewVersion seals a new version even when the document's latest
	// version has the file's bytes; otherwise such an upload is skipped
	// (UploadResult.Unchanged).
	NewVersion bool
	// StateDir keeps the state of multipart uploads, so that running the
	// same upload again resumes it; no resumption if "".
	StateDir string
	// Progress, when set, hears of bytes hashed ("hash"), sent ("upload")
	// and hashed by the vault while it seals ("seal"), as they happen.
	Progress func(phase string, n int64)
}

// UploadResult is a sealed upload.
type UploadResult struct {
	UploadID string
	// Receipt is the receipt bundle as the vault returned it.
	Receipt []byte
	// Parts is the number of parts (0 for a single PUT); Sent how many
	// were sent by this call, the rest having been sent before.
	Parts, Sent int
	Resumed     bool
	// Document is the document the upload declared: the prepared one, or,
	// resumed, the one the upload was started with (its metadata may have
	// been other then, an effective date of that day, say).
	Document vault.Document
	// Unchanged is set, and nothing was sent, when the document's latest
	// version already has the file's bytes.
	Unchanged *Unchanged
}

// uploadState is what StateDir keeps about one multipart upload of a file.
type uploadState struct {
	File     string    `json:"file"`
	ModTime  time.Time `json:"modTime"`
	Dossier  string    `json:"dossier"`
	Path     string    `json:"path"`
	UploadID string    `json:"uploadId"`
	PartSize int64     `json:"partSize"`
	Digests  Digests   `json:"digests"`
	// Document is what the upload declared (absent in older state files).
	Document *vault.Document `json:"document,omitempty"`
}

// PrepareFile fills doc.File's size and SHA-256 from the file at path
// (hashing it once, parts included when it will go in parts), unless a
// resumable upload of the unchanged file is recorded in StateDir.
func (c *Client) PrepareFile(ctx context.Context, dossier string, doc *vault.Document, path string, opts UploadOptions) (*Prepared, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	p := &Prepared{file: path, modTime: fi.ModTime(), dossier: dossier, doc: doc, opts: opts}
	threshold := opts.MultipartThreshold
	if threshold == 0 {
		threshold = 64 << 20
	}
	p.multipart = fi.Size() >= threshold || fi.Size() > vault.MaxSinglePutSize
	if p.multipart {
		plan, fields := vault.PlanParts(fi.Size(), opts.PartSize)
		if fields != nil {
			return nil, &Problem{Title: "File cannot be sent in parts", Status: http.StatusUnprocessableEntity, Errors: fields}
		}
		p.plan = plan
		// A state without the document declared (an older evault's) is
		// not resumed: what the upload declared is what its receipt is
		// checked against.
		if st, ok := p.loadState(); ok && st.PartSize == plan.PartSize && st.Digests.Size == fi.Size() && st.Document != nil {
			p.state = st
			doc.File.Size, doc.File.SHA256 = st.Digests.Size, st.Digests.SHA256
			return p, nil
		}
	}
	var partSize int64
	if p.multipart {
		partSize = p.plan.PartSize
	}
	d, err := HashFile(ctx, path, partSize, func(n int64) { opts.progress("hash", n) })
	if err != nil {
		return nil, err
	}
	p.digests = d
	doc.File.Size, doc.File.SHA256 = d.Size, d.SHA256
	return p, nil
}

func (o UploadOptions) progress(phase string, n int64) {
	if o.Progress != nil {
		o.Progress(phase, n)
	}
}

// Prepared is a file hashed and ready to upload with its metadata.
type Prepared struct {
	file      string
	modTime   time.Time
	dossier   string
	doc       *vault.Document
	opts      UploadOptions
	multipart bool
	plan      vault.Multipart
	digests   Digests
	state     *uploadState // a resumable upload, if one was found
}

// Multipart reports whether the file goes in parts.
func (p *Prepared) Multipart() bool { return p.multipart }

func (p *Prepared) stateFile() string {
	abs, err := filepath.Abs(p.file)
	if err != nil {
		abs = p.file
	}
	sum := sha256.Sum256([]byte(abs + "\x00" + p.dossier + "\x00" + p.doc.Path))
	return filepath.Join(p.opts.StateDir, hex.EncodeToString(sum[:12])+".json")
}

func (p *Prepared) loadState() (*uploadState, bool) {
	if p.opts.StateDir == "" {
		return nil, false
	}
	data, err := os.ReadFile(p.stateFile())
	if err != nil {
		return nil, false
	}
	var st uploadState
	if json.Unmarshal(data, &st) != nil || !st.ModTime.Equal(p.modTime) || st.Dossier != p.dossier || st.Path != p.doc.Path {
		return nil, false
	}
	return &st, true
}

func (p *Prepared) saveState(st *uploadState) error {
	if p.opts.StateDir == "" {
		return nil
	}
	if err := os.MkdirAll(p.opts.StateDir, 0o700); err != nil {
		return fmt.Errorf("client: upload state: %w", err)
	}
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := p.stateFile() + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("client: upload state: %w", err)
	}
	return os.Rename(tmp, p.stateFile())
}

// Upload sends the prepared file and seals it: Send, then Complete.
func (c *Client) Upload(ctx context.Context, p *Prepared) (*UploadResult, error) {
	res, err := c.Send(ctx, p)
	if err != nil || res.Unchanged != nil {
		return res, err
	}
	if res.Receipt, err = c.Complete(ctx, res.UploadID, p.sealProgress()); err != nil {
		return res, err
	}
	if p.opts.StateDir != "" && p.multipart {
		os.Remove(p.stateFile())
	}
	return res, nil
}

// Send opens the upload and sends the prepared file's bytes: one presigned
// PUT, or parts in parallel, resuming a recorded upload without re-sending
// the parts the vault already holds. The upload is then ready to complete.
func (c *Client) Send(ctx context.Context, p *Prepared) (*UploadResult, error) {
	var unchanged *Unchanged
	if !p.multipart {
		t, err := c.StartUpload(ctx, p.dossier, *p.doc, StartOptions{NewVersion: p.opts.NewVersion})
		if errors.As(err, &unchanged) {
			return &UploadResult{Unchanged: unchanged, Document: *p.doc}, nil
		}
		if err != nil {
			return nil, err
		}
		if err := c.put(ctx, t.Upload, p.file, 0, p.doc.File.Size, "upload", p.opts); err != nil {
			return nil, err
		}
		return &UploadResult{UploadID: t.UploadID, Document: *p.doc}, nil
	}
	res := &UploadResult{Parts: p.plan.Parts}
	st := p.state
	have := map[int]string{}
	if st != nil {
		switch status, err := c.UploadStatus(ctx, st.UploadID); {
		case err == nil && status.State == "open":
			res.Resumed = true
			for _, part := range status.Parts {
				have[part.Number] = part.SHA256
			}
		case err == nil && status.State == "completed":
			res.Resumed = true
			have = nil
		default:
			st = nil // expired, aborted or unknown: start again
		}
	}
	if st == nil {
		t, err := c.StartUpload(ctx, p.dossier, *p.doc, StartOptions{Multipart: true, PartSize: p.plan.PartSize, NewVersion: p.opts.NewVersion})
		if errors.As(err, &unchanged) {
			return &UploadResult{Unchanged: unchanged, Document: *p.doc}, nil
		}
		if err != nil {
			return nil, err
		}
		if t.Multipart == nil || *t.Multipart != p.plan {
			return nil, fmt.Errorf("client: vault planned parts %+v, expected %+v", t.Multipart, p.plan)
		}
		doc := *p.doc
		st = &uploadState{File: p.file, ModTime: p.modTime, Dossier: p.dossier, Path: p.doc.Path,
			UploadID: t.UploadID, PartSize: p.plan.PartSize, Digests: p.digests, Document: &doc}
		if err := p.saveState(st); err != nil {
			return nil, err
		}
	}
	res.UploadID, res.Document = st.UploadID, *st.Document
	if have != nil {
		sent, err := c.sendParts(ctx, p, st, have)
		res.Sent = sent
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

func (p *Prepared) sealProgress() func(Sealing) {
	var last int64
	return func(s Sealing) {
		p.opts.progress("seal", s.HashedBytes-last)
		last = s.HashedBytes
	}
}

// sendParts sends the parts the vault does not hold yet, Parallel at a
// time, each with a URL presigned just before it is sent (a part URL lives
// 15 minutes; a large upload takes longer).
func (c *Client) sendParts(ctx context.Context, p *Prepared, st *uploadState, have map[int]string) (int, error) {
	parallel := p.opts.Parallel
	if parallel == 0 {
		parallel = 4
	}
	var todo []int
	for n := 1; n <= p.plan.Parts; n++ {
		if have[n] != st.Digests.Parts[n-1] {
			todo = append(todo, n)
		} else {
			p.opts.progress("upload", min(p.plan.PartSize, p.doc.File.Size-int64(n-1)*p.plan.PartSize))
		}
	}
	var sent atomic.Int64
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for _, n := range todo {
		g.Go(func() error {
			off := int64(n-1) * p.plan.PartSize
			size := min(p.plan.PartSize, p.doc.File.Size-off)
			var err error
			for attempt := range 3 {
				var pre []vault.PresignedPart
				pre, err = c.PresignParts(ctx, st.UploadID, []vault.PartURL{{Number: n, SHA256: st.Digests.Parts[n-1]}})
				if err != nil {
					return err
				}
				if err = c.put(ctx, pre[0].Presigned, p.file, off, size, "upload", p.opts); err == nil {
					sent.Add(1)
					return nil
				}
				if ctx.Err() != nil || errors.Is(err, errRefused) {
					return err
				}
				time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
			}
			return err
		})
	}
	err := g.Wait()
	return int(sent.Load()), err
}

// errRefused marks a PUT storage refused for its content (a changed file).
var errRefused = errors.New("storage refused the bytes")

// put sends size bytes of file from off to a presigned PUT.
func (c *Client) put(ctx context.Context, pre vault.Presigned, file string, off, size int64, phase string, opts UploadOptions) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer f.Close()
	body := &countingReader{r: io.NewSectionReader(f, off, size), add: func(n int64) { opts.progress(phase, n) }}
	req, err := http.NewRequestWithContext(ctx, pre.Method, pre.URL, body)
	if err != nil {
		return fmt.Errorf("client: put: %w", err)
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	for k, v := range pre.Headers {
		if k != "Content-Length" {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("client: put: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusBadRequest:
		return fmt.Errorf("client: put: %w (the file changed since it was hashed?): %s", errRefused, msg)
	default:
		return fmt.Errorf("client: put: storage answered %d: %s", resp.StatusCode, msg)
	}
}

// countingReader reports bytes as they are read.
type countingReader struct {
	r   io.Reader
	add func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.add(int64(n))
	}
	return n, err
}
