package vault

import (
	"context"
	"fmt"
	"time"
)

// Obsolete and withdrawn documents (ISO 13485 4.2.4) stay in the vault,
// bytes and receipts unchanged; a signed log event marks the document's
// latest version so, with its reason. A later version makes the document
// current again; so does a mark of status current.

// StatusInput is the body of POST /v1/dossiers/{dossier}/status.
type StatusInput struct {
	Path   string `json:"path" validate:"required,doc_path"`
	Status string `json:"status" validate:"required,oneof=obsolete withdrawn current"`
	Reason string `json:"reason" validate:"required,max=1000,text"`
}

// DocumentStatus is what a status event marks: one version of a document.
type DocumentStatus struct {
	Path    string `json:"path"`
	Version int    `json:"version"`
	Status  string `json:"status"`
}

// StatusMark is the latest status event of a document.
type StatusMark struct {
	DocumentStatus
	Reason   string    `json:"reason"`
	By       Principal `json:"by"`
	At       time.Time `json:"at"`
	LogIndex int64     `json:"logIndex"`
}

// SetStatus marks a document's latest version obsolete, withdrawn or
// current again. Members of the tenant may.
func (s *Service) SetStatus(ctx context.Context, dossier string, in StatusInput) (Version, error) {
	id, d, err := s.memberOf(ctx, dossier, "mark documents obsolete")
	if err != nil {
		return Version{}, err
	}
	fields := check(in)
	// The latest version the log holds: a status event never names an
	// entry planted on the chain.
	var v Version
	if !hasPointer(fields, "/path") {
		v, _, err = s.latestSigned(ctx, id.Tenant, d.ID, in.Path)
		switch {
		case ErrorCode(err) == CodeNotFound:
			fields = append(fields, FieldError{Pointer: "/path", Detail: fmt.Sprintf("no document %q in dossier %s", in.Path, d.ID)})
		case err != nil:
			return Version{}, err
		}
	}
	if len(fields) > 0 {
		return Version{}, invalid(fields)
	}
	if _, _, err := s.appendLifecycle(ctx, LifecycleEvent{Event: EventStatus, Tenant: id.Tenant, Dossier: d.ID, By: principal(id),
		Reason: in.Reason, Status: &DocumentStatus{Path: in.Path, Version: v.Version, Status: in.Status}}); err != nil {
		return Version{}, err
	}
	vs := []Version{v}
	if err := s.withState(ctx, id.Tenant, d.ID, vs, func(Version) int { return v.Version }); err != nil {
		return Version{}, err
	}
	return vs[0], nil
}
