package tamper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

// An implantable device's dossier (15 years), on the market. The operator
// backdates a record beneath the vault's saying it is not implantable: a
// seal into it is refused (TestBackdatedDossierRecord), and the extension
// takes the longest term any version of the record says: today + 1 + 15
// years.
func TestBackdatedDossierRecordCannotShortenExtension(t *testing.T) {
	tg := newTarget(t)
	svc := tg.restart()
	ctx := vault.NewContext(context.Background(), uploader)
	yes := true
	d, err := svc.CreateDossier(ctx, vault.DossierInput{Name: "Pacemaker", BasicUDIDI: "7907665Bm8v2AB",
		Regulation: regulation.MDR, RiskClass: "III", Implantable: &yes, HighRiskAI: &yes, NotifiedBody: "0197"})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("pacemaker lead test report\n")
	tk, err := svc.StartUpload(ctx, d.ID, document(reportPath, body))
	if err != nil {
		t.Fatal(err)
	}
	testenv.Put(t, tk.Upload, bytes.NewReader(body), int64(len(body)))
	if _, err := svc.Complete(ctx, tk.UploadID); err != nil {
		t.Fatal(err)
	}

	key := fmt.Sprintf("vault/%s/dossiers/%s.json", tenant, d.ID)
	var m map[string]any
	if err := json.Unmarshal(tg.get(key), &m); err != nil {
		t.Fatal(err)
	}
	m["implantable"], m["retentionYears"] = false, 10
	forged, _ := json.Marshal(m)
	tg.putBackdated(t, key, forged)

	svc = tg.restart()
	admin := vault.Identity{Tenant: tenant, Home: tenant, Subject: "bob@acme.example", Role: vault.RoleAdmin}
	st, err := svc.SetMarket(vault.NewContext(context.Background(), admin), d.ID, vault.MarketInput{FirstPlaced: time.Now().UTC().Format(time.DateOnly)})
	if err != nil {
		t.Fatal(err)
	}
	want := time.Now().Add(vault.ExtendAhead).AddDate(15, 0, 0).Add(-time.Hour)
	if st.RetainUntil.Before(want) {
		t.Errorf("implantable dossier on the market: locks extended to %s, want %s (today + 1 + 15 years)", st.RetainUntil.Format(time.DateOnly), want.Format(time.DateOnly))
	}
}
