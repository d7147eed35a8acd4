package vault_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/devtsa"
	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/tsa"
	"github.com/evidencevault/vault/internal/vault"
)

// countedAuthority is a development authority that counts the requests
// it is sent, down or not.
type countedAuthority struct {
	*devtsa.Authority
	asked  atomic.Int64
	client *tsa.Client
}

// sealedWhileDown seals n receipts in each of two tenants while the
// authority is down, and returns it (still down), the bucket, and a
// fresh process on it, with no memory of the failures at sealing.
func sealedWhileDown(t *testing.T, n int) (*countedAuthority, *memstore.Bucket, *vault.Service) {
	t.Helper()
	a := newCountedAuthority(t)
	b := memstore.New("evidence")
	signer := newSigner(t)
	svc := newService(b, signer, vault.Config{Timestamps: a.client})
	a.SetDown(true)
	sealIn(t, svc, b, "acme", udiA, n)
	sealIn(t, svc, b, "globex", udiB, n)
	return a, b, newService(b, signer, vault.Config{Timestamps: a.client})
}

func newCountedAuthority(t *testing.T) *countedAuthority {
	t.Helper()
	a, err := devtsa.New(devtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &countedAuthority{Authority: a}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.asked.Add(1)
		a.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c.client, err = tsa.New(tsa.Config{URL: srv.URL, Trust: tsa.Trust{Roots: []*x509.Certificate{a.Root()}, Policy: devtsa.Policy}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sealIn seals n documents in a new dossier of tenant.
func sealIn(t *testing.T, svc *vault.Service, b *memstore.Bucket, tenant, udi string, n int) {
	t.Helper()
	id := vault.Identity{Tenant: tenant, Subject: "alice@" + tenant + ".example", Role: vault.RoleAdmin}
	d, err := svc.CreateDossier(as(id), dossierInput(udi, false))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		body := []byte(fmt.Sprintf("report %d of %s", i, tenant))
		tk, err := svc.StartUpload(as(id), d.ID, document(fmt.Sprintf("tests/%d.txt", i), body))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Send(tk.Upload, body); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Complete(as(id), tk.UploadID); err != nil {
			t.Fatal(err)
		}
	}
}

// TestScheduleAsksAFailingAuthorityOnce: receipts of two tenants were
// sealed while the authority was down, and it still is. The schedule's
// run asks it once, not once per receipt (each waiting out its timeout),
// counts them all pending, and has done the tenants' other work first.
func TestScheduleAsksAFailingAuthorityOnce(t *testing.T) {
	a, _, again := sealedWhileDown(t, 3)
	before := a.asked.Load()
	run, err := again.RunSchedule(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := a.asked.Load() - before; got != 1 {
		t.Errorf("the run asked the authority %d times, want once", got)
	}
	if run.Stamped != 0 || run.Pending != 6 {
		t.Errorf("got %d stamped, %d pending, want 0 and 6", run.Stamped, run.Pending)
	}
	// Back up, the next run stamps them all.
	a.SetDown(false)
	if run, err = again.RunSchedule(context.Background()); err != nil || run.Stamped != 6 || run.Pending != 0 {
		t.Errorf("authority back: got %+v (%v), want 6 stamped", run, err)
	}
}

// TestSweepReadsNoStampedReceipt: with every receipt stamped, an hourly
// sweep reads only the receipts whose kept token it checks that hour,
// each once a day: its run does not grow with every receipt a tenant ever
// sealed.
func TestSweepReadsNoStampedReceipt(t *testing.T) {
	a := newCountedAuthority(t)
	b := memstore.New("evidence")
	c := &clock{t: time.Date(2026, 12, 8, 0, 30, 0, 0, time.UTC)}
	svc := newService(b, newSigner(t), vault.Config{Timestamps: a.client, Now: c.now})
	sealIn(t, svc, b, "acme", udiA, 5)
	b.Calls(true)
	read := map[string]int{}
	for range 24 {
		stamped, pending, err := svc.StampPending(context.Background(), "acme")
		if err != nil || stamped != 0 || pending != 0 {
			t.Fatalf("got %d stamped, %d pending (%v), want none", stamped, pending, err)
		}
		c.add(time.Hour)
	}
	for _, call := range b.Calls(false) {
		if call.Op == "Get" && strings.HasPrefix(call.Key, "vault/acme/receipts/") {
			read[call.Key]++
		}
	}
	if len(read) != 5 {
		t.Errorf("a day of sweeps read %d receipts, want each of the 5", len(read))
	}
	for k, n := range read {
		if n != 1 {
			t.Errorf("a day of sweeps read %s %d times, want once", k, n)
		}
	}
}

// TestJunkAtAPendingReceiptsToken: an operator plants junk where a
// pending receipt's token goes. Within a day of sweeps the receipt is
// stamped, though nobody read it.
func TestJunkAtAPendingReceiptsToken(t *testing.T) {
	a := newCountedAuthority(t)
	b := memstore.New("evidence")
	signer := newSigner(t)
	c := &clock{t: time.Date(2026, 12, 8, 0, 30, 0, 0, time.UTC)}
	svc := newService(b, signer, vault.Config{Timestamps: a.client, Now: c.now})
	a.SetDown(true)
	f := fixture{svc: svc, store: b}
	d, err := svc.CreateDossier(as(alice), dossierInput(udiA, false))
	if err != nil {
		t.Fatal(err)
	}
	f.dossier = d
	r := f.sealed(t, "tests/a.txt", []byte("sealed while down"))
	a.SetDown(false)
	b.Overwrite("vault/acme/timestamps/"+r.Predicate.ReceiptID+".tsr", []byte("not a token"))
	again := newService(b, signer, vault.Config{Timestamps: a.client, Now: c.now})
	total := 0
	for range 24 {
		c.add(time.Hour)
		stamped, _, err := again.StampPending(context.Background(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		total += stamped
	}
	if total != 1 {
		t.Errorf("a day of sweeps stamped %d, want the receipt once", total)
	}
	got, err := again.Receipt(as(alice), r.Predicate.ReceiptID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Timestamps) != 1 || got.Pending {
		t.Errorf("read: got %d timestamps, pending %v, want the receipt stamped", len(got.Timestamps), got.Pending)
	}
}

// TestOneTenantsStorageDoesNotStopTheSweep: one tenant's tokens cannot be
// stored (its prefix throttled); the authority answers. That is not the
// authority down: the run still stamps the other tenants.
func TestOneTenantsStorageDoesNotStopTheSweep(t *testing.T) {
	a, b, again := sealedWhileDown(t, 2)
	a.SetDown(false)
	b.Inject(func(_ context.Context, c memstore.Call) error {
		if (c.Op == "Create" || c.Op == "Put") && strings.HasPrefix(c.Key, "vault/acme/timestamps/") {
			return errors.New("SlowDown")
		}
		return nil
	})
	run, err := again.RunSchedule(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if run.Stamped != 2 || run.Pending != 2 {
		t.Errorf("got %d stamped, %d pending, want globex's 2 stamped and acme's 2 pending", run.Stamped, run.Pending)
	}
}
