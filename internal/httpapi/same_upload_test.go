package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

// TestSameUploadInFlight: the same file uploaded twice before either is
// sealed (a re-run after a lost answer), on MinIO with its storage events
// sealing too, and both completed at once, is one version: every
// complete answers its receipt, the log holds it once, and the audit
// finds the bucket consistent.
func TestSameUploadInFlight(t *testing.T) {
	a := start(t, vault.Config{}, true)
	dossier := a.createDossier(t)
	tok := a.token(t, uploader)
	path := "race/report.txt"
	content := []byte("the same report, sent twice\n")
	var tickets []ticket
	for range 2 {
		tk := a.startUpload(t, tok, dossier, path, content)
		if got := testenv.Curl(t, tk.Upload.Method, tk.Upload.URL, tk.Upload.Headers, content); got.Status != http.StatusOK {
			t.Fatalf("PUT: %d %s", got.Status, got.Body)
		}
		tickets = append(tickets, tk)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	ids := map[string]int{}
	for range 3 {
		for _, tk := range tickets {
			wg.Go(func() {
				r := a.call(t, "POST", tk.Complete, tok, nil)
				var rb receiptBody
				if r.status == http.StatusOK {
					r.json(t, &rb)
				}
				mu.Lock()
				ids[rb.ReceiptID]++
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if len(ids) != 1 || ids[""] != 0 {
		t.Fatalf("completes answered receipts %v, want one receipt, six times", ids)
	}
	var vs struct {
		Versions []vault.Version `json:"versions"`
	}
	// The storage events' seals may still be running; they find the
	// same version.
	time.Sleep(time.Second)
	a.call(t, "GET", "/v1/dossiers/"+dossier+"/versions?path="+path, tok, nil).json(t, &vs)
	if len(vs.Versions) != 1 || ids[vs.Versions[0].ReceiptID] == 0 {
		t.Fatalf("got versions %+v, want one, with the receipt answered (%v)", vs.Versions, ids)
	}
	if err := a.svc.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	admin := vault.Identity{Tenant: uploader.Tenant, Subject: "admin@demo.example", Role: vault.RoleAdmin}
	rep, err := a.svc.Audit(vault.NewContext(context.Background(), admin))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.WriteText(&b)
	if !rep.OK() {
		t.Errorf("audit: %s", b.String())
	}
}
