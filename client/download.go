package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/evidencevault/vault/internal/sigstore"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/evidencevault/vault/internal/vault"
)

// VerifyError is a file or receipt that failed verification; Checks says
// which checks failed and why.
type VerifyError struct {
	Item   string
	Checks []vault.Check
}

func (e *VerifyError) Error() string {
	var failed []string
	for _, c := range e.Checks {
		if !c.Passed {
			failed = append(failed, c.Name+": "+c.Detail)
		}
	}
	return fmt.Sprintf("%s failed verification: %s", e.Item, strings.Join(failed, "; "))
}

// Fetched is a downloaded, verified version.
type Fetched struct {
	Version     vault.Version
	File        string
	ReceiptFile string
	// SigstoreFile holds the receipt as a Sigstore bundle, for cosign.
	SigstoreFile string
	Verification *vault.Verification
}

// Get downloads one version of a document (the latest if version is 0) to
// dest and its receipt bundle to dest+".receipt.json". The bytes go to a
// temporary file beside dest and become dest only once their SHA-256 and
// size are the receipt's, the receipt is signed by the key the view trusts
// for its place in the log, its log proof holds, its checkpoint is part of
// the log the view verified, and it names the version asked for; otherwise
// nothing is kept and the error is a *VerifyError.
func (c *Client) Get(ctx context.Context, dossier, path string, version int, dest string, view *View, progress func(int64)) (*Fetched, error) {
	d, err := c.Download(ctx, dossier, path, version)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".evault-*")
	if err != nil {
		return nil, fmt.Errorf("client: get: %w", err)
	}
	kept := false
	defer func() {
		if !kept {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	sum, n, err := c.fetch(ctx, d.Download, tmp, progress)
	if err != nil {
		return nil, err
	}
	ver, r := vault.VerifyOffline(ctx, d.Receipt, view.Trust, sum, n)
	if r != nil {
		p := r.Predicate
		_, tenant, _ := vault.ParseLogOrigin(view.Origin)
		ok := p.Dossier.ID == dossier && p.Document.Path == path && p.Version == d.Version.Version &&
			p.Storage.VersionID == d.Version.VersionID && (version == 0 || p.Version == version) && p.Tenant == tenant
		detail := fmt.Sprintf("the receipt is for %s of dossier %s of tenant %s, version %d", p.Document.Path, p.Dossier.ID, p.Tenant, p.Version)
		ver.Add(vault.Check{Name: "requested_version", Passed: ok, Detail: detail})
		ver.Add(view.LogCheck(ctx, c, r))
	}
	if !ver.Valid {
		return nil, &VerifyError{Item: path, Checks: ver.Checks}
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("client: get: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("client: get: %w", err)
	}
	receiptFile, sigstoreFile := dest+".receipt.json", dest+".sigstore.json"
	if err := os.WriteFile(receiptFile, d.Receipt, 0o644); err != nil {
		return nil, fmt.Errorf("client: get: %w", err)
	}
	sb, err := sigstore.Bundle(r.Envelope, r.Timestamps)
	if err == nil {
		err = os.WriteFile(sigstoreFile, sb, 0o644)
	}
	if err != nil {
		return nil, fmt.Errorf("client: get: %w", err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return nil, fmt.Errorf("client: get: %w", err)
	}
	kept = true
	return &Fetched{Version: d.Version, File: dest, ReceiptFile: receiptFile, SigstoreFile: sigstoreFile, Verification: ver}, nil
}

// fetch streams a presigned GET into w and returns the SHA-256 and length
// of what arrived.
func (c *Client) fetch(ctx context.Context, pre vault.Presigned, w io.Writer, progress func(int64)) (string, int64, error) {
	req, err := http.NewRequestWithContext(ctx, pre.Method, pre.URL, nil)
	if err != nil {
		return "", 0, fmt.Errorf("client: download: %w", err)
	}
	for k, v := range pre.Headers {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("client: download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return "", 0, fmt.Errorf("client: download: storage answered %d: %s", resp.StatusCode, msg)
	}
	h := sha256.New()
	var body io.Reader = resp.Body
	if progress != nil {
		body = &countingReader{r: body, add: progress}
	}
	n, err := io.CopyBuffer(io.MultiWriter(w, h), body, make([]byte, 1<<20))
	if err != nil {
		return "", 0, fmt.Errorf("client: download: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// CheckLogConsistent names the check that a receipt's checkpoint is part of
// the log as the client verified it; CheckSealedAsSent that an upload's
// receipt is of the document sent.
const (
	CheckLogConsistent = "log_consistent"
	CheckSealedAsSent  = "sealed_as_sent"
)

// SealedAsSent is the check that receipt r is of the document sent, with
// its metadata and file, in the dossier and tenant it was sent to: a
// receipt of the same bytes elsewhere proves nothing of an upload.
func SealedAsSent(r *vault.Receipt, dossier, tenant string, sent vault.Document) vault.Check {
	sent.File.SHA256 = strings.ToLower(sent.File.SHA256) // as the vault keeps it
	got, _ := json.Marshal(r.Predicate.Document)
	want, _ := json.Marshal(sent)
	p := r.Predicate
	c := vault.Check{Name: CheckSealedAsSent, Passed: bytes.Equal(got, want) && p.Dossier.ID == dossier && p.Tenant == tenant,
		Detail: fmt.Sprintf("the receipt is for %s of dossier %s of tenant %s", p.Document.Path, p.Dossier.ID, p.Tenant)}
	if c.Passed {
		c.Detail += ", as sent"
	} else {
		c.Detail += fmt.Sprintf("; sent: %s of dossier %s of tenant %s, with its metadata", sent.Path, dossier, tenant)
	}
	return c
}

// LogCheck proves a receipt's checkpoint part of the view's log.
func (v *View) LogCheck(ctx context.Context, c *Client, r *vault.Receipt) vault.Check {
	if r.Log == nil {
		return vault.Check{Name: CheckLogConsistent, Detail: "the receipt carries no log proof"}
	}
	if _, err := v.Extends(ctx, c, []byte(r.Log.Checkpoint)); err != nil {
		return vault.Check{Name: CheckLogConsistent, Detail: err.Error()}
	}
	return vault.Check{Name: CheckLogConsistent, Passed: true, Detail: fmt.Sprintf("the receipt's checkpoint is part of the log at %d entries, as verified", v.Latest.Size)}
}
