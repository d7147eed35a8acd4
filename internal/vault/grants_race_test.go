package vault_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/vault"
)

// pausingRecords holds the first armed List of a prefix after it has read
// storage, until released: a request that read a tenant's grants just
// before a revocation and stores them in the cache just after it.
type pausingRecords struct {
	vault.Records
	prefix  string
	mu      sync.Mutex
	armed   bool
	entered chan struct{}
	release chan struct{}
}

func (p *pausingRecords) List(ctx context.Context, prefix string) ([]vault.Object, error) {
	objs, err := p.Records.List(ctx, prefix)
	p.mu.Lock()
	hold := p.armed && strings.HasPrefix(prefix, p.prefix)
	if hold {
		p.armed = false
	}
	p.mu.Unlock()
	if hold {
		close(p.entered)
		<-p.release
	}
	return objs, err
}

// docs/grants.md: "Revocation takes effect at once on the
// process that revoked it". A read of the tenant's grants that was in
// flight while the revocation was appended stores its (pre-revocation)
// list in the cache after RevokeGrant's forgetGrants; it must not, or the
// revoking process would honour the revoked grant for up to 15 seconds.
func TestRevocationIsNotUndoneByAReadInFlight(t *testing.T) {
	b := memstore.New("evidence")
	st := b.Storage()
	pr := &pausingRecords{Records: st.Records, prefix: "vault/acme/grants/", entered: make(chan struct{}), release: make(chan struct{})}
	st.Records = pr
	svc := vault.New(st, newSigner(t), vault.Config{Bucket: b.Bucket(), Logger: slog.New(slog.DiscardHandler)})
	d, err := svc.CreateDossier(as(alice), dossierInput(udiA, false))
	if err != nil {
		t.Fatal(err)
	}
	nora := vault.Identity{Subject: "nora@nb.example", Role: vault.RoleAuditor}
	until := time.Now().Add(time.Hour)
	g, err := svc.CreateGrant(as(alice), vault.GrantInput{Grantee: &vault.Grantee{Subject: nora.Subject}, Dossiers: []string{d.ID}, Until: &until})
	if err != nil {
		t.Fatal(err)
	}
	pr.mu.Lock()
	pr.armed = true
	pr.mu.Unlock()
	done := make(chan struct{})
	go func() { // an auditor's request, reading the grants
		defer close(done)
		svc.Authorize(context.Background(), nora, "acme")
	}()
	<-pr.entered
	if _, err := svc.RevokeGrant(as(alice), g.ID); err != nil {
		t.Fatal(err)
	}
	close(pr.release)
	<-done
	// The next request, on the process that revoked.
	if id, err := svc.Authorize(context.Background(), nora, "acme"); err == nil && len(id.Dossiers) > 0 {
		t.Errorf("after the revocation returned, the revoking process still gives the auditor %v (grants %v)", id.Dossiers, id.Grants)
	}
}
