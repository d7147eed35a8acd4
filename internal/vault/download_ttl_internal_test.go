package vault

import (
	"testing"
	"time"
)

// An auditor's download URL never outlives the grants' until: with less
// than a second of access left (storage counts whole seconds), or none,
// there is no URL.
func TestDownloadTTLNeverPastUntil(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	s := &Service{cfg: Config{DownloadTTL: 5 * time.Minute, Now: func() time.Time { return now }}}
	for _, tt := range []struct {
		left, want time.Duration // want 0: refused
	}{
		{time.Hour, 5 * time.Minute},
		{90*time.Second + 500*time.Millisecond, 90 * time.Second},
		{time.Second, time.Second},
		{400 * time.Millisecond, 0},
		{0, 0},
		{-2 * time.Second, 0},
	} {
		id := Identity{Role: RoleAuditor, Tenant: "acme", Grants: []string{"g1"}, Dossiers: []string{"d1"},
			granted: map[string]Grant{"g1": {ID: "g1", Dossiers: []string{"d1"}, Until: now.Add(tt.left)}}}
		got, err := s.downloadTTL(id, "d1")
		if tt.want == 0 && err == nil || tt.want != 0 && (err != nil || got != tt.want) {
			t.Errorf("grant ends in %v: got %v (%v), want %v", tt.left, got, err, tt.want)
		}
	}
	if got, err := s.downloadTTL(Identity{Role: RoleUploader, Tenant: "acme"}, "d1"); err != nil || got != 5*time.Minute {
		t.Errorf("a member: got %v (%v), want 5m", got, err)
	}
}
