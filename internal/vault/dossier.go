package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/evidencevault/vault/internal/regulation"
	"golang.org/x/sync/errgroup"
)

// DossierInput is the body of POST /v1/dossiers: the identity of one device.
type DossierInput struct {
	Name         string                `json:"name" validate:"required,max=200,text"`
	BasicUDIDI   string                `json:"basicUdiDi" validate:"required,basic_udi_di"`
	Regulation   regulation.Regulation `json:"regulation" validate:"required,oneof=MDR IVDR"`
	RiskClass    string                `json:"riskClass" validate:"required"`
	Implantable  *bool                 `json:"implantable" validate:"required"`
	HighRiskAI   *bool                 `json:"highRiskAi" validate:"required"`
	NotifiedBody string                `json:"notifiedBody,omitempty" validate:"omitempty,notified_body"`
}

// Dossier is one device's technical documentation inside one tenant.
type Dossier struct {
	ID             string                `json:"id"`
	Tenant         string                `json:"tenant"`
	Name           string                `json:"name"`
	BasicUDIDI     string                `json:"basicUdiDi"`
	Regulation     regulation.Regulation `json:"regulation"`
	RiskClass      string                `json:"riskClass"`
	Implantable    bool                  `json:"implantable"`
	HighRiskAI     bool                  `json:"highRiskAi"`
	NotifiedBody   string                `json:"notifiedBody,omitempty"`
	RetentionYears int                   `json:"retentionYears"`
	CreatedAt      time.Time             `json:"createdAt"`
	CreatedBy      string                `json:"createdBy"`
	// longest is the longest term any version of the record in storage
	// says, when storage holds several (dossierOf).
	longest int
}

// retentionYears is how long the dossier's versions are kept: its record's
// term, never less than the regulation's for its kind of device, never
// more than the longest the vault writes. The record is unsigned: one
// planted in the bucket can neither shorten retention below the law's
// minimum nor lock the tenant's evidence, in compliance mode, for
// centuries. Where storage holds several versions of it, the longest term
// of any holds, since extensions only lengthen locks and storage's order
// of versions does not say which is the vault's (an implantable that
// every version claims is not is left: see docs/ledger.md).
func (d Dossier) retentionYears() int {
	return min(max(d.RetentionYears, regulation.RetentionYearsFor(d.Implantable), d.longest), regulation.RetentionYearsImplantable)
}

// CreateDossier creates a dossier for one device in the caller's tenant.
// A second dossier for the same Basic UDI-DI is a CodeConflict.
func (s *Service) CreateDossier(ctx context.Context, in DossierInput) (Dossier, error) {
	id, err := caller(ctx)
	if err != nil {
		return Dossier{}, err
	}
	if !id.CanWrite() {
		return Dossier{}, errorf(CodeForbidden, "role %s may not create dossiers", id.Role)
	}
	if fields := check(in); fields != nil {
		return Dossier{}, invalid(fields)
	}
	now := s.now()
	d := Dossier{
		ID:             dossierID(id.Tenant, in.BasicUDIDI),
		Tenant:         id.Tenant,
		Name:           in.Name,
		BasicUDIDI:     in.BasicUDIDI,
		Regulation:     in.Regulation,
		RiskClass:      in.RiskClass,
		Implantable:    *in.Implantable,
		HighRiskAI:     *in.HighRiskAI,
		NotifiedBody:   in.NotifiedBody,
		RetentionYears: regulation.RetentionYearsFor(*in.Implantable),
		CreatedAt:      now,
		CreatedBy:      id.Subject,
	}
	lock := &Lock{Mode: s.cfg.LockMode, Until: now.AddDate(d.RetentionYears, 0, 0)}
	// A dossier hidden under a delete marker still exists: a conditional
	// create would write a second version of it, so look first.
	switch _, err = s.dossierRecord(ctx, d.Tenant, d.ID); {
	case err == nil:
		err = ErrExists
	case errors.Is(err, ErrNotFound):
		err = s.createJSON(ctx, dossierKey(d.Tenant, d.ID), d, lock)
	}
	if errors.Is(err, ErrExists) {
		return Dossier{}, &Error{Code: CodeConflict,
			Message: fmt.Sprintf("a dossier for Basic UDI-DI %s already exists: %s", in.BasicUDIDI, d.ID),
			Fields:  []FieldError{{Pointer: "/basicUdiDi", Detail: "already has dossier " + d.ID}}}
	}
	if err != nil {
		return Dossier{}, fmt.Errorf("vault: create dossier: %w", err)
	}
	s.indexTenant(ctx, d.Tenant, lock)
	s.log.InfoContext(ctx, "dossier created", "tenant", d.Tenant, "dossier", d.ID, "subject", id.Subject)
	return d, nil
}

// ListDossiers returns the dossiers of the caller's tenant it may read.
func (s *Service) ListDossiers(ctx context.Context) ([]Dossier, error) {
	ds, _, err := s.DossiersPage(ctx, Page{})
	return ds, err
}

// DossiersPage is one page of ListDossiers, ordered by id; After and next
// are dossier ids.
func (s *Service) DossiersPage(ctx context.Context, page Page) (dossiers []Dossier, next string, err error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, "", err
	}
	prefix := dossiersPrefix(id.Tenant)
	objs, err := s.records.List(ctx, prefix)
	if err != nil {
		return nil, "", fmt.Errorf("vault: list dossiers: %w", err)
	}
	dossierOf := func(o Object) string { return strings.TrimSuffix(strings.TrimPrefix(o.Key, prefix), ".json") }
	objs = slices.DeleteFunc(objs, func(o Object) bool {
		return !strings.HasSuffix(o.Key, ".json") || !id.CanRead(id.Tenant, dossierOf(o))
	})
	objs, next = cut(objs, dossierOf, page)
	kept := make([]*Dossier, len(objs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchConcurrency)
	for i, o := range objs {
		g.Go(func() error {
			r, err := s.dossierOf(gctx, id.Tenant, dossierOf(o), o)
			switch {
			case errors.Is(err, ErrNotFound):
			case ErrorCode(err) == CodeTampered:
				// Listed, but no version is a record of it: the
				// audit names it; the list goes on without it.
				s.log.WarnContext(gctx, "dossier record is not the vault's", "object", o.Key, "err", err)
			case err != nil:
				return err
			default:
				kept[i] = &r.Dossier
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, "", fmt.Errorf("vault: list dossiers: %w", err)
	}
	dossiers = []Dossier{}
	for _, d := range kept {
		if d != nil {
			dossiers = append(dossiers, *d)
		}
	}
	return dossiers, next, nil
}

// Dossier returns one dossier the caller may read; any other is
// CodeNotFound, whether or not it exists.
func (s *Service) Dossier(ctx context.Context, dossier string) (Dossier, error) {
	id, err := caller(ctx)
	if err != nil {
		return Dossier{}, err
	}
	return s.readableDossier(ctx, id, dossier)
}

func (s *Service) readableDossier(ctx context.Context, id Identity, dossier string) (Dossier, error) {
	if !dossierIDPattern.MatchString(dossier) || !id.CanRead(id.Tenant, dossier) {
		return Dossier{}, errDossierNotFound(dossier)
	}
	d, err := s.dossierRecord(ctx, id.Tenant, dossier)
	if errors.Is(err, ErrNotFound) {
		return Dossier{}, errDossierNotFound(dossier)
	}
	if err != nil {
		return Dossier{}, fmt.Errorf("vault: read dossier: %w", err)
	}
	return d, nil
}

// dossierRecord reads a dossier as the vault wrote it: the first version of
// its record, whatever was written over it since. Dossiers never change,
// so each is read once per process.
func (s *Service) dossierRecord(ctx context.Context, tenant, id string) (Dossier, error) {
	r, err := s.dossierVersions(ctx, tenant, id)
	return r.Dossier, err
}

// keptDossier is a dossier record as read, and whether storage holds other
// versions of it with other content.
type keptDossier struct {
	Dossier
	writtenOver bool
}

// dossierVersions reads a dossier record and every other version of it.
// The vault writes a record once, so another version is someone else's;
// and where storage lets its operator date a write (MinIO), the order of
// versions does not say which is the vault's. The first is served for
// reading, but no evidence is sealed into a dossier whose record has
// versions that disagree: its retention is the record's to say.
func (s *Service) dossierVersions(ctx context.Context, tenant, id string) (keptDossier, error) {
	key := dossierKey(tenant, id)
	if d, ok := s.dossiers.Load(key); ok {
		return d.(keptDossier), nil
	}
	objs, err := s.records.List(ctx, key)
	if err != nil {
		return keptDossier{}, err
	}
	for _, o := range objs {
		if o.Key == key {
			return s.dossierOf(ctx, tenant, id, o)
		}
	}
	return keptDossier{}, ErrNotFound
}

// dossierOf reads the dossier record o: the first of its versions, in
// storage's order, that is a record of this dossier; whether others say
// something else.
func (s *Service) dossierOf(ctx context.Context, tenant, id string, o Object) (keptDossier, error) {
	if d, ok := s.dossiers.Load(o.Key); ok {
		return d.(keptDossier), nil
	}
	var bodies [][]byte
	unreadable := false
	for _, v := range o.Versions {
		if v.DeleteMarker {
			continue
		}
		data, err := s.records.GetVersion(ctx, o.Key, v.ID)
		if errors.Is(err, ErrStorage) && !errors.Is(err, ErrStorageUnavailable) {
			// A version storage will not serve (one written in an archive
			// class, say) is not the vault's, which wrote its own in the
			// standard class; it disagrees with the record, as another
			// version would.
			unreadable = true
			continue
		}
		if err != nil {
			return keptDossier{}, err
		}
		bodies = append(bodies, data)
	}
	if len(bodies) == 0 {
		if unreadable {
			return keptDossier{}, &Error{Code: CodeTampered, Message: fmt.Sprintf("dossier record %s holds no version storage serves", o.Key)}
		}
		return keptDossier{}, ErrNotFound
	}
	// The first version that is a record of this dossier is served; the
	// longest term of any of them is kept.
	first, longest := -1, 0
	var served Dossier
	for i, b := range bodies {
		var d Dossier
		if json.Unmarshal(b, &d) != nil || d.ID != id || d.Tenant != tenant {
			continue
		}
		if first < 0 {
			first, served = i, d
		}
		longest = max(longest, d.retentionYears())
	}
	if first >= 0 {
		served.longest = longest
		r := keptDossier{Dossier: served, writtenOver: unreadable || slices.ContainsFunc(bodies, func(x []byte) bool { return !bytes.Equal(x, bodies[first]) })}
		s.dossiers.Store(o.Key, r)
		return r, nil
	}
	return keptDossier{}, &Error{Code: CodeTampered, Message: fmt.Sprintf("dossier record %s holds no record of dossier %s of tenant %s", o.Key, id, tenant)}
}

func errDossierNotFound(dossier string) *Error {
	return errorf(CodeNotFound, "no dossier %q", dossier)
}
