package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/evidencevault/vault/internal/bundle"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
	"golang.org/x/mod/sumdb/tlog"
)

// Dossier returns one dossier.
func (c *Client) Dossier(ctx context.Context, id string) (vault.Dossier, error) {
	var d vault.Dossier
	_, err := c.do(ctx, "GET", "/v1/dossiers/"+url.PathEscape(id), nil, nil, &d)
	return d, err
}

// LogEntries returns the log's entries from start up to end, as many as
// one answer holds (ledger.MaxEntries); with dossier, only that dossier's
// receipts and the key events come in full, the rest as leaf hashes.
func (c *Client) LogEntries(ctx context.Context, start, end int64, dossier string) (*vault.LogEntries, error) {
	q := url.Values{"start": {strconv.FormatInt(start, 10)}, "end": {strconv.FormatInt(end, 10)}}
	if dossier != "" {
		q.Set("dossier", dossier)
	}
	var out vault.LogEntries
	if _, err := c.do(ctx, "GET", "/v1/log/entries", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// logged is one receipt of a dossier as the log holds it.
type logged struct {
	index    int64
	envelope []byte
	receipt  *vault.Receipt
}

// dossierLog reads the log's first cp.Size entries, checks that their tree
// is cp's, and returns the receipts of dossier among them, each signed by
// the key the view trusts for its place. What the log holds decides what
// the dossier's versions are; the vault's own lists are not consulted.
func (c *Client) dossierLog(ctx context.Context, view *View, cp ledger.Checkpoint, dossier string) ([]logged, []loggedEvent, error) {
	var hashes []tlog.Hash
	var out []logged
	var events []loggedEvent
	for len(hashes) < int(cp.Size) {
		page, err := c.LogEntries(ctx, int64(len(hashes)), cp.Size, dossier)
		if err != nil {
			return nil, nil, err
		}
		if len(page.Entries) == 0 {
			return nil, nil, &TrustError{Origin: view.Origin, Detail: fmt.Sprintf("the vault gave no entries from %d of a log of %d", len(hashes), cp.Size)}
		}
		for _, e := range page.Entries {
			if e.Index != int64(len(hashes)) || len(e.Hash) != tlog.HashSize {
				return nil, nil, &TrustError{Origin: view.Origin, Detail: fmt.Sprintf("the vault gave entry %d where entry %d belongs", e.Index, len(hashes))}
			}
			h := tlog.Hash(e.Hash)
			if e.Envelope != nil {
				leaf, err := leafOf(e.Envelope)
				if err != nil || ledger.LeafHash(leaf) != h {
					return nil, nil, &TrustError{Origin: view.Origin, Detail: fmt.Sprintf("entry %d is not the leaf it is given as", e.Index)}
				}
				if r, ok := receiptOf(e, dossier); ok {
					out = append(out, logged{index: e.Index, envelope: e.Envelope, receipt: r})
				} else if ev, err := vault.OpenLifecycle(ctx, e.Envelope, e.Index, view.Trust); err == nil && ev.Dossier == dossier {
					events = append(events, loggedEvent{envelope: e.Envelope, event: ev})
				}
			}
			hashes = append(hashes, h)
		}
	}
	root, err := ledger.TreeHash(hashes)
	if err != nil {
		return nil, nil, err
	}
	if root != cp.Hash {
		return nil, nil, &TrustError{Origin: view.Origin, Detail: fmt.Sprintf("the %d entries the vault gave are not the tree of its checkpoint", cp.Size)}
	}
	return out, events, nil
}

// loggedEvent is one lifecycle event of a dossier as the log holds it,
// signed by the key the view trusts for its place.
type loggedEvent struct {
	envelope []byte
	event    vault.LoggedEvent
}

func leafOf(envelope []byte) ([]byte, error) {
	var env receipt.Envelope
	if err := json.Unmarshal(envelope, &env); err != nil {
		return nil, err
	}
	return receipt.Payload(&env)
}

// receiptOf reads a log entry as a receipt of dossier; ok is false for
// other entries (key events, other dossiers').
func receiptOf(e vault.LogEntry, dossier string) (*vault.Receipt, bool) {
	r, err := vault.OpenReceipt(e.Envelope)
	if err != nil || r.Predicate.Dossier.ID != dossier {
		return nil, false
	}
	return r, true
}

// Export writes a dossier into w as it stood at the log checkpoint of size
// (the latest if 0): for each document, the latest version the log holds
// at that checkpoint, its receipt proven against the checkpoint, the
// log's key history and the keys. The checkpoint must be part of the log
// the view verified, and everything is verified before it is written, so a
// bundle is never made of what the vault could not prove.
func (c *Client) Export(ctx context.Context, dossier string, size int64, w *bundle.Writer, view *View, progress func(int64)) (*bundle.Manifest, error) {
	return c.ExportWith(ctx, dossier, size, w, view, ExportOptions{}, progress)
}

// ExportOptions chooses what an export holds.
type ExportOptions struct {
	// Submission exports exactly the versions of that submission.
	Submission string
	// CurrentOnly leaves out documents marked obsolete or withdrawn.
	CurrentOnly bool
	// Snapshot is the export event (RecordExport) the bundle proves
	// itself complete against; the checkpoint must hold it.
	Snapshot *vault.LoggedEvent
}

// ExportWith is Export with options. Every document carries its status
// and sign-offs as the dossier's lifecycle events in the log say, and the
// bundle carries those events with their proofs.
func (c *Client) ExportWith(ctx context.Context, dossier string, size int64, w *bundle.Writer, view *View, opts ExportOptions, progress func(int64)) (*bundle.Manifest, error) {
	d, err := c.Dossier(ctx, dossier)
	if err != nil {
		return nil, err
	}
	cp, cpText := view.Latest, view.Signed
	if size > 0 && size != cp.Size {
		if cpText, err = c.Checkpoint(ctx, size); err != nil {
			return nil, err
		}
		if cp, err = view.Extends(ctx, c, cpText); err != nil {
			return nil, err
		}
	}
	kl, err := c.KeyHistory(ctx, cp.Size)
	if err != nil {
		return nil, err
	}
	if _, _, err := vault.TrustLog(ctx, view.Origin, cpText, kl.Events, view.Pinned...); err != nil || kl.Checkpoint != string(cpText) {
		return nil, &TrustError{Origin: view.Origin, Err: err, Detail: fmt.Sprintf("its key history at %d entries does not verify", cp.Size)}
	}
	entries, events, err := c.dossierLog(ctx, view, cp, dossier)
	if err != nil {
		return nil, err
	}
	latest := latestVersions(entries)
	if err := c.matchListing(ctx, view, cp, dossier, latest); err != nil {
		return nil, err
	}
	m := &bundle.Manifest{CreatedAt: time.Now().UTC(), Dossier: d, Log: bundle.Log{Origin: cp.Origin, Size: cp.Size, Checkpoint: bundle.CheckpointFile},
		KeyHistory: bundle.KeyHistoryFile, Lifecycle: bundle.LifecycleFile, Submission: opts.Submission}
	if opts.Snapshot != nil {
		if opts.Snapshot.LogIndex >= cp.Size {
			return nil, fmt.Errorf("client: export: the checkpoint of %d entries does not hold the export event at entry %d", cp.Size, opts.Snapshot.LogIndex)
		}
		m.Snapshot = opts.Snapshot.ID
	}
	var logged []vault.LoggedEvent
	for _, e := range events {
		logged = append(logged, e.event)
	}
	st := vault.Fold(dossier, logged)
	latestOf := map[string]int{}
	for _, e := range latest {
		latestOf[e.receipt.Predicate.Document.Path] = e.receipt.Predicate.Version
	}
	if opts.Snapshot != nil {
		// The snapshot, as the log holds it, is what the bundle is of.
		snap, err := snapshotOf(events, opts.Snapshot.ID)
		if err != nil {
			return nil, err
		}
		latestOf = map[string]int{}
		for _, f := range snap.Documents {
			latestOf[f.Path] = f.Version
		}
		if opts.Submission == "" {
			if latest, err = pick(entries, snap.Documents, "the export snapshot"); err != nil {
				return nil, err
			}
		}
	}
	chosen, err := exportChoice(entries, latest, st, opts)
	if err != nil {
		return nil, err
	}
	for _, e := range chosen {
		p := e.receipt.Predicate
		vs := st.StateOfReceipt(p, e.receipt.Subject.Digest["sha256"], latestOf[p.Document.Path])
		if opts.CurrentOnly && opts.Submission == "" && (vs.Status == vault.StatusObsolete || vs.Status == vault.StatusWithdrawn) {
			m.LeftOut = append(m.LeftOut, p.Document.Path)
			continue
		}
		doc, err := c.exportDocument(ctx, w, e, cp, cpText, view, progress)
		if err != nil {
			return nil, fmt.Errorf("client: export %s: %w", p.Document.Path, err)
		}
		doc.Status, doc.Approved, doc.Signoffs, doc.LegalHold = vs.Status, vs.Approved, vs.Signoffs, len(vs.LegalHolds) > 0
		m.Documents = append(m.Documents, doc)
	}
	if err := c.exportEvents(ctx, w, events, cp); err != nil {
		return nil, err
	}
	if _, _, err := w.Add(bundle.CheckpointFile, bytes.NewReader(cpText)); err != nil {
		return nil, err
	}
	history, err := json.MarshalIndent(kl, "", "  ")
	if err != nil {
		return nil, err
	}
	if _, _, err := w.Add(bundle.KeyHistoryFile, bytes.NewReader(history)); err != nil {
		return nil, err
	}
	for _, k := range view.Trust.Keys {
		name := bundle.KeyName(k.Key.ID)
		if _, _, err := w.Add(name, bytes.NewReader(k.Key.PEM())); err != nil {
			return nil, err
		}
		m.Keys = append(m.Keys, name)
	}
	return m, nil
}

// matchListing compares the log's latest version of each document with
// the vault's listing: a version the listing names, whose receipt is in
// the log before cp, but which the log's entries withheld (gave as a leaf
// hash alone, as another dossier's receipt) would be missing from the
// export. A vault that hides a version from both is not caught here: the
// tenant's audit, which reads every entry, is what shows it.
func (c *Client) matchListing(ctx context.Context, view *View, cp ledger.Checkpoint, dossier string, latest []logged) error {
	have := map[string]int{}
	for _, e := range latest {
		have[e.receipt.Predicate.Document.Path] = e.receipt.Predicate.Version
	}
	listed, err := c.Documents(ctx, dossier)
	var p *Problem
	if errors.As(err, &p) {
		// A listing the vault cannot give (one tampered with in the
		// bucket) names nothing: the log alone decides, as it does.
		return nil
	}
	if err != nil {
		return err
	}
	// A version withheld counts as withheld whether or not it is
	// timestamped or witnessed yet: the keys alone decide.
	trust := view.Trust
	trust.Policy = vault.Policy{}
	for _, v := range listed {
		if have[v.Document.Path] >= v.Version {
			continue
		}
		data, err := c.Receipt(ctx, v.ReceiptID)
		if errors.As(err, &p) {
			// The vault has no such receipt, or one it did not write (a
			// listing's planted version): nothing the log withheld.
			continue
		}
		if err != nil {
			return err
		}
		if ver, r := vault.VerifyOffline(ctx, data, trust, "", -1); ver.Valid && r.Log != nil && r.Log.Index < cp.Size {
			return &TrustError{Origin: view.Origin, Detail: fmt.Sprintf("the log's entries the vault gave leave out version %d of %s, which its listing names at entry %d: the export would hide it", v.Version, v.Document.Path, r.Log.Index)}
		}
	}
	return nil
}

// latestVersions keeps, for each path, the entry of its highest version,
// in path order.
func latestVersions(entries []logged) []logged {
	latest := map[string]logged{}
	for _, e := range entries {
		p := e.receipt.Predicate
		if have, ok := latest[p.Document.Path]; !ok || p.Version > have.receipt.Predicate.Version {
			latest[p.Document.Path] = e
		}
	}
	out := make([]logged, 0, len(latest))
	for _, e := range latest {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b logged) int {
		if a.receipt.Predicate.Document.Path < b.receipt.Predicate.Document.Path {
			return -1
		}
		return 1
	})
	return out
}

// exportDocument writes the version of one document the log names, with
// its receipt proven against cp.
func (c *Client) exportDocument(ctx context.Context, w *bundle.Writer, e logged, cp ledger.Checkpoint, cpText []byte, view *View, progress func(int64)) (bundle.Document, error) {
	p := e.receipt.Predicate
	dl, err := c.Download(ctx, p.Dossier.ID, p.Document.Path, p.Version)
	if err != nil {
		return bundle.Document{}, err
	}
	var stored vault.Bundle
	if err := json.Unmarshal(dl.Receipt, &stored); err != nil {
		return bundle.Document{}, fmt.Errorf("receipt: %w", err)
	}
	if got, err := leafOf(stored.Envelope); err != nil || !sameLeaf(got, e.envelope) {
		return bundle.Document{}, &VerifyError{Item: p.Document.Path + " receipt", Checks: []vault.Check{{Name: vault.CheckLog,
			Detail: fmt.Sprintf("the vault served another receipt for version %d than the log's entry %d (%s)", p.Version, e.index, p.ReceiptID)}}}
	}
	proof, err := c.InclusionProof(ctx, e.index, cp.Size)
	if err != nil {
		return bundle.Document{}, err
	}
	// The receipt as served, with its timestamps: its statement is the
	// log's entry (checked above), and its signature the one they cover,
	// which the twin of a signature written over the log's record is not
	// (receipt.TwinSignature). VerifyOffline checks them under the view's
	// policy.
	rc, err := json.MarshalIndent(vault.Bundle{Envelope: stored.Envelope, Log: &ledger.Proof{
		Origin: cp.Origin, Index: e.index, Checkpoint: string(cpText), Inclusion: proof.Hashes}, Timestamps: stored.Timestamps}, "", "  ")
	if err != nil {
		return bundle.Document{}, err
	}
	file := p.Document.File
	if ver, _ := vault.VerifyOffline(ctx, rc, view.Trust, file.SHA256, file.Size); !ver.Valid {
		return bundle.Document{}, &VerifyError{Item: p.Document.Path + " receipt", Checks: ver.Checks}
	}
	path := p.Document.Path
	pr, pw := io.Pipe()
	go func() {
		_, _, err := c.fetch(ctx, dl.Download, pw, progress)
		pw.CloseWithError(err)
	}()
	sum, n, err := w.Add(bundle.FileName(path), pr)
	if err != nil {
		return bundle.Document{}, err
	}
	if sum != file.SHA256 || n != file.Size {
		return bundle.Document{}, &VerifyError{Item: path, Checks: []vault.Check{{Name: vault.CheckFile,
			Detail: fmt.Sprintf("storage sent %d bytes with SHA-256 %s; the receipt names %d and %s", n, sum, file.Size, file.SHA256)}}}
	}
	if _, _, err := w.Add(bundle.ReceiptName(path), bytes.NewReader(rc)); err != nil {
		return bundle.Document{}, err
	}
	return bundle.Document{Path: path, Version: p.Version, ReceiptID: p.ReceiptID, LogIndex: e.index,
		SHA256: file.SHA256, Size: file.Size, File: bundle.FileName(path), Receipt: bundle.ReceiptName(path)}, nil
}

func sameLeaf(leaf, envelope []byte) bool {
	other, err := leafOf(envelope)
	return err == nil && bytes.Equal(leaf, other)
}

// exportChoice picks the versions an export holds: each document's latest,
// or exactly a submission's, which must be among the log's events.
func exportChoice(entries, latest []logged, st *vault.DossierState, opts ExportOptions) ([]logged, error) {
	if opts.Submission == "" {
		return latest, nil
	}
	i := slices.IndexFunc(st.Submissions, func(s vault.SubmissionRecord) bool { return s.ID == opts.Submission })
	if i < 0 {
		return nil, fmt.Errorf("client: export: the log holds no submission %s of this dossier at this checkpoint", opts.Submission)
	}
	return pick(entries, st.Submissions[i].Documents, "submission "+opts.Submission)
}

// pick returns the log's receipts of files, which what names.
func pick(entries []logged, files []vault.SubmittedFile, what string) ([]logged, error) {
	var out []logged
	for _, f := range files {
		j := slices.IndexFunc(entries, func(e logged) bool { return e.receipt.Predicate.ReceiptID == f.ReceiptID })
		if j < 0 || entries[j].receipt.Subject.Digest["sha256"] != f.SHA256 || entries[j].receipt.Predicate.Version != f.Version {
			return nil, fmt.Errorf("client: export: %s names %s version %d (%s), which the log does not hold", what, f.Path, f.Version, f.ReceiptID)
		}
		out = append(out, entries[j])
	}
	return out, nil
}

// snapshotOf finds the export event id among the log's events.
func snapshotOf(events []loggedEvent, id string) (*vault.Snapshot, error) {
	for _, e := range events {
		if e.event.ID == id && e.event.Event == vault.EventExported && e.event.Export != nil {
			return e.event.Export, nil
		}
	}
	return nil, fmt.Errorf("client: export: the log holds no export event %s of this dossier at this checkpoint", id)
}

// exportEvents writes the dossier's lifecycle events with their inclusion
// proofs at cp.
func (c *Client) exportEvents(ctx context.Context, w *bundle.Writer, events []loggedEvent, cp ledger.Checkpoint) error {
	out := []bundle.Event{}
	for _, e := range events {
		proof, err := c.InclusionProof(ctx, e.event.LogIndex, cp.Size)
		if err != nil {
			return err
		}
		leaf, err := leafOf(e.envelope)
		if err == nil {
			err = ledger.VerifyInclusion(cp, e.event.LogIndex, leaf, proof.Hashes)
		}
		if err != nil {
			return &VerifyError{Item: bundle.LifecycleFile, Checks: []vault.Check{{Name: vault.CheckLog,
				Detail: fmt.Sprintf("lifecycle event %s at entry %d: %v", e.event.ID, e.event.LogIndex, err)}}}
		}
		out = append(out, bundle.Event{Index: e.event.LogIndex, Envelope: e.envelope, Inclusion: proof.Hashes})
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, _, err = w.Add(bundle.LifecycleFile, bytes.NewReader(data))
	return err
}
