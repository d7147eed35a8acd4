package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/evidencevault/vault/internal/receipt"
)

// A submission freezes the exact versions sent to a notified body on a
// date: the body's number and each document's path, version, SHA-256 and
// receipt, in one signed log event whose subjects are the documents, and
// timestamped like a receipt. An export of the submission holds exactly
// those versions; two submissions, or one and today's documents, can be
// compared (docs/lifecycle.md).

// SubmissionInput is the body of POST /v1/dossiers/{dossier}/submissions.
type SubmissionInput struct {
	NotifiedBody string `json:"notifiedBody" validate:"required,notified_body"`
	// Date is the day the documentation was sent.
	Date string `json:"date" validate:"required,calendar_date"`
	// Paths chooses the documents, each at its latest version; every
	// current document (none obsolete or withdrawn) when empty.
	Paths []string `json:"paths,omitempty" validate:"max=10000,unique,dive,doc_path"`
	Note  string   `json:"note,omitempty" validate:"max=1000,text"`
}

// Submission is what a submission event freezes.
type Submission struct {
	NotifiedBody string          `json:"notifiedBody"`
	Date         string          `json:"date"`
	Note         string          `json:"note,omitempty"`
	Documents    []SubmittedFile `json:"documents"`
}

// SubmittedFile is one version a submission holds.
type SubmittedFile struct {
	Path      string `json:"path"`
	Version   int    `json:"version"`
	SHA256    string `json:"sha256"`
	ReceiptID string `json:"receiptId"`
}

// SubmissionRecord is a submission as the vault shows it.
type SubmissionRecord struct {
	Submission
	ID       string    `json:"id"`
	By       Principal `json:"by"`
	At       time.Time `json:"at"`
	LogIndex int64     `json:"logIndex"`
	// Record is the signed event with its log proof and timestamp, for
	// verifiers (the same bundle form as a receipt's).
	Record *Bundle `json:"record,omitempty"`
	bundle Bundle
}

// Submit freezes the chosen documents' latest versions as a submission.
func (s *Service) Submit(ctx context.Context, dossier string, in SubmissionInput) (*SubmissionRecord, error) {
	id, d, err := s.memberOf(ctx, dossier, "record submissions")
	if err != nil {
		return nil, err
	}
	fields := check(in)
	if !hasPointer(fields, "/date") && in.Date > s.now().Format(time.DateOnly) {
		fields = append(fields, FieldError{Pointer: "/date", Detail: "must not be in the future: record a submission once it was sent"})
	}
	// The paths are looked up even when other fields are wrong, so that
	// one answer names every bad field.
	if slices.ContainsFunc(fields, func(f FieldError) bool { return strings.HasPrefix(f.Pointer, "/paths") }) {
		return nil, invalid(fields)
	}
	docs, err := s.sealedDocuments(ctx, id.Tenant, d.ID)
	if err != nil {
		return nil, err
	}
	var files []SubmittedFile
	if len(in.Paths) == 0 {
		for _, v := range docs {
			if v.State.Status == StatusCurrent {
				files = append(files, submitted(v))
			}
		}
		if len(files) == 0 {
			fields = append(fields, FieldError{Pointer: "/paths", Detail: "the dossier has no current documents to submit"})
		}
	} else {
		for i, p := range in.Paths {
			j := slices.IndexFunc(docs, func(v Version) bool { return v.Document.Path == p })
			if j < 0 {
				fields = append(fields, FieldError{Pointer: fmt.Sprintf("/paths/%d", i), Detail: fmt.Sprintf("no document %q in dossier %s", p, d.ID)})
				continue
			}
			files = append(files, submitted(docs[j]))
		}
	}
	if len(fields) > 0 {
		return nil, invalid(fields)
	}
	// Sent on a day the newest version already existed.
	for _, f := range files {
		v := docs[slices.IndexFunc(docs, func(v Version) bool { return v.Document.Path == f.Path })]
		if sealed := v.SealedAt.UTC().Format(time.DateOnly); in.Date < sealed {
			return nil, invalid([]FieldError{{Pointer: "/date", Detail: fmt.Sprintf("is before %s, when version %d of %s was sealed: a submission cannot hold a version sealed after it was sent", sealed, v.Version, v.Document.Path)}})
		}
	}
	subjects := make([]receipt.Subject, len(files))
	for i, f := range files {
		subjects[i] = receipt.Subject{Name: f.Path, Digest: map[string]string{"sha256": f.SHA256}}
	}
	sub := &Submission{NotifiedBody: in.NotifiedBody, Date: in.Date, Note: in.Note, Documents: files}
	ev, a, err := s.appendLifecycle(ctx, LifecycleEvent{Event: EventSubmitted, Tenant: id.Tenant, Dossier: d.ID, By: principal(id), Submission: sub}, subjects...)
	if big := (*recordTooLargeError)(nil); errors.As(err, &big) {
		return nil, invalid([]FieldError{{Pointer: "/paths", Detail: fmt.Sprintf(
			"%d documents make a signed record of %d bytes, above the %d bytes a record may be: submit fewer at once, by naming their paths", len(files), big.size, receipt.MaxEnvelopeSize)}})
	}
	if err != nil {
		return nil, err
	}
	rec := &SubmissionRecord{Submission: *sub, ID: ev.ID, By: ev.By, At: ev.At, LogIndex: ev.LogIndex,
		Record: &Bundle{Envelope: a.Record, Log: &a.Proof}}
	s.attachRecordStamps(ctx, id.Tenant, lifecycleEntryID(d.ID, ev.ID), rec.Record)
	return rec, nil
}

func submitted(v Version) SubmittedFile {
	return SubmittedFile{Path: v.Document.Path, Version: v.Version, SHA256: v.SHA256, ReceiptID: v.ReceiptID}
}

// Submissions lists a dossier's submissions, oldest first.
func (s *Service) Submissions(ctx context.Context, dossier string) ([]SubmissionRecord, error) {
	st, err := s.DossierState(ctx, dossier)
	if err != nil {
		return nil, err
	}
	return st.Submissions, nil
}

// SubmissionOf returns one submission with its signed record and
// timestamp.
func (s *Service) SubmissionOf(ctx context.Context, dossier, submission string) (*SubmissionRecord, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	subs, err := s.Submissions(ctx, dossier)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(subs, func(r SubmissionRecord) bool { return r.ID == submission })
	if i < 0 {
		return nil, errorf(CodeNotFound, "no submission %s in dossier %s", submission, dossier)
	}
	rec := subs[i]
	rec.Record = &Bundle{Envelope: rec.bundle.Envelope, Log: rec.bundle.Log}
	s.attachRecordStamps(ctx, id.Tenant, lifecycleEntryID(dossier, rec.ID), rec.Record)
	return &rec, nil
}

// attachRecordStamps gives a signed record's bundle its timestamp (as
// attachStamps does a receipt), and its signature back if it was written
// over with the twin (stampsOf).
func (s *Service) attachRecordStamps(ctx context.Context, tenant, id string, b *Bundle) {
	if s.cfg.Timestamps == nil {
		return
	}
	env, _, err := receipt.Parse(b.Envelope)
	if err != nil {
		return
	}
	stamps, restored := s.stampsOf(ctx, tenant, id, env)
	if restored {
		data, err := receipt.Marshal(env)
		if err != nil {
			return
		}
		b.Envelope = data
	}
	b.Timestamps = stamps
}

// Changes is what changed between two sets of versions: a submission and
// a later one, or a submission and today's current documents.
type Changes struct {
	From      string          `json:"from"`
	To        string          `json:"to"`
	Added     []SubmittedFile `json:"added"`
	Removed   []SubmittedFile `json:"removed"`
	Changed   []Change        `json:"changed"`
	Unchanged int             `json:"unchanged"`
}

// Change is one document sent in two versions.
type Change struct {
	Path string        `json:"path"`
	From SubmittedFile `json:"from"`
	To   SubmittedFile `json:"to"`
}

// CurrentDocuments names the dossier's current documents in Changes.
const CurrentDocuments = "current"

// SubmissionChanges compares submission from with submission to, or with
// the dossier's current documents when to is CurrentDocuments.
func (s *Service) SubmissionChanges(ctx context.Context, dossier, from, to string) (*Changes, error) {
	subs, err := s.Submissions(ctx, dossier)
	if err != nil {
		return nil, err
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	files := func(name, id string) ([]SubmittedFile, error) {
		if id == CurrentDocuments && name == "/to" {
			docs, err := s.sealedDocuments(ctx, who.Tenant, dossier)
			if err != nil {
				return nil, err
			}
			var out []SubmittedFile
			for _, v := range docs {
				if v.State.Status == StatusCurrent {
					out = append(out, submitted(v))
				}
			}
			return out, nil
		}
		i := slices.IndexFunc(subs, func(r SubmissionRecord) bool { return r.ID == id })
		if i < 0 {
			return nil, invalid([]FieldError{{Pointer: name, Detail: fmt.Sprintf("no submission %s in dossier %s", id, dossier)}})
		}
		return subs[i].Documents, nil
	}
	a, err := files("/from", from)
	if err != nil {
		return nil, err
	}
	b, err := files("/to", to)
	if err != nil {
		return nil, err
	}
	c := &Changes{From: from, To: to, Added: []SubmittedFile{}, Removed: []SubmittedFile{}, Changed: []Change{}}
	for _, fa := range a {
		j := slices.IndexFunc(b, func(f SubmittedFile) bool { return f.Path == fa.Path })
		switch {
		case j < 0:
			c.Removed = append(c.Removed, fa)
		case b[j].ReceiptID != fa.ReceiptID:
			c.Changed = append(c.Changed, Change{Path: fa.Path, From: fa, To: b[j]})
		default:
			c.Unchanged++
		}
	}
	for _, fb := range b {
		if !slices.ContainsFunc(a, func(f SubmittedFile) bool { return f.Path == fb.Path }) {
			c.Added = append(c.Added, fb)
		}
	}
	return c, nil
}

// RecordExport logs a snapshot of the dossier's documents (each at its
// latest version, whatever its status) for a bundle about to be made:
// the bundle then proves it holds all of them. Anyone who may read the
// dossier may; the event records who exported it.
func (s *Service) RecordExport(ctx context.Context, dossier string) (*LoggedEvent, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	d, err := s.readableDossier(ctx, id, dossier)
	if err != nil {
		return nil, err
	}
	docs, err := s.sealedDocuments(ctx, id.Tenant, d.ID)
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Documents: []SubmittedFile{}}
	for _, v := range docs {
		snap.Documents = append(snap.Documents, submitted(v))
	}
	by := Principal{Tenant: id.Home, Subject: id.Subject, Role: id.Role}
	ev, _, err := s.appendLifecycle(ctx, LifecycleEvent{Event: EventExported, Tenant: id.Tenant, Dossier: d.ID, By: by, Export: snap, Unlinked: id.Role == RoleAuditor})
	if big := (*recordTooLargeError)(nil); errors.As(err, &big) {
		return nil, errorf(CodeInvalid, "the dossier's %d documents make an export snapshot of %d bytes, above the %d bytes a signed record may be: the vault cannot yet export it whole", len(docs), big.size, receipt.MaxEnvelopeSize)
	}
	if err != nil {
		return nil, err
	}
	return &ev, nil
}
