package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/evidencevault/vault/internal/bundle"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
)

// Dossier returns one dossier.
func (c *Client) Dossier(ctx context.Context, id string) (vault.Dossier, error) {
	var d vault.Dossier
	_, err := c.do(ctx, "GET", "/v1/dossiers/"+url.PathEscape(id), nil, nil, &d)
	return d, err
}

// Export writes a dossier into w as it stood at the log checkpoint of size
// (the latest checkpoint if 0): for each document, the latest version whose
// receipt the checkpoint includes, its receipt proven against that
// checkpoint, and the keys. Everything is verified under keys before it is
// written, so a bundle is never made of what the vault could not prove.
func (c *Client) Export(ctx context.Context, dossier string, size int64, w *bundle.Writer, keys []receipt.Key, progress func(int64)) (*bundle.Manifest, error) {
	d, err := c.Dossier(ctx, dossier)
	if err != nil {
		return nil, err
	}
	cpText, err := c.Checkpoint(ctx, size)
	if err != nil {
		return nil, err
	}
	origin, _, _ := strings.Cut(string(cpText), "\n")
	cp, err := ledger.OpenCheckpoint(cpText, origin, receipt.PublicKeys(keys))
	if err != nil {
		return nil, fmt.Errorf("client: export: the vault's checkpoint does not verify: %w", err)
	}
	latest, err := c.Documents(ctx, dossier)
	if err != nil {
		return nil, err
	}
	m := &bundle.Manifest{CreatedAt: time.Now().UTC(), Dossier: d, Log: bundle.Log{Origin: cp.Origin, Size: cp.Size, Checkpoint: bundle.CheckpointFile}}
	for _, v := range latest {
		doc, ok, err := c.exportDocument(ctx, w, v, cp, cpText, keys, progress)
		if err != nil {
			return nil, fmt.Errorf("client: export %s: %w", v.Document.Path, err)
		}
		if ok {
			m.Documents = append(m.Documents, doc)
		}
	}
	if _, _, err := w.Add(bundle.CheckpointFile, bytes.NewReader(cpText)); err != nil {
		return nil, err
	}
	for _, k := range keys {
		name := bundle.KeyName(k.ID)
		if _, _, err := w.Add(name, bytes.NewReader(k.PEM())); err != nil {
			return nil, err
		}
		m.Keys = append(m.Keys, name)
	}
	return m, nil
}

// exportDocument writes the latest version of one document that the
// checkpoint includes; ok is false if it includes none.
func (c *Client) exportDocument(ctx context.Context, w *bundle.Writer, latest vault.Version, cp ledger.Checkpoint, cpText []byte, keys []receipt.Key, progress func(int64)) (bundle.Document, bool, error) {
	v, index, err := c.versionAt(ctx, latest, cp.Size)
	if err != nil || v == nil {
		return bundle.Document{}, false, err
	}
	dl, err := c.Download(ctx, v.Dossier, v.Document.Path, v.Version)
	if err != nil {
		return bundle.Document{}, false, err
	}
	var stored vault.Bundle
	if err := json.Unmarshal(dl.Receipt, &stored); err != nil {
		return bundle.Document{}, false, fmt.Errorf("receipt: %w", err)
	}
	proof, err := c.InclusionProof(ctx, index, cp.Size)
	if err != nil {
		return bundle.Document{}, false, err
	}
	rc, err := json.MarshalIndent(vault.Bundle{Envelope: stored.Envelope, Log: &ledger.Proof{
		Origin: cp.Origin, Index: index, Checkpoint: string(cpText), Inclusion: proof.Hashes}}, "", "  ")
	if err != nil {
		return bundle.Document{}, false, err
	}
	if ver, _ := vault.VerifyOffline(ctx, rc, keys, v.SHA256, v.Size); !ver.Valid {
		return bundle.Document{}, false, &VerifyError{Item: v.Document.Path + " receipt", Checks: ver.Checks}
	}
	path := v.Document.Path
	pr, pw := io.Pipe()
	go func() {
		_, _, err := c.fetch(ctx, dl.Download, pw, progress)
		pw.CloseWithError(err)
	}()
	sum, n, err := w.Add(bundle.FileName(path), pr)
	if err != nil {
		return bundle.Document{}, false, err
	}
	if sum != v.SHA256 || n != v.Size {
		return bundle.Document{}, false, &VerifyError{Item: path, Checks: []vault.Check{{Name: vault.CheckFile,
			Detail: fmt.Sprintf("storage sent %d bytes with SHA-256 %s; the receipt names %d and %s", n, sum, v.Size, v.SHA256)}}}
	}
	if _, _, err := w.Add(bundle.ReceiptName(path), bytes.NewReader(rc)); err != nil {
		return bundle.Document{}, false, err
	}
	return bundle.Document{Path: path, Version: v.Version, ReceiptID: v.ReceiptID, LogIndex: index,
		SHA256: v.SHA256, Size: v.Size, File: bundle.FileName(path), Receipt: bundle.ReceiptName(path)}, true, nil
}

// versionAt returns the latest version of a document whose receipt is in
// the log's first size entries, and its log index; nil if none is.
func (c *Client) versionAt(ctx context.Context, latest vault.Version, size int64) (*vault.Version, int64, error) {
	if idx, err := c.logIndex(ctx, latest.ReceiptID); err != nil || idx < size {
		return &latest, idx, err
	}
	versions, err := c.Versions(ctx, latest.Dossier, latest.Document.Path)
	if err != nil {
		return nil, 0, err
	}
	for i := len(versions) - 1; i >= 0; i-- {
		idx, err := c.logIndex(ctx, versions[i].ReceiptID)
		if err != nil {
			return nil, 0, err
		}
		if idx < size {
			return &versions[i], idx, nil
		}
	}
	return nil, 0, nil
}

func (c *Client) logIndex(ctx context.Context, receiptID string) (int64, error) {
	data, err := c.Receipt(ctx, receiptID)
	if err != nil {
		return 0, err
	}
	var b vault.Bundle
	if err := json.Unmarshal(data, &b); err != nil || b.Log == nil {
		return 0, fmt.Errorf("receipt %s carries no log proof", receiptID)
	}
	return b.Log.Index, nil
}
