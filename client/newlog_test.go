package client

import (
	"errors"
	"maps"
	"slices"
	"testing"
)

type pinMap map[string]Pin

func (m pinMap) Pin(origin string) (*Pin, error) {
	if p, ok := m[origin]; ok {
		return &p, nil
	}
	return nil, nil
}
func (m pinMap) Keep(p Pin) error    { m[p.Origin] = p; return nil }
func (m pinMap) All() ([]Pin, error) { return slices.Collect(maps.Values(m)), nil }
func (m pinMap) Where() string       { return "known_vaults.json" }

// TestNewLogAgainstPins: the log the vault answers with is taken only if
// it is named as a vault's log, for the tenant acted in (named, or the own
// tenant of earlier answers), in the bucket of the logs already pinned for
// this vault.
func TestNewLogAgainstPins(t *testing.T) {
	const api = "https://vault.example"
	pinned := pinMap{"evidencevault.dev/ledger/evidence/acme": {Origin: "evidencevault.dev/ledger/evidence/acme", API: api, Home: true},
		"evidencevault.dev/ledger/other-bucket/x": {Origin: "evidencevault.dev/ledger/other-bucket/x", API: "https://another.example"}}
	tests := []struct {
		name, origin, tenant string
		ok                   bool
	}{
		{"the own tenant's log, pinned", "evidencevault.dev/ledger/evidence/acme", "", true},
		{"another tenant's log for the own tenant", "evidencevault.dev/ledger/evidence/beta", "", false},
		{"the tenant acted in", "evidencevault.dev/ledger/evidence/beta", "beta", true},
		{"another tenant than the one acted in", "evidencevault.dev/ledger/evidence/beta", "acme", false},
		{"a pinned log of another tenant than the one acted in", "evidencevault.dev/ledger/evidence/acme", "beta", false},
		{"another bucket", "evidencevault.dev/ledger/evidence-2/acme", "", false},
		{"a look-alike tenant", "evidencevault.dev/ledger/evidence/acm\u0435", "", false},
		{"no vault log's name", "example.com/log", "", false},
		{"a path in the tenant", "evidencevault.dev/ledger/evidence/acme/x", "", false},
	}
	for _, tt := range tests {
		c, err := New(api, "t", nil, Options{Tenant: tt.tenant})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.logOfTenant(tt.origin, pinned)
		var te *TrustError
		if (err == nil) != tt.ok || err != nil && !errors.As(err, &te) {
			t.Errorf("%s: got %v, want accepted: %v", tt.name, err, tt.ok)
		}
	}
}
