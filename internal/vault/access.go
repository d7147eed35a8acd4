package vault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/strictjson"
	"golang.org/x/sync/errgroup"
)

// The access trail: every download the vault hands out is first written
// down, signed, under vault/{tenant}/access/{day}/, locked like the
// evidence; a download that cannot be recorded is not given. The tenant's
// admin reads the whole trail, everyone else their own (docs/grants.md).

const accessType = "application/vnd.evidencevault.access+json"

// MaxAccessDays bounds the days one request of the trail reads.
const MaxAccessDays = 92

// AccessEvent is one access to evidence.
type AccessEvent struct {
	ID     string    `json:"id"`
	Event  string    `json:"event"`
	At     time.Time `json:"at"`
	Tenant string    `json:"tenant"`
	Who    Principal `json:"who"`
	Email  string    `json:"email,omitempty"`
	// Grants are the grants that gave an auditor access.
	Grants    []string  `json:"grants,omitempty"`
	Dossier   string    `json:"dossier"`
	Path      string    `json:"path"`
	Version   int       `json:"version"`
	VersionID string    `json:"versionId"`
	ReceiptID string    `json:"receiptId"`
	SHA256    string    `json:"sha256"`
	ExpiresAt time.Time `json:"urlExpiresAt"`
}

func accessPrefix(tenant string) string { return "vault/" + tenant + "/access/" }

func accessKey(tenant string, at time.Time, id string) string {
	return fmt.Sprintf("%s%s/%020d-%s.json", accessPrefix(tenant), at.UTC().Format(time.DateOnly), at.UnixNano(), id)
}

// recordAccess writes an access event down, signed and locked.
func (s *Service) recordAccess(ctx context.Context, ev AccessEvent) error {
	var b [8]byte
	rand.Read(b[:])
	ev.ID = "acc_" + hex.EncodeToString(b[:])
	data, err := s.signedJSON(ctx, accessType, ev)
	if err != nil {
		return err
	}
	if err := s.records.Create(ctx, accessKey(ev.Tenant, ev.At, ev.ID), data, logLock(s.cfg)); err != nil {
		return fmt.Errorf("vault: record access: %w", err)
	}
	return nil
}

// AccessQuery selects part of the trail: the days from Since to Until
// (inclusive, UTC), one dossier if set, and a page.
type AccessQuery struct {
	Since, Until time.Time
	Dossier      string
	Page         Page
}

// AccessTrail returns the access events of the caller's tenant the query
// selects, oldest first: all of them for the tenant's admin, the caller's
// own for anyone else. next continues the page.
func (s *Service) AccessTrail(ctx context.Context, q AccessQuery) (events []AccessEvent, next string, err error) {
	id, err := trailCaller(ctx)
	if err != nil {
		return nil, "", err
	}
	if id.Tenant == "" {
		return nil, "", errNoTenant()
	}
	since, until := q.Since.UTC().Truncate(24*time.Hour), q.Until.UTC().Truncate(24*time.Hour)
	switch {
	case until.Before(since):
		return nil, "", invalid([]FieldError{{Pointer: "/since", Detail: "must not be after until"}})
	case until.Sub(since) >= MaxAccessDays*24*time.Hour: // both days count
		return nil, "", invalid([]FieldError{{Pointer: "/since", Detail: fmt.Sprintf("the trail is read at most %d days at a time", MaxAccessDays)}})
	}
	keys, err := s.accessKeys(ctx, id.Tenant)
	if err != nil {
		return nil, "", err
	}
	limit := q.Page.Limit
	if limit <= 0 {
		limit = DefaultPageLimit
	}
	for day := since; !day.After(until) && len(events) < limit; day = day.Add(24 * time.Hour) {
		prefix := accessPrefix(id.Tenant) + day.Format(time.DateOnly) + "/"
		objs, err := s.records.List(ctx, prefix)
		if err != nil {
			return nil, "", fmt.Errorf("vault: read access trail: %w", err)
		}
		objs = slices.DeleteFunc(objs, func(o Object) bool { return q.Page.After != "" && o.Key <= q.Page.After })
		got, err := s.accessEvents(ctx, keys, id.Tenant, objs)
		if err != nil {
			return nil, "", err
		}
		for i, ev := range got {
			if ev.ID == "" || id.Role != RoleAdmin && ev.Who.Subject != id.Subject || q.Dossier != "" && ev.Dossier != q.Dossier {
				continue
			}
			events = append(events, ev)
			if len(events) == limit {
				if i < len(got)-1 || !day.Equal(until) {
					next = accessKey(id.Tenant, ev.At, ev.ID)
				}
				break
			}
		}
	}
	return events, next, nil
}

// eventKey is a key that signs access events, and when it stopped: an
// event is not a log entry, so its time is all that ties it to its key. A
// retired key's holder could otherwise write events dated after it retired.
type eventKey struct {
	key     receipt.Key
	retired time.Time // zero while the key is current
}

// accessKeys are the tenant's log keys with the times they were retired
// (the At of the rotation away from each), from the key history.
func (s *Service) accessKeys(ctx context.Context, tenant string) ([]eventKey, error) {
	trust, err := s.trust(ctx, tenant)
	if err != nil {
		return nil, err
	}
	h, err := s.history(ctx, tenant)
	if err != nil {
		return nil, err
	}
	steps, err := h.verify(ctx, LogOrigin(s.cfg.Bucket, tenant), nil)
	if err != nil {
		return nil, err
	}
	retired := map[string]time.Time{}
	for _, st := range steps {
		if st.event.Event == KeyRotation && st.event.Previous != nil {
			retired[st.event.Previous.KeyID] = st.event.At
		}
	}
	var keys []eventKey
	for _, k := range trust.Keys {
		keys = append(keys, eventKey{key: k.Key, retired: retired[k.Key.ID]})
	}
	return keys, nil
}

// accessEvents reads the signed events of objs, in order: each signed by
// a key that was not retired when the event says it happened. What is not
// (someone else's) is left empty.
func (s *Service) accessEvents(ctx context.Context, keys []eventKey, tenant string, objs []Object) ([]AccessEvent, error) {
	out := make([]AccessEvent, len(objs))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchConcurrency)
	for i, o := range objs {
		g.Go(func() error {
			for _, v := range o.Versions {
				if v.DeleteMarker {
					continue
				}
				data, err := s.records.GetVersion(ctx, o.Key, v.ID)
				if err != nil {
					return fmt.Errorf("vault: read access trail: %w", err)
				}
				if ev, ok := openAccessEvent(ctx, data, keys, tenant, o.Key); ok {
					out[i] = ev
					return nil
				}
			}
			s.log.WarnContext(ctx, "access trail: an object the vault did not sign", "object", o.Key)
			return nil
		})
	}
	return out, g.Wait()
}

func openAccessEvent(ctx context.Context, data []byte, keys []eventKey, tenant, key string) (AccessEvent, bool) {
	for _, k := range keys {
		payload, err := receipt.OpenPayload(ctx, data, accessType, []receipt.Key{k.key})
		if err != nil {
			continue
		}
		var ev AccessEvent
		if strictjson.Unmarshal(payload, &ev) != nil || ev.Tenant != tenant || accessKey(tenant, ev.At, ev.ID) != key {
			return AccessEvent{}, false
		}
		if !k.retired.IsZero() && !ev.At.Before(k.retired) {
			return AccessEvent{}, false
		}
		return ev, true
	}
	return AccessEvent{}, false
}

// ParseDay reads a day of the trail's query (2006-01-02).
func ParseDay(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("want a day such as 2026-12-01")
	}
	return t, nil
}
