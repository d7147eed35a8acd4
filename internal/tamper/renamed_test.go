package tamper_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/evidencevault/vault/internal/vault"
)

// TestRenamedEntriesBackdated: entry ids are not in the log's tree. A copy
// of the log's newest commit, its receipts' ids renamed to look like key
// events ("key-..."), backdated beneath the log's. The vault reads ids
// from the signed records, so the copy is no commit; and it decides what
// a reader sees from the signed statement, not from an id.
func TestRenamedEntriesBackdated(t *testing.T) {
	tg := newTarget(t)
	n := tg.logSize(t)
	start, c := tg.commitEnding(t, n)
	renamed := 0
	for i, raw := range c.Entries {
		var e map[string]any
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		if id, _ := e["id"].(string); !strings.HasPrefix(id, "key-") {
			e["id"] = "key-leak-" + id
			c.Entries[i], _ = json.Marshal(e)
			renamed++
		}
	}
	if renamed == 0 {
		t.Fatal("precondition: the newest commit holds no receipt")
	}
	body, _ := json.Marshal(c)
	tg.putBackdated(t, commitObject(start), body)

	svc := tg.restart()
	other := vault.Identity{Tenant: tenant, Subject: "reviewer@other.example", Role: vault.RoleAuditor, Dossiers: []string{"dos_someotherdossier"}}
	out, err := svc.LogEntries(vault.NewContext(context.Background(), other), 0, n, "")
	if err != nil {
		t.Fatalf("log entries: %v", err)
	}
	for _, e := range out.Entries {
		if strings.HasPrefix(e.ID, "key-leak-") || strings.Contains(string(e.Envelope), tg.dossier.ID) {
			t.Errorf("entry %d: a reader of another dossier sees id %q and %d bytes of envelope of dossier %s", e.Index, e.ID, len(e.Envelope), tg.dossier.ID)
		}
	}
	if rep := tg.audit(); !mentions(rep, commitObject(start)) {
		t.Errorf("audit: got %q, want a problem naming %s", rep.Problems, commitObject(start))
	}
}

// TestDossierJunkBackdated: junk backdated beneath a dossier record: the
// dossier stays readable, alone and in the list, takes no new uploads
// (tampered), and nothing turns into a 500.
func TestDossierJunkBackdated(t *testing.T) {
	tg := newTarget(t)
	key := "vault/" + tenant + "/dossiers/" + tg.dossier.ID + ".json"
	if len(tg.get(key)) == 0 {
		t.Fatalf("precondition: no dossier record at %s", key)
	}
	tg.putBackdated(t, key, []byte("junk, not a dossier"))
	tg.restart()
	if code, out := tg.raw(t, "GET", "/v1/dossiers/"+tg.dossier.ID, nil); code != 200 {
		t.Errorf("GET the dossier: got %d %.300s, want 200 (readable)", code, out)
	}
	if code, out := tg.raw(t, "GET", "/v1/dossiers", nil); code != 200 {
		t.Errorf("GET /v1/dossiers: got %d %.300s, want 200 (readable)", code, out)
	}
	err := tg.trySeal(tg.restart(), "after-junk-dossier.txt", []byte("x\n"))
	var ve *vault.Error
	if !errorsAs(err, &ve) || ve.Code != vault.CodeTampered {
		t.Errorf("seal: got %v, want CodeTampered", err)
	}
}
