package tamper_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
)

// The holder of a retired key, with the bucket, plants an access event
// signed by that key: an auditor's download that never happened, dated
// after the key was retired. The trail must not show it (records are the
// vault's working state: only keys it holds now may have signed them).
func TestRetiredKeyForgesAccessEvent(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	k1 := tg.rotate(t)
	svc := tg.restartWith(k1, nil)

	at := time.Now().UTC()
	ev := vault.AccessEvent{ID: "acc_00000000deadbeef", Event: "download", At: at, Tenant: tenant,
		Who: vault.Principal{Subject: "someone-else@nb.example", Role: vault.RoleAuditor}, Dossier: tg.dossier.ID,
		Path: reportPath, Version: 1, ExpiresAt: at.Add(time.Minute)}
	payload, _ := json.Marshal(ev)
	env, err := receipt.SignPayload(context.Background(), "application/vnd.evidencevault.access+json", payload, k0)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(env)
	key := fmt.Sprintf("vault/%s/access/%s/%020d-%s.json", tenant, at.Format(time.DateOnly), at.UnixNano(), ev.ID)
	tg.put(key, data)

	admin := vault.Identity{Tenant: tenant, Home: tenant, Subject: "dana@acme.example", Role: vault.RoleAdmin}
	events, _, err := svc.AccessTrail(vault.NewContext(context.Background(), admin), vault.AccessQuery{Since: at, Until: at})
	if err != nil {
		t.Fatalf("trail: %v", err)
	}
	for _, e := range events {
		if e.ID == ev.ID {
			t.Errorf("the trail shows an access event signed by the retired key %s, dated after its retirement: %+v", k0.Key().ID, e)
		}
	}
}
