package vault

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/evidencevault/vault/internal/receipt"
)

// DossierState is a dossier's regulatory state, folded from its lifecycle
// events in log order (lifecycle.go).
type DossierState struct {
	Dossier string `json:"dossier"`
	Market  Market `json:"market"`
	// RetainUntil is the date every version and record of the dossier is
	// locked until at least, as the last extension run left it; zero
	// before the first.
	RetainUntil   time.Time      `json:"retainUntil,omitzero"`
	LastExtension *LoggedEvent   `json:"lastExtension,omitempty"`
	LegalHolds    []Hold         `json:"legalHolds"`
	Policy        ApprovalPolicy `json:"approvalPolicy"`
	// Statuses are the documents marked obsolete, withdrawn or current
	// again, by path: the latest mark of each.
	Statuses    map[string]StatusMark `json:"documentStatuses"`
	Signoffs    []SignoffRecord       `json:"signoffs"`
	Submissions []SubmissionRecord    `json:"submissions"`
	Events      []LoggedEvent         `json:"events"`
	// unread are the records storage would not serve.
	unread []string
}

// fold applies events, in log order, to a fresh state.
func fold(dossier string, events []LoggedEvent) *DossierState {
	st := &DossierState{Dossier: dossier, LegalHolds: []Hold{}, Policy: DefaultApprovalPolicy,
		Statuses: map[string]StatusMark{}, Signoffs: []SignoffRecord{}, Submissions: []SubmissionRecord{}, Events: events}
	if st.Events == nil {
		st.Events = []LoggedEvent{}
	}
	for _, e := range events {
		switch {
		case e.Event == EventMarket && e.Market != nil:
			st.Market = *e.Market
			st.Market.ChangedAt, st.Market.ChangedBy = &e.At, &e.By
		case e.Event == EventExtended && e.Extension != nil:
			// A run that storage refused in part reached nothing for
			// sure: the dossier stays due, and the next run retries.
			if e.Extension.Failed == 0 && e.Extension.Until.After(st.RetainUntil) {
				st.RetainUntil = e.Extension.Until
			}
			st.LastExtension = &e
		case e.Event == EventHold && e.Hold != nil:
			st.LegalHolds = append(st.LegalHolds, Hold{ID: e.ID, Path: e.Hold.Path, Reason: e.Reason, By: e.By, At: e.At, LogIndex: e.LogIndex})
		case e.Event == EventRelease && e.Hold != nil:
			st.LegalHolds = slices.DeleteFunc(st.LegalHolds, func(h Hold) bool { return h.ID == e.Hold.HoldID })
		case e.Event == EventPolicy && e.Policy != nil:
			st.Policy = *e.Policy
		case e.Event == EventStatus && e.Status != nil:
			st.Statuses[e.Status.Path] = StatusMark{DocumentStatus: *e.Status, Reason: e.Reason, By: e.By, At: e.At, LogIndex: e.LogIndex}
		case e.Event == EventSignoff && e.Signoff != nil:
			st.Signoffs = append(st.Signoffs, SignoffRecord{Signoff: *e.Signoff, ID: e.ID, By: e.By, At: e.At, LogIndex: e.LogIndex})
		case e.Event == EventSubmitted && e.Submission != nil:
			st.Submissions = append(st.Submissions, SubmissionRecord{Submission: *e.Submission, ID: e.ID, By: e.By, At: e.At, LogIndex: e.LogIndex, bundle: e.record})
		}
	}
	return st
}

// dossierState reads and folds a dossier's lifecycle events.
func (s *Service) dossierState(ctx context.Context, tenant, dossier string) (*DossierState, error) {
	events, unread, err := s.lifecycleEvents(ctx, tenant, dossier)
	if err != nil {
		return nil, err
	}
	st := fold(dossier, events)
	st.unread = unread
	return st, nil
}

// DossierState answers GET /v1/dossiers/{dossier}/lifecycle.
func (s *Service) DossierState(ctx context.Context, dossier string) (*DossierState, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.readableDossier(ctx, id, dossier); err != nil {
		return nil, err
	}
	st, err := s.dossierState(ctx, id.Tenant, dossier)
	if err != nil {
		return nil, err
	}
	st.Events = slices.DeleteFunc(st.Events, func(e LoggedEvent) bool { return e.hiddenFrom(id) })
	return st, nil
}

// VersionState is what the dossier's events say of one sealed version,
// wherever the version is shown.
type VersionState struct {
	// Status is current, superseded (a later version exists), obsolete or
	// withdrawn (ISO 13485 4.2.4).
	Status       string          `json:"status"`
	StatusReason string          `json:"statusReason,omitempty"`
	LegalHolds   []Hold          `json:"legalHolds,omitempty"`
	Signoffs     []SignoffRecord `json:"signoffs"`
	// Approved says whether the sign-offs meet the dossier's approval
	// policy.
	Approved bool `json:"approved"`
	// RetainedUntil is the date the version is locked until at least: its
	// receipt's, or the later one an extension set.
	RetainedUntil time.Time `json:"retainedUntil"`
}

// Document statuses.
const (
	StatusCurrent    = "current"
	StatusSuperseded = "superseded"
	StatusObsolete   = "obsolete"
	StatusWithdrawn  = "withdrawn"
)

// of returns the state of version v, of a document whose latest version
// is latest.
func (st *DossierState) of(v Version, latest int) *VersionState {
	vs := &VersionState{Status: StatusCurrent, Signoffs: []SignoffRecord{}, RetainedUntil: v.Retention.RetainUntil}
	if v.Version < latest {
		vs.Status = StatusSuperseded
	} else if m, ok := st.Statuses[v.Document.Path]; ok && m.Version == v.Version && m.Status != StatusCurrent {
		vs.Status, vs.StatusReason = m.Status, m.Reason
	}
	for _, h := range st.LegalHolds {
		if h.covers(v.Document.Path) {
			vs.LegalHolds = append(vs.LegalHolds, h)
		}
	}
	for _, so := range st.Signoffs {
		if so.ReceiptID == v.ReceiptID && so.SHA256 == v.SHA256 {
			vs.Signoffs = append(vs.Signoffs, so)
		}
	}
	vs.Approved = st.Policy.approves(v, vs.Signoffs)
	if st.RetainUntil.After(vs.RetainedUntil) {
		vs.RetainedUntil = st.RetainUntil
	}
	return vs
}

// withState sets the State of each version from the dossier's events;
// latest gives each document's latest version number.
func (s *Service) withState(ctx context.Context, tenant, dossier string, vs []Version, latest func(Version) int) error {
	if len(vs) == 0 {
		return nil
	}
	st, err := s.dossierState(ctx, tenant, dossier)
	if err != nil {
		return err
	}
	for i := range vs {
		vs[i].State = st.of(vs[i], latest(vs[i]))
	}
	return nil
}

// OpenLifecycle checks a lifecycle event's envelope as a verifier holding
// only the log's keys would: a statement of a lifecycle event, signed by a
// key trust allows at index. That the log holds it at index is the
// caller's to check, against a checkpoint it trusts.
func OpenLifecycle(ctx context.Context, envelope []byte, index int64, trust Trust) (LoggedEvent, error) {
	env, st, err := receipt.Parse(envelope)
	if err != nil {
		return LoggedEvent{}, err
	}
	if st.PredicateType != LifecycleType {
		return LoggedEvent{}, fmt.Errorf("vault: predicate type %q, want %q", st.PredicateType, LifecycleType)
	}
	var ev LifecycleEvent
	if err := st.DecodePredicate(&ev); err != nil {
		return LoggedEvent{}, err
	}
	key, _, err := receipt.VerifySingle(ctx, env, trust.Public())
	if err != nil {
		return LoggedEvent{}, err
	}
	if !trust.Allows(key.ID, index) {
		return LoggedEvent{}, fmt.Errorf("vault: key %s may not have signed entry %d", key.ID, index)
	}
	return LoggedEvent{LogIndex: index, LifecycleEvent: ev}, nil
}

// Fold returns the state a dossier's lifecycle events, in log order, give:
// what a verifier recomputes from a bundle's events.
func Fold(dossier string, events []LoggedEvent) *DossierState { return fold(dossier, events) }

// StateOfReceipt is the state of the version a receipt seals, of a
// document whose latest version is latest.
func (st *DossierState) StateOfReceipt(p ReceiptPredicate, sha256 string, latest int) *VersionState {
	return st.of(Version{Version: p.Version, Dossier: p.Dossier.ID, Document: p.Document, ReceiptID: p.ReceiptID,
		SHA256: sha256, Uploader: p.Uploader, Retention: p.Retention}, latest)
}
