package vault

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
)

// A dossier's regulatory life (docs/lifecycle.md) is a sequence of signed
// events in its tenant's log, kept as records beside it like grants: the
// device's market status and each retention extension, legal holds and
// their release, documents made obsolete or withdrawn, sign-offs of
// versions, the approval policy, and submissions to a notified body. What
// the vault shows of a dossier's state is folded from the events the log
// holds, never from what the bucket lists.

// LifecycleType names the predicate of a lifecycle event.
const LifecycleType = "https://evidencevault.dev/lifecycle/v1"

// Lifecycle events.
const (
	EventMarket    = "market"
	EventExtended  = "retention-extended"
	EventHold      = "legal-hold"
	EventRelease   = "legal-hold-released"
	EventStatus    = "document-status"
	EventSignoff   = "signoff"
	EventPolicy    = "approval-policy"
	EventSubmitted = "submission"
	EventExported  = "export"
)

const eventIDPrefix = "evt_"

var eventIDPattern = regexp.MustCompile(`^evt_[a-z2-7]{26}$`)

// LifecycleEvent is the predicate of one event: what happened to which
// dossier, by whom, when, and the part of it its kind fills in.
type LifecycleEvent struct {
	Event   string    `json:"event"`
	ID      string    `json:"id"`
	Tenant  string    `json:"tenant"`
	Dossier string    `json:"dossier"`
	By      Principal `json:"by"`
	At      time.Time `json:"at"`
	Reason  string    `json:"reason,omitempty"`
	// Previous is the dossier's event before this one, as the vault read
	// them: a list of events with one left out shows the gap.
	Previous *EventLink `json:"previous,omitempty"`
	// Unlinked: no later event names this one as Previous. An auditor's
	// export is, so that it can be hidden from the dossier's other
	// auditors (docs/grants.md) and what they see still has no gap.
	Unlinked bool `json:"unlinked,omitempty"`

	Market     *Market         `json:"market,omitempty"`
	Extension  *Extension      `json:"extension,omitempty"`
	Hold       *HoldScope      `json:"hold,omitempty"`
	Status     *DocumentStatus `json:"status,omitempty"`
	Signoff    *Signoff        `json:"signoff,omitempty"`
	Policy     *ApprovalPolicy `json:"policy,omitempty"`
	Submission *Submission     `json:"submission,omitempty"`
	Export     *Snapshot       `json:"export,omitempty"`
}

// Snapshot is what an export event freezes: every document's latest
// version when a bundle was made, so that the bundle can prove it holds
// the whole dossier (docs/lifecycle.md, export bundles).
type Snapshot struct {
	Documents []SubmittedFile `json:"documents"`
}

// EventLink names a lifecycle event and its place in the log.
type EventLink struct {
	ID       string `json:"id"`
	LogIndex int64  `json:"logIndex"`
}

// LoggedEvent is a lifecycle event with its place in the log.
type LoggedEvent struct {
	LogIndex int64 `json:"logIndex"`
	LifecycleEvent
	record Bundle // as kept, for verifiers
}

// lifecycleEntryID names an event's log entry; the dossier is in it so
// that its record lives under the dossier's prefix.
func lifecycleEntryID(dossier, event string) string { return "lifecycle-" + dossier + "-" + event }

func isLifecycleEvent(id string) bool { return strings.HasPrefix(id, "lifecycle-"+dossierIDPrefix) }

// lifecycleEntryParts splits a lifecycle entry id into dossier and event id.
func lifecycleEntryParts(id string) (dossier, event string, ok bool) {
	rest, ok := strings.CutPrefix(id, "lifecycle-")
	if !ok {
		return "", "", false
	}
	dossier, event, ok = strings.Cut(rest, "-")
	return dossier, event, ok && dossierIDPattern.MatchString(dossier) && eventIDPattern.MatchString(event)
}

func lifecyclePrefix(tenant, dossier string) string {
	return "vault/" + tenant + "/lifecycle/" + dossier + "/"
}

// lifecycleEntryOfKey recovers an event's entry id from its record's key.
func lifecycleEntryOfKey(tenant, key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, "vault/"+tenant+"/lifecycle/")
	if !ok {
		return "", false
	}
	dossier, file, ok := strings.Cut(rest, "/")
	event, json := strings.CutSuffix(file, ".json")
	if !ok || !json || !dossierIDPattern.MatchString(dossier) || !eventIDPattern.MatchString(event) {
		return "", false
	}
	return lifecycleEntryID(dossier, event), true
}

// hiddenFrom says whether an auditor may not see the event: another
// auditor's export names who else audits the dossier, as grants do. Only
// unlinked ones: an export an event names as its previous (logged before
// exports were unlinked) stays in sight, or that event would show a gap.
func (ev LifecycleEvent) hiddenFrom(id Identity) bool {
	return id.Role == RoleAuditor && ev.Unlinked && ev.Event == EventExported && (ev.By.Subject != id.Subject || ev.By.Tenant != id.Home)
}

// appendLifecycle signs ev, with subjects (the dossier when none), and
// appends it to the tenant's log.
func (s *Service) appendLifecycle(ctx context.Context, ev LifecycleEvent, subjects ...receipt.Subject) (LoggedEvent, *ledger.Appended, error) {
	return s.appendLifecycleIf(ctx, ev, nil, subjects...)
}

// appendLifecycleIf is appendLifecycle when admit, given the dossier's
// events so far, allows it: a check that must see the events the append
// follows (a duplicate sign-off), not those before a concurrent one.
func (s *Service) appendLifecycleIf(ctx context.Context, ev LifecycleEvent, admit func([]LoggedEvent) error, subjects ...receipt.Subject) (LoggedEvent, *ledger.Appended, error) {
	// One dossier's events are appended one at a time in a process, so
	// that each names the one before (instances that append at once may
	// still name the same one: docs/lifecycle.md).
	mu, _ := s.lifecycleMu.LoadOrStore(ev.Tenant+"/"+ev.Dossier, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	if err := s.publishKey(ctx); err != nil {
		return LoggedEvent{}, nil, err
	}
	if err := s.ensureKeys(ctx, ev.Tenant); err != nil {
		return LoggedEvent{}, nil, err
	}
	ev.ID, ev.At = randomID(eventIDPrefix), s.now()
	prior, _, err := s.lifecycleEvents(ctx, ev.Tenant, ev.Dossier)
	if err != nil {
		return LoggedEvent{}, nil, err
	}
	if admit != nil {
		if err := admit(prior); err != nil {
			return LoggedEvent{}, nil, err
		}
	}
	prior = slices.DeleteFunc(prior, func(e LoggedEvent) bool { return e.Unlinked })
	if n := len(prior); n > 0 {
		ev.Previous = &EventLink{ID: prior[n-1].ID, LogIndex: prior[n-1].LogIndex}
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return LoggedEvent{}, nil, fmt.Errorf("vault: lifecycle: %w", err)
	}
	if len(subjects) == 0 {
		sum := sha256.Sum256([]byte(ev.Dossier))
		subjects = []receipt.Subject{{Name: "dossier:" + ev.Dossier, Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])}}}
	}
	st := receipt.Statement{Subject: subjects, PredicateType: LifecycleType, Predicate: raw}
	from, err := s.ledger.Size(ctx, ev.Tenant)
	if err != nil {
		return LoggedEvent{}, nil, fmt.Errorf("vault: lifecycle: %w", ledgerError(err))
	}
	a, err := s.appendStatement(ctx, ev.Tenant, lifecycleEntryID(ev.Dossier, ev.ID), st, from, s.signer)
	if err != nil {
		return LoggedEvent{}, nil, fmt.Errorf("vault: log %s: %w", ev.Event, err)
	}
	s.log.InfoContext(ctx, "lifecycle event", "tenant", ev.Tenant, "dossier", ev.Dossier, "event", ev.Event, "id", ev.ID,
		"by", ev.By.Subject, "logIndex", a.Index)
	return LoggedEvent{LogIndex: a.Index, LifecycleEvent: ev, record: Bundle{Envelope: a.Record, Log: &a.Proof}}, a, nil
}

// lifecycleCache keeps the events each process verified, by record
// version: a version's bytes never change, so a record checked once stays
// checked, and each read lists the dossier's records to see new ones.
type lifecycleCache struct {
	mu       sync.Mutex
	verified map[string]LoggedEvent // key@version
}

func (c *lifecycleCache) get(k string) (LoggedEvent, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev, ok := c.verified[k]
	return ev, ok
}

func (c *lifecycleCache) put(k string, ev LoggedEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.verified == nil {
		c.verified = map[string]LoggedEvent{}
	}
	c.verified[k] = ev
}

// lifecycleEvents reads a dossier's events in log order. Each is the
// record of a log entry: signed by a key the log's history allows at its
// index, and the entry the log holds there. Records that are not are
// someone else's: passed over, and named by the audit. Records storage
// refuses to serve are passed over too, and named in unread: a decision
// that takes protection away (a hold's release) must not rest on a state
// they may be missing from. Storage that does not answer fails the read.
func (s *Service) lifecycleEvents(ctx context.Context, tenant, dossier string) (events []LoggedEvent, unread []string, err error) {
	objs, err := s.records.List(ctx, lifecyclePrefix(tenant, dossier))
	if err != nil {
		return nil, nil, fmt.Errorf("vault: read lifecycle: %w", err)
	}
	failed := func(err error) bool { return ctx.Err() != nil || errors.Is(err, ErrStorageUnavailable) }
	var log *loggedAt
	for _, o := range objs {
		id, ok := lifecycleEntryOfKey(tenant, o.Key)
		if !ok {
			continue
		}
		// A record is unread when no version of it gave an event and
		// storage refused one.
		refused, read := false, false
		for _, v := range slices.Backward(o.Versions) {
			if v.DeleteMarker {
				continue
			}
			ck := o.Key + "@" + v.ID
			if ev, ok := s.lifecycles.get(ck); ok {
				events = append(events, ev)
				read = true
				break
			}
			if log == nil {
				if log, err = s.logAt(ctx, tenant); err != nil {
					return nil, nil, err
				}
			}
			data, err := s.records.GetVersion(ctx, o.Key, v.ID)
			if err != nil {
				if failed(err) {
					return nil, nil, fmt.Errorf("vault: read lifecycle record %s: %w", o.Key, err)
				}
				// A version storage will not serve (one planted in an
				// archive class, under another key) is not one the vault
				// wrote readable: passed over, named by the audit.
				s.log.WarnContext(ctx, "lifecycle record unreadable", "object", o.Key, "version", v.ID, "err", err)
				refused = true
				continue
			}
			if len(data) > receipt.MaxEnvelopeSize*2 {
				s.log.WarnContext(ctx, "lifecycle record too large to be the vault's", "object", o.Key, "version", v.ID, "bytes", len(data))
				continue
			}
			ev, err := s.openLifecycleRecord(ctx, data, log, id)
			if err != nil {
				if failed(err) {
					return nil, nil, fmt.Errorf("vault: read lifecycle record %s: %w", o.Key, err)
				}
				refused = refused || errors.Is(err, ErrStorage)
				s.log.WarnContext(ctx, "lifecycle record is not the vault's", "object", o.Key, "version", v.ID, "err", err)
				continue
			}
			s.lifecycles.put(ck, ev)
			events = append(events, ev)
			read = true
			break
		}
		if refused && !read {
			unread = append(unread, o.Key)
		}
	}
	slices.SortFunc(events, func(a, b LoggedEvent) int { return cmp.Compare(a.LogIndex, b.LogIndex) })
	return events, unread, nil
}

// openLifecycleRecord checks a kept lifecycle event as openLogged does,
// and that it is the event its entry id names.
func (s *Service) openLifecycleRecord(ctx context.Context, data []byte, log *loggedAt, id string) (LoggedEvent, error) {
	index, st, b, err := s.openLogged(ctx, data, log, LifecycleType)
	if err != nil {
		return LoggedEvent{}, err
	}
	var ev LifecycleEvent
	if err := st.DecodePredicate(&ev); err != nil {
		return LoggedEvent{}, err
	}
	if lifecycleEntryID(ev.Dossier, ev.ID) != id || ev.Tenant != log.tenant {
		return LoggedEvent{}, fmt.Errorf("it holds %s of tenant %s", lifecycleEntryID(ev.Dossier, ev.ID), ev.Tenant)
	}
	return LoggedEvent{LogIndex: index, LifecycleEvent: ev, record: b}, nil
}
