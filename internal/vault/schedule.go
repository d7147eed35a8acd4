package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The schedule (EventBridge on the stack, a timer in `make run`) runs the
// work no request waits for: extending locks ahead of the market
// (market.go) and timestamps the authority could not give at sealing
// (timestamps.go), in every tenant.

// tenantsPrefix indexes the tenants that have dossiers, one empty object
// each, so that the schedule finds them without listing the whole
// bucket. A planted tenant only costs the run a listing; one hidden under
// a delete marker is still listed; and each is locked as its first
// dossier's record is, and extended with the tenant's records, so that
// nobody can delete one to stop the extensions of its tenant.
const tenantsPrefix = "tenants/"

func tenantKey(tenant string) string { return tenantsPrefix + tenant }

func (s *Service) indexTenant(ctx context.Context, tenant string, lock *Lock) {
	if err := s.records.Create(ctx, tenantKey(tenant), nil, lock); err != nil && !errors.Is(err, ErrExists) {
		s.log.WarnContext(ctx, "tenant index", "tenant", tenant, "err", err)
	}
}

// Tenants lists the tenants that have dossiers.
func (s *Service) Tenants(ctx context.Context) ([]string, error) {
	objs, err := s.records.List(ctx, tenantsPrefix)
	if err != nil {
		return nil, fmt.Errorf("vault: list tenants: %w", err)
	}
	var out []string
	for _, o := range objs {
		if t := strings.TrimPrefix(o.Key, tenantsPrefix); validTenant(t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// ScheduleRun is what one scheduled run did.
type ScheduleRun struct {
	Extended []ExtensionRun `json:"extended"`
	// Held counts the versions of dossiers under legal hold that the run
	// found not held in storage and held (a hold whose setting stopped
	// part-way).
	Held    int `json:"held"`
	Stamped int `json:"stamped"`
	Pending int `json:"pending"`
}

// RunSchedule extends retention and reconciles legal holds in every
// tenant, then adds pending timestamps: what the law asks of the stored
// evidence comes first, so that a slow authority cannot use up the run.
// Once the authority fails, no later tenant asks it again in this run. It
// goes on past a tenant that fails, and returns the first failure with
// what it did.
func (s *Service) RunSchedule(ctx context.Context) (*ScheduleRun, error) {
	tenants, err := s.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	run := &ScheduleRun{Extended: []ExtensionRun{}}
	var first error
	failed := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for _, t := range tenants {
		ext, err := s.ExtendRetention(ctx, t)
		if ext != nil && len(ext.Dossiers) > 0 {
			run.Extended = append(run.Extended, *ext)
		}
		failed(err)
		held, err := s.reconcileHolds(ctx, t)
		run.Held += held
		failed(err)
	}
	down := false
	for _, t := range tenants {
		stamped, pending, tenantDown, err := s.stampPending(ctx, t, !down)
		run.Stamped, run.Pending = run.Stamped+stamped, run.Pending+pending
		down = down || tenantDown
		failed(err)
	}
	return run, first
}

// reconcileHolds puts under legal hold every version an active hold
// covers that storage does not hold: what a SetHold that stopped part-way,
// or a seal that failed after its commit, left.
func (s *Service) reconcileHolds(ctx context.Context, tenant string) (int, error) {
	objs, err := s.records.List(ctx, dossiersPrefix(tenant))
	if err != nil {
		return 0, fmt.Errorf("vault: reconcile holds: %w", err)
	}
	n := 0
	for _, o := range objs {
		id, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, dossiersPrefix(tenant)), ".json")
		if !ok || !dossierIDPattern.MatchString(id) {
			continue
		}
		st, err := s.dossierState(ctx, tenant, id)
		if err != nil || len(st.LegalHolds) == 0 {
			continue
		}
		d, err := s.dossierRecord(ctx, tenant, id)
		if err != nil {
			continue
		}
		err = s.eachHeld(ctx, d, "", func(p string) bool {
			return slices.ContainsFunc(st.LegalHolds, func(h Hold) bool { return h.covers(p) })
		}, func(v Version) error {
			info, err := s.objects.Stat(ctx, v.Key, v.VersionID)
			if err != nil || info.LegalHold {
				return nil
			}
			n++
			return s.holdVersion(ctx, tenant, v, true)
		})
		if err != nil {
			s.log.WarnContext(ctx, "reconcile holds", "dossier", id, "err", err)
		}
	}
	return n, nil
}
