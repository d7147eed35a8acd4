// Package faults_test is the fault campaign (issue 17, docs/reliability.md):
// the vault on a real MinIO, with faults a network, a host and an operator
// produce: latency, resets, stalled and cut connections through toxiproxy
// between the vault and MinIO; the vault's process killed (SIGKILL) after
// each storage request of a complete; MinIO paused (SIGSTOP) during a
// burst; many processes completing the same uploads on one log. After
// each: every upload a client saw acknowledged has exactly one version and
// one log entry, with the receipt it was given; nothing unacknowledged
// appears twice; the audit of the whole log is clean; and a retry by the
// client completes every upload.
package faults_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/assembly"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/s3store"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(child(spec)) // a vault process of the campaign
	}
	os.Exit(testenv.Main(m))
}

var uploader = vault.Identity{Tenant: "faults", Subject: "qa@startup.example", Role: vault.RoleUploader}

func as(id vault.Identity) context.Context { return vault.NewContext(context.Background(), id) }

// world is one campaign case's storage: an evidence bucket and a scratch
// bucket on the test MinIO, a signing key, a dossier, and a vault that
// reaches MinIO directly, for preparing uploads and checking the outcome.
type world struct {
	t       *testing.T
	env     *testenv.Env
	bucket  string
	scratch string
	keyPEM  []byte
	signer  *receipt.LocalSigner
	direct  *vault.Service
	dossier string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := testenv.Get(t)
	w := &world{t: t, env: env, bucket: env.Bucket(t, false).Bucket(), scratch: env.Scratch(t).Bucket()}
	var err error
	if w.keyPEM, err = receipt.GenerateKey(); err != nil {
		t.Fatal(err)
	}
	if w.signer, err = receipt.NewLocalSigner(w.keyPEM); err != nil {
		t.Fatal(err)
	}
	w.direct = w.vault(env.Endpoint)
	implantable, ai := false, true
	d, err := w.direct.CreateDossier(as(uploader), vault.DossierInput{Name: "Faulty device", BasicUDIDI: "1987654Ad4X4bL5ttr2310c2K",
		Regulation: regulation.MDR, RiskClass: "IIa", Implantable: &implantable, HighRiskAI: &ai, NotifiedBody: "0197"})
	if err != nil {
		t.Fatal(err)
	}
	w.dossier = d.ID
	return w
}

// vault is one vault process's service reaching storage at endpoint (MinIO,
// or a proxy in front of it), assembled as production assembles it, with
// production's lease timings (a lease left by a killed or cut off holder
// is taken over after 3 s).
func (w *world) vault(endpoint string) *vault.Service {
	w.t.Helper()
	svc, err := newVault(w.s3(endpoint), w.bucket, w.scratch, w.keyPEM)
	if err != nil {
		w.t.Fatal(err)
	}
	return svc
}

func (w *world) s3(endpoint string) assembly.S3 {
	c := w.env.S3Config()
	c.Endpoint = endpoint
	return c
}

func newVault(c assembly.S3, bucket, scratch string, keyPEM []byte) (*vault.Service, error) {
	v, err := assembly.New(context.Background(), assembly.Config{Bucket: bucket, ScratchBucket: scratch, SigningKeyPEM: keyPEM, S3: c}, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	return v.Service, nil
}

// uploads starts n uploads and sends their bytes straight to MinIO: what
// clients have done before the faults begin.
func (w *world) uploads(prefix string, n int) []vault.Ticket {
	w.t.Helper()
	tks := make([]vault.Ticket, n)
	for i := range tks {
		body := fmt.Appendf(nil, "%s evidence %d\n", prefix, i)
		sum := sha256.Sum256(body)
		tk, err := w.direct.StartUpload(as(uploader), w.dossier, vault.Document{
			Path: fmt.Sprintf("%s/report-%03d.txt", prefix, i), Title: "Verification report", Kind: regulation.KindTestReport,
			Section: "MDR-II-6.1", Revision: "1", Language: "en", EffectiveDate: "2026-11-23", Author: "QA",
			File: vault.File{Name: fmt.Sprintf("report-%03d.txt", i), Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), ContentType: "text/plain"},
		})
		if err != nil {
			w.t.Fatal(err)
		}
		testenv.Put(w.t, tk.Upload, bytes.NewReader(body), int64(len(body)))
		tks[i] = tk
	}
	return tks
}

// outcome is what the clients of a case saw.
type outcome struct {
	mu      sync.Mutex
	acked   map[string]string // upload id -> receipt id the client was given
	errors  map[string]int    // what failed attempts answered, by kind
	slowest time.Duration     // the longest attempt
	wrong   []error           // an upload acknowledged with two receipts
}

func newOutcome() *outcome { return &outcome{acked: map[string]string{}, errors: map[string]int{}} }

func (o *outcome) ack(upload, receipt string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if was, ok := o.acked[upload]; ok && was != receipt {
		return fmt.Errorf("upload %s acknowledged with receipt %s, earlier with %s", upload, receipt, was)
	}
	o.acked[upload] = receipt
	return nil
}

func (o *outcome) failed(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.errors[errorKind(err)]++
}

func (o *outcome) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return fmt.Sprintf("%d acknowledged, failed attempts %v, slowest attempt %s", len(o.acked), o.errors, o.slowest.Round(time.Millisecond))
}

// errorKind names what a failed complete told its client.
func errorKind(err error) string {
	var ve *vault.Error
	switch {
	case errors.As(err, &ve):
		return string(ve.Code)
	case errors.Is(err, vault.ErrStorageUnavailable):
		return "storage-unavailable"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	case errors.Is(err, vault.ErrStorage):
		return "storage"
	}
	return "other: " + err.Error()
}

// complete tries each ticket once with svc, within deadline per attempt,
// from clients at once, recording what each attempt got.
func complete(svc *vault.Service, tks []vault.Ticket, clients int, deadline time.Duration, o *outcome) {
	var wg sync.WaitGroup
	next := make(chan vault.Ticket)
	for range clients {
		wg.Go(func() {
			for tk := range next {
				ctx, cancel := context.WithTimeout(as(uploader), deadline)
				t0 := time.Now()
				r, err := svc.Complete(ctx, tk.UploadID)
				cancel()
				o.mu.Lock()
				o.slowest = max(o.slowest, time.Since(t0))
				o.mu.Unlock()
				if err != nil {
					o.failed(err)
					continue
				}
				if err := o.ack(tk.UploadID, r.Predicate.ReceiptID); err != nil {
					o.mu.Lock()
					o.wrong = append(o.wrong, err)
					o.mu.Unlock()
				}
			}
		})
	}
	for _, tk := range tks {
		next <- tk
	}
	close(next)
	wg.Wait()
}

// holds checks the campaign's promises after a case: see the package doc.
func (w *world) holds(tks []vault.Ticket, o *outcome) {
	t := w.t
	t.Helper()
	ctx := as(uploader)
	for _, err := range o.wrong {
		t.Error(err)
	}
	// Nothing twice, before the retries: each upload has at most one
	// version, an acknowledged one exactly one, with its receipt.
	w.oneEach(tks, o, false)
	// A client's retry completes every upload, with the receipt it was
	// given if it was given one.
	for _, tk := range tks {
		var r *vault.Receipt
		var err error
		for attempt := range 20 {
			if r, err = w.direct.Complete(ctx, tk.UploadID); err == nil {
				break
			}
			time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("retry of %s: %v", tk.UploadID, err)
			continue
		}
		if err := o.ack(tk.UploadID, r.Predicate.ReceiptID); err != nil {
			t.Error(err)
		}
	}
	w.oneEach(tks, o, true)
	// The audit of the whole log, with the key pinned apart from the
	// bucket.
	pub, err := receipt.NewKey(w.signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	client := w.env.Client(t)
	st := s3store.New(client, w.bucket, slog.New(slog.DiscardHandler)).Storage()
	start := time.Now()
	rep, err := vault.AuditLog(context.Background(), st, w.bucket, uploader.Tenant, []receipt.Key{pub})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("audit: %q", rep.Problems)
	}
	t.Logf("audit of %d entries in %d commits: %s, %s", rep.Size, rep.Commits, map[bool]string{true: "clean", false: "problems"}[rep.OK()], time.Since(start).Round(time.Millisecond))
}

// oneEach checks that every upload has at most one version (exactly one
// when all must be sealed, or when acknowledged), carrying the receipt its
// client was given, and that the log holds every receipt once.
func (w *world) oneEach(tks []vault.Ticket, o *outcome, all bool) {
	t := w.t
	t.Helper()
	ctx := as(uploader)
	inLog := map[string]int{}
	cp, err := w.direct.Checkpoint(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for start := int64(0); start < cp.Size; start += ledger.MaxEntries {
		es, err := w.direct.LogEntries(ctx, start, min(cp.Size, start+ledger.MaxEntries), w.dossier)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es.Entries {
			inLog[e.ID]++
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, tk := range tks {
		versions, err := w.direct.Versions(ctx, w.dossier, tk.Path)
		if err != nil && !(errors.Is(err, vault.ErrNotFound) || isNotFound(err)) {
			t.Fatal(err)
		}
		var mine []vault.Version
		for _, v := range versions {
			if v.UploadID == tk.UploadID {
				mine = append(mine, v)
			}
		}
		acked, isAcked := o.acked[tk.UploadID]
		switch {
		case len(mine) > 1:
			t.Errorf("upload %s has %d versions, want at most one", tk.UploadID, len(mine))
		case len(mine) == 0 && (all || isAcked):
			t.Errorf("upload %s (acknowledged: %v) has no version", tk.UploadID, isAcked)
		case len(mine) == 1 && isAcked && mine[0].ReceiptID != acked:
			t.Errorf("upload %s: its version's receipt is %s, its client was given %s", tk.UploadID, mine[0].ReceiptID, acked)
		}
		// Claimed but not yet in the log is an append still pending (its
		// process was stopped): the retry appends it.
		for _, v := range mine {
			if n := inLog[v.ReceiptID]; n > 1 || n == 0 && (all || isAcked) {
				t.Errorf("receipt %s of upload %s (acknowledged: %v) is %d times in the log, want once", v.ReceiptID, tk.UploadID, isAcked, n)
			}
		}
	}
	for id, n := range inLog {
		if n > 1 {
			t.Errorf("log entry %s appears %d times", id, n)
		}
	}
}

func isNotFound(err error) bool {
	var ve *vault.Error
	return errors.As(err, &ve) && ve.Code == vault.CodeNotFound
}
