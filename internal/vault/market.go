package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Retention follows the market (MDR Art. 10(8), AI Act Art. 18): the
// documentation is kept 10 years (15 for implantables) after the last
// device is placed on the market. While the device is on the market that
// day lies in the future, so the vault keeps every lock ExtendAhead
// beyond today's minimum, extending ahead of time on a schedule; Object
// Lock can only be extended, never shortened (docs/lifecycle.md).

// ExtendAhead is how far beyond today's minimum an extension run locks a
// dossier on the market; a run extends once less than half of it is left.
const ExtendAhead = 365 * 24 * time.Hour

// retryExtensionAfter is how long after a run that storage refused in
// part the dossier is due again.
const retryExtensionAfter = 24 * time.Hour

// Market is a device's market status: placed on the market first and
// last. On the market while FirstPlaced is set and LastPlaced is not.
type Market struct {
	FirstPlaced string     `json:"firstPlacedOnMarket,omitempty"`
	LastPlaced  string     `json:"lastPlacedOnMarket,omitempty"`
	ChangedAt   *time.Time `json:"changedAt,omitempty"`
	ChangedBy   *Principal `json:"changedBy,omitempty"`
}

// OnMarket reports whether the device is still placed on the market.
func (m Market) OnMarket() bool { return m.FirstPlaced != "" && m.LastPlaced == "" }

// MarketInput is the body of PUT /v1/dossiers/{dossier}/market.
type MarketInput struct {
	// FirstPlaced is the day the first device was placed on the market.
	FirstPlaced string `json:"firstPlacedOnMarket" validate:"required,calendar_date"`
	// LastPlaced is the day the last one was; empty while it still is.
	LastPlaced string `json:"lastPlacedOnMarket,omitempty" validate:"omitempty,calendar_date"`
	Reason     string `json:"reason,omitempty" validate:"max=1000,text"`
}

// Extension is what one extension run did to a dossier: the date its
// locks reach, how many versions it extended, and how many storage
// refused (the audit and the logs name them).
type Extension struct {
	Until   time.Time `json:"until"`
	Objects int       `json:"objects"`
	Failed  int       `json:"failed,omitempty"`
}

// retentionFloor is the date every version and record of a dossier must
// be locked until at least, now: the market's rule and what earlier
// extensions set (marketFloor), and, while a legal hold stands,
// ExtendAhead from now. Zero before the device is placed on the market
// and without a hold.
func (st *DossierState) retentionFloor(now time.Time, years int) time.Time {
	floor := st.marketFloor(now, years)
	if len(st.LegalHolds) > 0 {
		// The evidence a hold covers is held in storage with no date; what
		// shows and proves it (the dossier's record and events, the
		// tenant's receipts and log) is locked, and must outlast the
		// investigation however long it runs: it is kept ExtendAhead
		// ahead while the hold stands, as on the market.
		floor = later(floor, now.Truncate(time.Second).Add(ExtendAhead))
	}
	return floor
}

// marketFloor is retentionFloor without the holds.
func (st *DossierState) marketFloor(now time.Time, years int) time.Time {
	floor := st.RetainUntil
	switch m := st.Market; {
	case m.OnMarket():
		floor = later(floor, now.Truncate(time.Second).Add(ExtendAhead).AddDate(years, 0, 0))
	case m.LastPlaced != "":
		last, _ := time.Parse(time.DateOnly, m.LastPlaced)
		// The whole of the last day counts, wherever on Earth it was
		// placed: the day ends last at UTC-12 (the Union's outermost
		// regions lie as far as UTC-4).
		floor = later(floor, last.AddDate(years, 0, 1).Add(12*time.Hour))
	}
	return floor
}

// extensionDue reports whether an extension run should extend the
// dossier's locks now, and to when.
func (st *DossierState) extensionDue(now time.Time, years int) (time.Time, bool) {
	floor := st.retentionFloor(now, years)
	// A run that storage refused in part is retried, a day later: a
	// version that always refuses must not log an event every hour.
	if e := st.LastExtension; e != nil && e.Extension.Failed > 0 && now.Sub(e.At) < retryExtensionAfter {
		return floor, false
	}
	// Ahead of time, and then by ExtendAhead, so that a run is not due
	// every hour.
	held := len(st.LegalHolds) > 0 && st.RetainUntil.Before(now.Add(ExtendAhead/2))
	if st.Market.OnMarket() {
		return floor, held || st.RetainUntil.Before(now.Add(ExtendAhead/2).AddDate(years, 0, 0))
	}
	return floor, held || st.marketFloor(now, years).After(st.RetainUntil)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// SetMarket records the device's market status as a signed log event and
// extends the dossier's locks at once if the status asks for it. Only a
// tenant's admin may.
func (s *Service) SetMarket(ctx context.Context, dossier string, in MarketInput) (*DossierState, error) {
	id, d, err := s.adminOf(ctx, dossier, "record the market status")
	if err != nil {
		return nil, err
	}
	fields := check(in)
	today := s.now().Format(time.DateOnly)
	firstOK, lastOK := !hasPointer(fields, "/firstPlacedOnMarket"), !hasPointer(fields, "/lastPlacedOnMarket")
	if firstOK && in.FirstPlaced > today {
		fields = append(fields, FieldError{Pointer: "/firstPlacedOnMarket", Detail: "must not be in the future: record the day it happened"})
	}
	switch {
	case !lastOK || in.LastPlaced == "":
	case in.LastPlaced > today:
		fields = append(fields, FieldError{Pointer: "/lastPlacedOnMarket", Detail: "must not be in the future: record the day it happened"})
	case firstOK && in.LastPlaced < in.FirstPlaced:
		fields = append(fields, FieldError{Pointer: "/lastPlacedOnMarket", Detail: "is before firstPlacedOnMarket"})
	}
	if len(fields) > 0 {
		return nil, invalid(fields)
	}
	if _, _, err := s.appendLifecycle(ctx, LifecycleEvent{Event: EventMarket, Tenant: id.Tenant, Dossier: d.ID, By: principal(id),
		Reason: in.Reason, Market: &Market{FirstPlaced: in.FirstPlaced, LastPlaced: in.LastPlaced}}); err != nil {
		return nil, err
	}
	// The status is logged: a failure to extend now is the schedule's to
	// repair, not a reason to answer that nothing happened.
	if _, err := s.extendDossier(ctx, id, d, time.Time{}, nil); err != nil {
		s.log.WarnContext(ctx, "market status: extension deferred to the schedule", "dossier", d.ID, "err", err)
	}
	return s.dossierState(ctx, id.Tenant, d.ID)
}

// hasPointer reports whether fields already names pointer: a field gets
// one problem, the first found.
func hasPointer(fields []FieldError, pointer string) bool {
	return slices.ContainsFunc(fields, func(f FieldError) bool { return f.Pointer == pointer })
}

// adminOf returns the caller and the dossier when the caller is an admin
// of its tenant; doing says what was refused.
func (s *Service) adminOf(ctx context.Context, dossier, doing string) (Identity, Dossier, error) {
	return s.actorOf(ctx, dossier, func(id Identity) error {
		if id.Role != RoleAdmin {
			return errorf(CodeForbidden, "role %s may not %s: a tenant's admin may", id.Role, doing)
		}
		return nil
	})
}

// memberOf returns the caller and the dossier when the caller is a member
// (uploader or admin) of its tenant.
func (s *Service) memberOf(ctx context.Context, dossier, doing string) (Identity, Dossier, error) {
	return s.actorOf(ctx, dossier, func(id Identity) error {
		if !id.CanWrite() {
			return errorf(CodeForbidden, "role %s may not %s", id.Role, doing)
		}
		return nil
	})
}

// actorOf returns the caller and a dossier it may read, when may lets it
// act on it.
func (s *Service) actorOf(ctx context.Context, dossier string, may func(Identity) error) (Identity, Dossier, error) {
	id, err := caller(ctx)
	if err != nil {
		return Identity{}, Dossier{}, err
	}
	d, err := s.readableDossier(ctx, id, dossier)
	if err == nil {
		err = may(id)
	}
	if err != nil {
		return Identity{}, Dossier{}, err
	}
	return id, d, nil
}

// ExtensionRun is what one run of ExtendRetention did in a tenant.
type ExtensionRun struct {
	Tenant   string        `json:"tenant"`
	Dossiers []LoggedEvent `json:"extended"`
}

// ExtendRetention runs the schedule's extension in tenant: every dossier
// whose locks the market status says must reach further is extended, and
// each extension is a signed log event. Runs are idempotent: a dossier
// extended recently is not due again. The tenant's log and records, which
// prove every dossier, are extended once, to the furthest date due.
func (s *Service) ExtendRetention(ctx context.Context, tenant string) (*ExtensionRun, error) {
	objs, err := s.records.List(ctx, dossiersPrefix(tenant))
	if err != nil {
		return nil, fmt.Errorf("vault: extend retention: %w", err)
	}
	run := &ExtensionRun{Tenant: tenant, Dossiers: []LoggedEvent{}}
	sys := Identity{Tenant: tenant, Home: tenant, Subject: "evidence-vault", Role: RoleAdmin}
	var due []dueDossier
	var furthest time.Time
	var first error
	for _, o := range objs {
		id, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, dossiersPrefix(tenant)), ".json")
		if !ok || !dossierIDPattern.MatchString(id) {
			continue
		}
		d, err := s.dossierRecord(ctx, tenant, id)
		if errors.Is(err, ErrNotFound) || ErrorCode(err) == CodeTampered {
			continue
		}
		if err != nil {
			// One record that cannot be read now (planted, or storage
			// failing) does not hold back the tenant's other dossiers.
			s.log.WarnContext(ctx, "extend retention: a dossier record was not read", "dossier", id, "err", err)
			if first == nil {
				first = fmt.Errorf("vault: extend retention: %w", err)
			}
			continue
		}
		if until, ok, err := s.dueUntil(ctx, d); err != nil {
			s.log.WarnContext(ctx, "extend retention", "dossier", d.ID, "err", err)
			continue
		} else if ok {
			due = append(due, dueDossier{d, until})
			furthest = later(furthest, until)
		}
	}
	if len(due) == 0 {
		return run, first
	}
	shared := s.extendPrefixes(ctx, tenantPrefixes(tenant), furthest)
	for _, d := range due {
		// One dossier that fails does not hold back the others.
		ev, err := s.extendDossier(ctx, sys, d.Dossier, d.until, shared)
		if err != nil {
			s.log.WarnContext(ctx, "extend retention", "dossier", d.ID, "err", err)
			if first == nil {
				first = err
			}
			continue
		}
		if ev != nil {
			run.Dossiers = append(run.Dossiers, *ev)
		}
	}
	return run, first
}

// tenantPrefixes hold what proves every dossier of a tenant and who
// read it: receipts, their timestamps, key events, grants, the access
// trail, the log and its cosigned checkpoints; and the tenant's entry in
// the index the schedule runs from.
func tenantPrefixes(tenant string) []string {
	return []string{receiptsPrefix(tenant), timestampsPrefix(tenant), keyEventsPrefix(tenant), grantsPrefix(tenant),
		accessPrefix(tenant), ledgerPrefix(tenant), witnessedPrefix(tenant), tenantKey(tenant)}
}

// dueUntil reports whether the dossier's locks are due an extension, and
// to when.
func (s *Service) dueUntil(ctx context.Context, d Dossier) (time.Time, bool, error) {
	st, err := s.dossierState(ctx, d.Tenant, d.ID)
	if err != nil {
		return time.Time{}, false, err
	}
	until, due := st.extensionDue(s.now(), d.retentionYears())
	return until, due && !until.IsZero(), nil
}

// extendConcurrency bounds the versions extended at once: the SDK keeps
// 10 idle connections to a host, and more at once would open new ones.
const extendConcurrency = 8

// extended counts what an extension did.
type extended struct {
	mu              sync.Mutex
	objects, failed int
}

func (n *extended) count(ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ok {
		n.objects++
	} else {
		n.failed++
	}
}

// dueDossier is a dossier an extension run found due, and to when.
type dueDossier struct {
	Dossier
	until time.Time
}

// extendDossier extends the locks of everything the dossier's evidence
// rests on to until (zero: to when its state says now), when its state
// says it is due, and logs the extension; shared is what the run did to
// the tenant's records already, to until at least (nil: do them too). It
// reads the state again just before logging, so that a run that
// overlapped another's does not log the same extension twice. The date
// logged is the one the locks were extended to, not one computed later.
func (s *Service) extendDossier(ctx context.Context, by Identity, d Dossier, until time.Time, shared *extended) (*LoggedEvent, error) {
	now, due, err := s.dueUntil(ctx, d)
	if err != nil || !due {
		return nil, err
	}
	if until.IsZero() {
		until = now
	}
	if shared == nil {
		shared = s.extendPrefixes(ctx, tenantPrefixes(d.Tenant), until)
	}
	own := s.extendPrefixes(ctx, []string{evidencePrefix(d.Tenant, d.ID), versionsPrefix(d.Tenant, d.ID), lifecyclePrefix(d.Tenant, d.ID), dossierKey(d.Tenant, d.ID)}, until)
	if _, still, err := s.dueUntil(ctx, d); err != nil || !still {
		return nil, err
	}
	ev, _, err := s.appendLifecycle(ctx, LifecycleEvent{Event: EventExtended, Tenant: d.Tenant, Dossier: d.ID, By: principal(by),
		Extension: &Extension{Until: until, Objects: own.objects + shared.objects, Failed: own.failed + shared.failed}})
	if err != nil {
		return nil, err
	}
	return &ev, nil
}

// extendPrefixes locks every locked version under prefixes (a name that
// does not end in "/" is one key, not the keys it begins) until until at
// least, keeping each one's mode: the vault never asks storage to turn a
// governance lock into a compliance one (that needs a bypass no role of
// the stack has). Delete markers hold nothing, and what was never locked
// (the log's head hint) is not a record. A version that storage refuses
// to extend (one written by someone else, say) is logged and counted, and
// the run goes on: one planted object must not stop the rest.
func (s *Service) extendPrefixes(ctx context.Context, prefixes []string, until time.Time) *extended {
	n := &extended{}
	// Each version is two round trips to storage, and a tenant's access
	// trail grows with every download: in parallel, so that one run of the
	// schedule reaches as many as it can (docs/lifecycle.md).
	var g errgroup.Group
	g.SetLimit(extendConcurrency)
	for _, prefix := range prefixes {
		objs, err := s.records.List(ctx, prefix)
		if err != nil {
			s.log.WarnContext(ctx, "extend retention: list", "prefix", prefix, "err", err)
			n.count(false)
			continue
		}
		for _, o := range objs {
			if !strings.HasSuffix(prefix, "/") && o.Key != prefix {
				continue
			}
			for _, v := range o.Versions {
				if v.DeleteMarker {
					continue
				}
				g.Go(func() error {
					info, err := s.objects.Stat(ctx, o.Key, v.ID)
					if err == nil && (info.LockMode == "" || !info.RetainUntil.Before(until)) {
						return nil
					}
					if err == nil {
						err = s.objects.Retain(ctx, o.Key, v.ID, Lock{Mode: info.LockMode, Until: until})
					}
					if err != nil {
						s.log.WarnContext(ctx, "extend retention: a version was not extended", "object", o.Key, "version", v.ID, "err", err)
					}
					n.count(err == nil)
					return nil
				})
			}
		}
	}
	g.Wait()
	return n
}
