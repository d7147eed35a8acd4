package oidcauth

import (
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/vault"
)

func TestIdentityFromClaims(t *testing.T) {
	cognito := Claims{Tenant: "custom:tenant", Role: "cognito:groups", Email: "email"}.withDefaults()
	tests := []struct {
		name   string
		c      Claims
		claims map[string]any
		want   vault.Identity
		err    bool
	}{
		{"uploader", Claims{}, map[string]any{"tenant": "demo", "role": "uploader"},
			vault.Identity{Tenant: "demo", Home: "demo", Subject: "s", Role: vault.RoleUploader}, false},
		{"auditor without tenant, verified e-mail", Claims{}, map[string]any{"role": "auditor", "email": "A@NB.example", "email_verified": true},
			vault.Identity{Subject: "s", Role: vault.RoleAuditor, Email: "a@nb.example"}, false},
		{"e-mail not verified is not taken", Claims{}, map[string]any{"role": "auditor", "email": "a@nb.example", "email_verified": false},
			vault.Identity{Subject: "s", Role: vault.RoleAuditor}, false},
		{"cognito groups and custom tenant", cognito, map[string]any{"custom:tenant": "acme", "cognito:groups": []any{"staff", "admin"}, "email": "x@acme.example", "email_verified": "true"},
			vault.Identity{Tenant: "acme", Home: "acme", Subject: "s", Role: vault.RoleAdmin, Email: "x@acme.example"}, false},
		{"two roles in the groups", cognito, map[string]any{"custom:tenant": "acme", "cognito:groups": []any{"admin", "uploader"}}, vault.Identity{}, true},
		{"no role", Claims{}, map[string]any{"tenant": "demo"}, vault.Identity{}, true},
		{"unknown role", Claims{}, map[string]any{"tenant": "demo", "role": "root"}, vault.Identity{}, true},
		{"role of another type", Claims{}, map[string]any{"tenant": "demo", "role": 7.0}, vault.Identity{}, true},
		{"uploader without tenant", Claims{}, map[string]any{"role": "uploader"}, vault.Identity{}, true},
		{"bad tenant", Claims{}, map[string]any{"tenant": "../x", "role": "uploader"}, vault.Identity{}, true},
		{"name and auth_time, for sign-offs", Claims{}, map[string]any{"tenant": "demo", "role": "admin", "name": "Dana Example", "auth_time": 1764670000.0},
			vault.Identity{Tenant: "demo", Home: "demo", Subject: "s", Role: vault.RoleAdmin, Name: "Dana Example", AuthTime: time.Unix(1764670000, 0).UTC()}, false},
		{"a name it cannot print, an auth_time of another type: left out", Claims{}, map[string]any{"tenant": "demo", "role": "admin", "name": "a\u0000b", "auth_time": "yesterday"},
			vault.Identity{Tenant: "demo", Home: "demo", Subject: "s", Role: vault.RoleAdmin}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Identity(tt.c.withDefaults(), "s", tt.claims)
			if (err != nil) != tt.err {
				t.Fatalf("got error %v, want error %v", err, tt.err)
			}
			if !tt.err && (got.Tenant != tt.want.Tenant || got.Home != tt.want.Home || got.Subject != tt.want.Subject || got.Role != tt.want.Role || got.Email != tt.want.Email ||
				got.Name != tt.want.Name || !got.AuthTime.Equal(tt.want.AuthTime)) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
