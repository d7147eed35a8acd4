package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A legal hold keeps a dossier's or one document's versions beyond any
// retention period, for as long as a competent authority's investigation
// or a field safety corrective action needs them: S3 Object Lock's legal
// hold, which has no date and which only a release lifts. The hold and its
// release are signed log events with their reason (docs/lifecycle.md).

// HoldInput is the body of POST /v1/dossiers/{dossier}/holds.
type HoldInput struct {
	// Path, when set, holds one document; else the whole dossier.
	Path   string `json:"path,omitempty" validate:"omitempty,doc_path"`
	Reason string `json:"reason" validate:"required,max=1000,text"`
}

// ReleaseInput is the body of POST /v1/dossiers/{dossier}/holds/{hold}/release.
type ReleaseInput struct {
	Reason string `json:"reason" validate:"required,max=1000,text"`
}

// HoldScope is what a hold event covers.
type HoldScope struct {
	HoldID string `json:"holdId,omitempty"`
	Path   string `json:"path,omitempty"`
}

// Hold is an active legal hold.
type Hold struct {
	ID       string    `json:"id"`
	Path     string    `json:"path,omitempty"`
	Reason   string    `json:"reason"`
	By       Principal `json:"by"`
	At       time.Time `json:"at"`
	LogIndex int64     `json:"logIndex"`
}

func (h Hold) covers(path string) bool { return h.Path == "" || h.Path == path }

// SetHold puts a legal hold on a dossier or one of its documents: logged
// first, then applied to every version of evidence and its records, and
// to each version sealed while it holds.
func (s *Service) SetHold(ctx context.Context, dossier string, in HoldInput) (Hold, error) {
	id, d, err := s.adminOf(ctx, dossier, "set a legal hold")
	if err != nil {
		return Hold{}, err
	}
	fields := check(in)
	if in.Path != "" && !hasPointer(fields, "/path") {
		if c, err := s.listChain(ctx, id.Tenant, d.ID, in.Path); err != nil {
			return Hold{}, err
		} else if len(c.entries) == 0 {
			fields = append(fields, FieldError{Pointer: "/path", Detail: fmt.Sprintf("no document %q in dossier %s", in.Path, d.ID)})
		}
	}
	if len(fields) > 0 {
		return Hold{}, invalid(fields)
	}
	ev, _, err := s.appendLifecycle(ctx, LifecycleEvent{Event: EventHold, Tenant: id.Tenant, Dossier: d.ID, By: principal(id),
		Reason: in.Reason, Hold: &HoldScope{Path: in.Path}})
	if err != nil {
		return Hold{}, err
	}
	h := Hold{ID: ev.ID, Path: in.Path, Reason: in.Reason, By: ev.By, At: ev.At, LogIndex: ev.LogIndex}
	if err := s.applyHolds(ctx, d, in.Path, true); err != nil {
		return Hold{}, err
	}
	return h, nil
}

// ReleaseHold lifts one legal hold; what another hold still covers stays
// held. Releasing a hold released before lifts again what no hold covers:
// how a release whose lift was put off (below) is completed.
func (s *Service) ReleaseHold(ctx context.Context, dossier, holdID string, in ReleaseInput) (*DossierState, error) {
	id, d, err := s.adminOf(ctx, dossier, "release a legal hold")
	if err != nil {
		return nil, err
	}
	if fields := check(in); fields != nil {
		return nil, invalid(fields)
	}
	st, err := s.dossierState(ctx, id.Tenant, d.ID)
	if err != nil {
		return nil, err
	}
	set := slices.IndexFunc(st.Events, func(e LoggedEvent) bool { return e.Event == EventHold && e.Hold != nil && e.ID == holdID })
	if set < 0 {
		return nil, errorf(CodeNotFound, "no legal hold %s on dossier %s", holdID, d.ID)
	}
	h := Hold{ID: holdID, Path: st.Events[set].Hold.Path}
	released := func(events []LoggedEvent) bool {
		return slices.ContainsFunc(events, func(e LoggedEvent) bool { return e.Event == EventRelease && e.Hold != nil && e.Hold.HoldID == holdID })
	}
	if !released(st.Events) {
		// Checked again under the dossier's append lock: releases at once
		// log one release.
		_, _, err := s.appendLifecycleIf(ctx, LifecycleEvent{Event: EventRelease, Tenant: id.Tenant, Dossier: d.ID, By: principal(id),
			Reason: in.Reason, Hold: &HoldScope{HoldID: h.ID, Path: h.Path}}, func(prior []LoggedEvent) error {
			if released(prior) {
				return errReleased
			}
			return nil
		})
		if err != nil && !errors.Is(err, errReleased) {
			return nil, err
		}
	}
	if st, err = s.dossierState(ctx, id.Tenant, d.ID); err != nil {
		return nil, err
	}
	// Another hold may be in a record storage would not serve just now:
	// lifting from this state could lift it from what it still covers.
	if len(st.unread) > 0 {
		return nil, &Error{Code: CodeUnavailable, Message: fmt.Sprintf(
			"hold %s is released, but its legal holds stay in storage: lifecycle record %s could not be read, and may be a hold that still stands. "+
				"Release it again to lift them once the record can be read; the audit names a record that never can", h.ID, st.unread[0])}
	}
	// Release what no remaining hold covers.
	for _, other := range st.LegalHolds {
		if other.Path == "" {
			return st, nil
		}
	}
	if h.Path != "" {
		for _, other := range st.LegalHolds {
			if other.Path == h.Path {
				return st, nil
			}
		}
		err = s.applyHolds(ctx, d, h.Path, false)
	} else {
		held := map[string]bool{}
		for _, other := range st.LegalHolds {
			held[other.Path] = true
		}
		err = s.applyHoldsExcept(ctx, d, held)
	}
	if err != nil {
		return st, err
	}
	return s.holdAgain(ctx, d, st)
}

// holdAgain reads the holds after a lift and sets again those logged
// meanwhile: a hold set while the lift ran may have been lifted with it.
// (One logged after this read applies itself after the lift.)
func (s *Service) holdAgain(ctx context.Context, d Dossier, before *DossierState) (*DossierState, error) {
	st, err := s.dossierState(ctx, d.Tenant, d.ID)
	if err != nil {
		return before, err
	}
	for _, h := range st.LegalHolds {
		if slices.ContainsFunc(before.LegalHolds, func(o Hold) bool { return o.ID == h.ID }) {
			continue
		}
		if err := s.applyHolds(ctx, d, h.Path, true); err != nil {
			return st, err
		}
	}
	return st, nil
}

// errReleased: the hold was released by a request at the same time.
var errReleased = errors.New("vault: hold released already")

// applyHolds sets or lifts the legal hold on every version of a document
// (every document when path is ""): the evidence, its chain entries and
// receipts.
func (s *Service) applyHolds(ctx context.Context, d Dossier, path string, on bool) error {
	return s.eachHeld(ctx, d, path, func(p string) bool { return true }, func(v Version) error { return s.holdVersion(ctx, d.Tenant, v, on) })
}

// applyHoldsExcept lifts the hold from every document whose path held
// does not name.
func (s *Service) applyHoldsExcept(ctx context.Context, d Dossier, held map[string]bool) error {
	return s.eachHeld(ctx, d, "", func(p string) bool { return !held[p] }, func(v Version) error { return s.holdVersion(ctx, d.Tenant, v, false) })
}

// eachHeld runs do on every sealed version of a document (every document
// when path is "") whose path pick takes.
func (s *Service) eachHeld(ctx context.Context, d Dossier, path string, pick func(string) bool, do func(Version) error) error {
	prefix := versionsPrefix(d.Tenant, d.ID)
	if path != "" {
		prefix = chainPrefix(d.Tenant, d.ID, path)
	}
	objs, err := s.records.List(ctx, prefix)
	if err != nil {
		return fmt.Errorf("vault: legal hold: %w", err)
	}
	for _, o := range objs {
		p, ok := chainPath(versionsPrefix(d.Tenant, d.ID), o.Key)
		if !ok || !pick(p) {
			continue
		}
		n, ok := entryNumber(chainPrefix(d.Tenant, d.ID, p), o.Key)
		if !ok {
			continue
		}
		v, err := s.readEntry(ctx, o, p, n)
		if err != nil {
			continue // not the vault's entry: the audit names it
		}
		// What is held or lifted is what the signed receipt names: an
		// entry copied from another dossier's chain names that dossier's
		// evidence, and lifting this dossier's hold must not lift the
		// other's.
		if v, _, err = s.signedVersion(ctx, d.Tenant, v); err != nil || v.Dossier != d.ID {
			continue
		}
		if err := do(v); err != nil {
			return err
		}
	}
	return nil
}

// holdVersion sets or lifts the legal hold on one sealed version's
// evidence and its records.
func (s *Service) holdVersion(ctx context.Context, tenant string, v Version, on bool) error {
	targets := [][2]string{{v.Key, v.VersionID}}
	for _, key := range []string{versionKey(chainPrefix(tenant, v.Dossier, v.Document.Path), v.Version), receiptKey(tenant, v.ReceiptID)} {
		objs, err := s.records.List(ctx, key)
		if err != nil {
			return fmt.Errorf("vault: legal hold: %w", err)
		}
		for _, o := range objs {
			if o.Key != key {
				continue
			}
			for _, ov := range o.Versions {
				if !ov.DeleteMarker {
					targets = append(targets, [2]string{key, ov.ID})
				}
			}
		}
	}
	for _, t := range targets {
		if err := s.objects.Hold(ctx, t[0], t[1], on); err != nil {
			return fmt.Errorf("vault: legal hold on %s: %w", strings.TrimPrefix(t[0], EvidencePrefix), err)
		}
	}
	return nil
}

// holdIfHeld puts a newly sealed version, its chain entry and receipt
// under legal hold when a hold of its dossier covers it.
func (s *Service) holdIfHeld(ctx context.Context, tenant string, v Version) error {
	st, err := s.dossierState(ctx, tenant, v.Dossier)
	if err != nil {
		return err
	}
	for _, h := range st.LegalHolds {
		if h.covers(v.Document.Path) {
			return s.holdVersion(ctx, tenant, v, true)
		}
	}
	return nil
}
