package vault_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/devwitness"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/evidencevault/vault/internal/witnessing"
	"golang.org/x/mod/sumdb/note"
)

// witnessServer is a real witness (transparency-dev's) behind a switch
// that can make it unreachable, following the logs signed by signer.
type witnessServer struct {
	w      *devwitness.Witness
	policy witnessing.Policy
	client *witnessing.Client
	down   atomic.Bool
}

func newWitness(t *testing.T, signer receipt.Signer) *witnessServer {
	t.Helper()
	pub := signer.Public().(*ecdsa.PublicKey)
	w, err := devwitness.New(context.Background(), devwitness.Options{Name: "witness.test.example", Dir: t.TempDir(),
		LogKey: func(origin string) (string, bool) {
			if !strings.HasPrefix(origin, "evidencevault.dev/ledger/") {
				return "", false
			}
			vkey, err := ledger.VerifierKey(origin, pub)
			return vkey, err == nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	ws := &witnessServer{w: w}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if ws.down.Load() {
			http.Error(rw, "down", http.StatusServiceUnavailable)
			return
		}
		w.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	v, err := witnessing.ParseVerifier(w.VKey())
	if err != nil {
		t.Fatal(err)
	}
	ws.policy = witnessing.Policy{Witnesses: []note.Verifier{v}, Quorum: 1}
	ws.client = witnessing.New([]witnessing.Witness{{URL: u, Verifier: v}}, 0, 5*time.Second)
	return ws
}

// witnessedVault is one vault process on its own bucket, whose
// checkpoints ws cosigns.
func witnessedVault(t *testing.T, signer receipt.Signer, ws *witnessServer, now func() time.Time) fixture {
	t.Helper()
	b := memstore.New("evidence", memstore.WithClock(now))
	svc := newService(b, signer, vault.Config{Witnesses: ws.client, Now: now})
	d, err := svc.CreateDossier(as(alice), dossierInput(udiA, false))
	if err != nil {
		t.Fatal(err)
	}
	return fixture{svc: svc, store: b, dossier: d}
}

func witnessCheck(t *testing.T, svc *vault.Service, r *vault.Receipt, signer receipt.Signer, policy witnessing.Policy) vault.Check {
	t.Helper()
	data, err := json.Marshal(r.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	key, err := receipt.NewKey(signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	trust := vault.TrustKeys("test", key)
	trust.Witnesses = &policy
	out, _ := vault.VerifyOffline(context.Background(), data, trust, "", -1)
	for _, c := range out.Checks {
		if c.Name == vault.CheckWitnessed {
			return c
		}
	}
	t.Fatalf("no witness check in %+v", out.Checks)
	return vault.Check{}
}

func TestReceiptsAreWitnessed(t *testing.T) {
	signer := newSigner(t)
	ws := newWitness(t, signer)
	f := witnessedVault(t, signer, ws, nil)
	var sealed []*vault.Receipt
	for i := range 3 {
		r := f.sealed(t, fmt.Sprintf("tests/%d.txt", i), []byte(fmt.Sprintf("report %d", i)))
		if c := witnessCheck(t, f.svc, r, signer, ws.policy); !c.Passed {
			t.Fatalf("sealed receipt %d: %+v", i, c)
		}
		if r.Pending {
			t.Errorf("receipt %d: pending, want witnessed at its own commit", i)
		}
		sealed = append(sealed, r)
	}
	// A new process reads the kept cosigned checkpoints.
	again := newService(f.store, signer, vault.Config{Witnesses: ws.client})
	for i, r := range sealed {
		got, err := again.Receipt(as(alice), r.Predicate.ReceiptID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Log.Checkpoint != r.Log.Checkpoint || got.Pending {
			t.Errorf("receipt %d read again: got another checkpoint (pending %v), want the kept cosigned one", i, got.Pending)
		}
	}
	cp, err := again.Checkpoint(as(alice), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.policy.Check(cp.Signed); err != nil {
		t.Errorf("GET /v1/log/checkpoint: %v", err)
	}
	// The log's note alone does not meet the policy.
	plain := *sealed[0]
	p := *plain.Log
	p.Checkpoint = p.Checkpoint[:strings.Index(p.Checkpoint, "— witness.test.example")]
	plain.Log = &p
	if c := witnessCheck(t, f.svc, &plain, signer, ws.policy); c.Passed {
		t.Errorf("without cosignatures: got %+v, want refused", c)
	}
}

// TestRewrittenHistoryRefusedByWitness: whoever holds the vault's key and
// storage starts the tenant's log over, with other entries, under the
// same origin. The witness refuses it, and a verifier that requires the
// witness refuses its receipts, though it never kept a checkpoint.
func TestRewrittenHistoryRefusedByWitness(t *testing.T) {
	signer := newSigner(t)
	ws := newWitness(t, signer)
	real := witnessedVault(t, signer, ws, nil)
	var first *vault.Receipt
	for i := range 3 {
		r := real.sealed(t, fmt.Sprintf("tests/%d.txt", i), []byte(fmt.Sprintf("real %d", i)))
		if i == 0 {
			first = r
		}
	}
	for _, n := range []int{1, 6} { // a shorter and a longer second history
		t.Run(fmt.Sprintf("%d entries", n), func(t *testing.T) {
			rewritten := witnessedVault(t, signer, ws, nil)
			var last *vault.Receipt
			for i := range n {
				last = rewritten.sealed(t, fmt.Sprintf("tests/%d.txt", i), []byte(fmt.Sprintf("rewritten %d", i)))
			}
			if !last.Pending {
				t.Errorf("the rewritten log's receipt: not pending, want no cosignature")
			}
			if c := witnessCheck(t, rewritten.svc, last, signer, ws.policy); c.Passed {
				t.Fatalf("the rewritten log's receipt: got %+v, want refused", c)
			}
			if cp, err := rewritten.svc.Checkpoint(as(alice), 0); err != nil {
				t.Fatal(err)
			} else if _, err := ws.policy.Check(cp.Signed); err == nil {
				t.Errorf("the rewritten log's checkpoint meets the policy")
			}
		})
	}
	if c := witnessCheck(t, real.svc, first, signer, ws.policy); !c.Passed {
		t.Fatalf("the real log's receipt: %+v", c)
	}
	// The real log goes on being witnessed.
	if r := real.sealed(t, "tests/next.txt", []byte("real next")); r.Pending {
		t.Errorf("the real log's next receipt is pending")
	}
}

func TestWitnessDown(t *testing.T) {
	signer := newSigner(t)
	ws := newWitness(t, signer)
	c := &clock{t: time.Now()}
	f := witnessedVault(t, signer, ws, c.now)
	f.sealed(t, "tests/a.txt", []byte("a"))
	ws.down.Store(true)
	r := f.sealed(t, "tests/b.txt", []byte("sealed while the witness is down"))
	if !r.Pending {
		t.Errorf("got not pending, want pending while the witness is down")
	}
	if ch := witnessCheck(t, f.svc, r, signer, ws.policy); ch.Passed {
		t.Errorf("got %+v, want refused until witnessed", ch)
	}
	ws.down.Store(false)
	c.add(time.Minute)
	got, err := f.svc.Receipt(as(alice), r.Predicate.ReceiptID)
	if err != nil {
		t.Fatal(err)
	}
	if ch := witnessCheck(t, f.svc, got, signer, ws.policy); !ch.Passed {
		t.Fatalf("read once the witness is back: %+v", ch)
	}
}

func TestPlantedCosignedCheckpoints(t *testing.T) {
	signer := newSigner(t)
	ws := newWitness(t, signer)
	f := witnessedVault(t, signer, ws, nil)
	for size := 1; size <= 6; size++ {
		key := fmt.Sprintf("vault/%s/witnessed/%020d.txt", alice.Tenant, size)
		if err := f.store.Create(context.Background(), key, []byte("junk"), nil); err != nil {
			t.Fatal(err)
		}
	}
	var sealed []*vault.Receipt
	for i := range 3 {
		sealed = append(sealed, f.sealed(t, fmt.Sprintf("tests/%d.txt", i), []byte(fmt.Sprintf("r %d", i))))
	}
	again := newService(f.store, signer, vault.Config{Witnesses: ws.client})
	for i, r := range sealed {
		got, err := again.Receipt(as(alice), r.Predicate.ReceiptID)
		if err != nil {
			t.Fatal(err)
		}
		if ch := witnessCheck(t, again, got, signer, ws.policy); !ch.Passed {
			t.Errorf("receipt %d over planted junk: %+v", i, ch)
		}
	}
}

// TestWitnessQuorum: with two witnesses and a quorum of one, a checkpoint
// one of them cosigned while the other is down is witnessed (kept, served,
// not pending) and meets a verifier's 1-of-2 policy, not a 2-of-2 one;
// with the default quorum, all, it waits for the next round.
func TestWitnessQuorum(t *testing.T) {
	for _, tt := range []struct {
		quorum, published int
		wantPending       bool
	}{{1, 1, false}, {0, 2, true}} {
		t.Run(fmt.Sprintf("quorum %d", tt.quorum), func(t *testing.T) {
			signer := newSigner(t)
			w1, w2 := newWitness(t, signer), newWitness(t, signer)
			both := witnessing.New(append(w1.client.Witnesses(), w2.client.Witnesses()...), tt.quorum, 5*time.Second)
			b := memstore.New("evidence")
			svc := newService(b, signer, vault.Config{Witnesses: both})
			d, err := svc.CreateDossier(as(alice), dossierInput(udiA, false))
			if err != nil {
				t.Fatal(err)
			}
			f := fixture{svc: svc, store: b, dossier: d}
			if got := svc.VerifierPolicy().Witnesses.Quorum; got != tt.published {
				t.Errorf("published quorum: got %d, want %d", got, tt.published)
			}
			oneOf := witnessing.Policy{Witnesses: []note.Verifier{w1.policy.Witnesses[0], w2.policy.Witnesses[0]}, Quorum: 1}
			allOf := oneOf
			allOf.Quorum = 2
			if r := f.sealed(t, "tests/a.txt", []byte("both up")); !witnessCheck(t, svc, r, signer, allOf).Passed {
				t.Fatalf("both up: %+v", witnessCheck(t, svc, r, signer, allOf))
			}
			w2.down.Store(true)
			r := f.sealed(t, "tests/b.txt", []byte("one down"))
			if r.Pending != tt.wantPending {
				t.Errorf("one witness down: got pending %v, want %v", r.Pending, tt.wantPending)
			}
			if got := witnessCheck(t, svc, r, signer, oneOf).Passed; got == tt.wantPending {
				t.Errorf("one witness down, a 1-of-2 verifier: got passed %v, want %v", got, !tt.wantPending)
			}
			if c := witnessCheck(t, svc, r, signer, allOf); c.Passed {
				t.Errorf("one witness down, a 2-of-2 verifier: got %+v, want refused", c)
			}
		})
	}
}
