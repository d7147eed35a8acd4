package vault_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
	"golang.org/x/mod/sumdb/tlog"
)

// cluster is several vault processes on one bucket and key, sharing
// nothing but storage: what concurrent Lambda instances are.
type cluster struct {
	store   *memstore.Bucket
	scratch *memstore.Scratch // the processes' shared transient state
	bucket  string
	signer  *receipt.LocalSigner
	nodes   []*vault.Service
	dossier vault.Dossier
}

func newCluster(t *testing.T, n int, mode vault.LockMode) cluster {
	t.Helper()
	b := memstore.New("evidence")
	c := cluster{store: b, scratch: memstore.NewScratch("scratch"), bucket: b.Bucket(), signer: newSigner(t)}
	for range n {
		st := b.Storage()
		st.Scratch = c.scratch
		c.nodes = append(c.nodes, vault.New(st, c.signer, vault.Config{Bucket: b.Bucket(), LockMode: mode, Logger: slog.New(slog.DiscardHandler)}))
	}
	d, err := c.nodes[0].CreateDossier(as(alice), dossierInput(udiA, false))
	if err != nil {
		t.Fatal(err)
	}
	c.dossier = d
	return c
}

// uploaded starts n uploads and sends their bytes, without completing.
func (c cluster) uploaded(t *testing.T, prefix string, n int) []vault.Ticket {
	t.Helper()
	tks := make([]vault.Ticket, n)
	for i := range tks {
		body := fmt.Appendf(nil, "%s evidence %d\n", prefix, i)
		tk, err := c.nodes[0].StartUpload(as(alice), c.dossier.ID, document(fmt.Sprintf("%s/doc-%03d.txt", prefix, i), body))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.store.Send(tk.Upload, body); err != nil {
			t.Fatal(err)
		}
		tks[i] = tk
	}
	return tks
}

func (c cluster) audit(t *testing.T, trusted ...[]byte) *vault.AuditReport {
	t.Helper()
	rep, err := c.nodes[0].Audit(as(bob), trusted...)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestLedgerUnderConcurrentCompletes completes uploads from many goroutines
// on several processes at once, each upload twice, then audits the log:
// every receipt once, every proof verifying, checkpoints consistent.
func TestLedgerUnderConcurrentCompletes(t *testing.T) {
	c := newCluster(t, 4, vault.Governance)
	tks := c.uploaded(t, "batch", 48)
	receipts := make([]*vault.Receipt, len(tks))
	var wg sync.WaitGroup
	for i, tk := range tks {
		for attempt := range 2 { // complete and the seal trigger racing
			node := c.nodes[(i+attempt)%len(c.nodes)]
			wg.Go(func() {
				r, err := node.Complete(as(alice), tk.UploadID)
				if err != nil {
					t.Errorf("complete %s: %v", tk.UploadID, err)
					return
				}
				if attempt == 0 {
					receipts[i] = r
				}
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	rep := c.audit(t)
	if !rep.OK() || rep.Size != int64(len(tks))+1 || rep.Receipts != len(tks) {
		t.Fatalf("audit: got size %d, %d receipts, problems %q; want the genesis and %d receipts, no problem", rep.Size, rep.Receipts, rep.Problems, len(tks))
	}
	keys := []*ecdsa.PublicKey{c.signer.Key().Public}
	latest, err := c.nodes[2].Checkpoint(as(alice), 0)
	if err != nil {
		t.Fatal(err)
	}
	newer, err := ledger.OpenCheckpoint(latest.Signed, latest.Origin, keys)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]string{}
	for i, r := range receipts {
		if r.Log == nil {
			t.Fatalf("receipt %d carries no log proof", i)
		}
		if other, dup := seen[r.Log.Index]; dup {
			t.Errorf("index %d given to %s and %s", r.Log.Index, other, r.Predicate.ReceiptID)
		}
		seen[r.Log.Index] = r.Predicate.ReceiptID
		leaf, _ := receipt.Payload(r.Envelope)
		cp, err := ledger.VerifyProof(leaf, r.Log, keys)
		if err != nil {
			t.Errorf("receipt %s: %v", r.Predicate.ReceiptID, err)
		}
		// POST /v1/verify's checks include the log proof of a bundle.
		b, _ := json.Marshal(r.Bundle())
		v, err := c.nodes[0].Verify(as(alice), b, "", nil)
		if err != nil || !v.Valid || !passed(v, vault.CheckLog) || !passed(v, vault.CheckInLog) {
			t.Errorf("verify bundle %s: %+v, %v; want valid, with %s and %s", r.Predicate.ReceiptID, v, err, vault.CheckLog, vault.CheckInLog)
		}
		// The same receipt, read back, has the same proof.
		again, err := c.nodes[3].Receipt(as(alice), r.Predicate.ReceiptID)
		if err != nil || again.Log == nil || again.Log.Index != r.Log.Index {
			t.Errorf("receipt %s read back: %+v, %v", r.Predicate.ReceiptID, again, err)
		}
		// Its checkpoint is consistent with the latest one.
		p, err := c.nodes[1].ConsistencyProof(as(alice), cp.Size, latest.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := ledger.VerifyConsistency(cp, newer, p.Hashes); err != nil {
			t.Errorf("checkpoint %d to latest %d: %v", cp.Size, newer.Size, err)
		}
	}
}

// TestLedgerRecoversFromCrashedWriter stops a writer at each point after
// it claimed the version: the next append (of another upload, by another
// process) finishes whatever commit it left, and the retried seal returns
// the receipt without appending again.
func TestLedgerRecoversFromCrashedWriter(t *testing.T) {
	for _, crash := range []string{"/checkpoint/", "/tile/", "/receipts/"} {
		t.Run("crash writing "+crash, func(t *testing.T) {
			c := newCluster(t, 2, vault.Governance)
			tks := c.uploaded(t, "crash", 4)
			// The log starts (its genesis, a first receipt) before the crash.
			if _, err := c.nodes[0].Complete(as(alice), tks[3].UploadID); err != nil {
				t.Fatal(err)
			}
			heal := c.store.Inject(memstore.Fail("Create", crash, nil))
			if _, err := c.nodes[0].Complete(as(alice), tks[0].UploadID); err == nil {
				t.Fatalf("complete succeeded with %s writes failing", crash)
			}
			heal()
			// Another process appends another upload: it must finish the
			// half-written commit first.
			if _, err := c.nodes[1].Complete(as(alice), tks[1].UploadID); err != nil {
				t.Fatal(err)
			}
			first, err := c.nodes[1].Complete(as(alice), tks[0].UploadID)
			if err != nil {
				t.Fatal(err)
			}
			if first.Log == nil || first.Log.Index != 2 {
				t.Errorf("the crashed upload's receipt: got log %+v, want index 2, where its crashed append put it", first.Log)
			}
			// A crash before the commit leaves nothing: the retry appends once.
			heal = c.store.Inject(memstore.Fail("Create", "/log/", nil))
			if _, err := c.nodes[0].Complete(as(alice), tks[2].UploadID); err == nil {
				t.Fatal("complete succeeded with commit writes failing")
			}
			heal()
			if _, err := c.nodes[0].Complete(as(alice), tks[2].UploadID); err != nil {
				t.Fatal(err)
			}
			if rep := c.audit(t); !rep.OK() || rep.Size != 5 || rep.Receipts != 4 {
				t.Errorf("audit: size %d, %d receipts, problems %q; want the genesis and 4 receipts, no problem", rep.Size, rep.Receipts, rep.Problems)
			}
		})
	}
}

// tamper rewrites one object the way an operator with bucket credentials
// could: a new version on top of the locked one.
func tamper(t *testing.T, c cluster, key string, edit func([]byte) []byte) {
	t.Helper()
	body, ok := c.store.Latest(key)
	if !ok {
		t.Fatalf("no object %s to tamper with", key)
	}
	c.store.Overwrite(key, edit(body))
}

func commitKey(t *testing.T, c cluster) string {
	t.Helper()
	return leafAt(t, c, 0).key
}

// leaf is where entry i of the log is stored: a commit object and the
// position in it.
type leaf struct {
	key string
	pos int
}

func leafAt(t *testing.T, c cluster, index int) leaf {
	t.Helper()
	keys, err := c.store.List(context.Background(), "ledger/acme/log/")
	if err != nil {
		t.Fatal(err)
	}
	var all []leaf
	for _, o := range keys {
		data, err := c.store.Get(context.Background(), o.Key)
		if err != nil {
			t.Fatal(err)
		}
		var cm struct{ Entries []json.RawMessage }
		if err := json.Unmarshal(data, &cm); err != nil {
			t.Fatal(err)
		}
		for i := range cm.Entries {
			all = append(all, leaf{o.Key, i})
		}
	}
	if index >= len(all) {
		t.Fatalf("the log has %d entries, no entry %d", len(all), index)
	}
	return all[index]
}

// editEntries rewrites the entries array of a commit object.
func editEntries(change func(entries []json.RawMessage) []json.RawMessage) func([]byte) []byte {
	return func(data []byte) []byte {
		var c map[string]json.RawMessage
		var entries []json.RawMessage
		json.Unmarshal(data, &c)
		json.Unmarshal(c["entries"], &entries)
		c["entries"], _ = json.Marshal(change(entries))
		out, _ := json.Marshal(c)
		return out
	}
}

func TestAuditDetectsTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, c cluster, rs []*vault.Receipt)
		want   []string // the first problem names one of these
	}{
		{"edited leaf", func(t *testing.T, c cluster, rs []*vault.Receipt) {
			l := leafAt(t, c, 0)
			tamper(t, c, l.key, editEntries(func(es []json.RawMessage) []json.RawMessage {
				var e struct {
					ID       string           `json:"id"`
					Envelope receipt.Envelope `json:"envelope"`
				}
				json.Unmarshal(es[l.pos], &e)
				e.Envelope.Payload = strings.Replace(e.Envelope.Payload, "a", "b", 1)
				es[l.pos], _ = json.Marshal(e)
				return es
			}))
		}, []string{"was written over: ledger: verification failed"}},
		{"reordered leaves", func(t *testing.T, c cluster, rs []*vault.Receipt) {
			a, b := leafAt(t, c, 0), leafAt(t, c, 1)
			if a.key == b.key {
				tamper(t, c, a.key, editEntries(func(es []json.RawMessage) []json.RawMessage {
					es[a.pos], es[b.pos] = es[b.pos], es[a.pos]
					return es
				}))
				return
			}
			var ea, eb json.RawMessage
			data, _ := c.store.Get(context.Background(), b.key)
			editEntries(func(es []json.RawMessage) []json.RawMessage { eb = es[b.pos]; return es })(data)
			tamper(t, c, a.key, editEntries(func(es []json.RawMessage) []json.RawMessage { ea, es[a.pos] = es[a.pos], eb; return es }))
			tamper(t, c, b.key, editEntries(func(es []json.RawMessage) []json.RawMessage { es[b.pos] = ea; return es }))
		}, []string{"is not the tree of its entries"}},
		{"deleted leaf", func(t *testing.T, c cluster, rs []*vault.Receipt) {
			l := leafAt(t, c, 1)
			if l.pos > 0 {
				tamper(t, c, l.key, editEntries(func(es []json.RawMessage) []json.RawMessage { return append(es[:l.pos], es[l.pos+1:]...) }))
				return
			}
			// Its commit holds it first: hide the commit object, which
			// reads look beneath.
			c.store.Hide(l.key)
		}, []string{"claims entries", "not on the log's chain", "lies beyond", "log/00000000000000000001.json: 2 versions and delete markers"}},
		{"deleted receipt", func(t *testing.T, c cluster, rs []*vault.Receipt) {
			c.store.Hide("vault/acme/receipts/" + rs[2].Predicate.ReceiptID + ".json")
		}, []string{"receipts/" + "rcp_"}},
		{"replaced checkpoint", func(t *testing.T, c cluster, rs []*vault.Receipt) {
			keys, _ := c.store.List(context.Background(), "ledger/acme/checkpoint/")
			other := newSigner(t)
			tamper(t, c, keys[0].Key, func(data []byte) []byte {
				cp, _ := ledger.ParseCheckpoint(data[:bytes.Index(data, []byte("\n\n"))+1])
				cp.Hash[0] ^= 1
				signed, _ := ledger.SignCheckpoint(context.Background(), other, cp)
				return signed
			})
		}, []string{"differs from the one its commit signed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t, 1, vault.Governance)
			var rs []*vault.Receipt
			for _, tk := range c.uploaded(t, "tamper", 4) {
				r, err := c.nodes[0].Complete(as(alice), tk.UploadID)
				if err != nil {
					t.Fatal(err)
				}
				rs = append(rs, r)
			}
			if rep := c.audit(t); !rep.OK() {
				t.Fatalf("audit before tampering: %q", rep.Problems)
			}
			tt.tamper(t, c, rs)
			rep := c.audit(t)
			found := false
			for _, w := range tt.want {
				found = found || strings.Contains(rep.First(), w)
			}
			if rep.OK() || !found {
				t.Errorf("audit after tampering: first problem %q, want one naming %q (all: %q)", rep.First(), tt.want, rep.Problems)
			}
		})
	}
}

// TestRewrittenHistoryDetectedWithKeptCheckpoint: an auditor who kept a
// checkpoint can tell the log it is shown from any other history.
func TestRewrittenHistoryDetectedWithKeptCheckpoint(t *testing.T) {
	c := newCluster(t, 1, vault.Governance)
	for _, tk := range c.uploaded(t, "kept", 2) {
		if _, err := c.nodes[0].Complete(as(alice), tk.UploadID); err != nil {
			t.Fatal(err)
		}
	}
	kept, err := c.nodes[0].Checkpoint(as(alice), 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep := c.audit(t, kept.Signed); !rep.OK() {
		t.Fatalf("audit with the genuine kept checkpoint: %q", rep.Problems)
	}
	// Another history of the same size, signed with the vault's own key:
	// what an operator who can sign could present later.
	forged, err := ledger.SignCheckpoint(context.Background(), c.signer, ledger.Checkpoint{Origin: vault.LogOrigin(c.bucket, "acme"), Size: kept.Size})
	if err != nil {
		t.Fatal(err)
	}
	rep := c.audit(t, forged)
	if rep.OK() || !strings.Contains(rep.First(), "history was rewritten") {
		t.Errorf("audit with a checkpoint of another history: got %q", rep.Problems)
	}
}

// TestComplianceModeRefusesTampering: in compliance mode the log's
// objects are locked, and storage refuses even the root user's removal of
// a commit (s3store's tests show S3 and MinIO refusing it).
func TestComplianceModeRefusesTampering(t *testing.T) {
	c := newCluster(t, 1, vault.Compliance)
	tk := c.uploaded(t, "locked", 1)[0]
	if _, err := c.nodes[0].Complete(as(alice), tk.UploadID); err != nil {
		t.Fatal(err)
	}
	key := commitKey(t, c)
	info, err := c.store.Stat(context.Background(), key, "")
	if err != nil {
		t.Fatal(err)
	}
	if info.LockMode != vault.Compliance || info.RetainUntil.Before(time.Now().AddDate(15, 0, 0)) {
		t.Errorf("commit locked %s until %v, want COMPLIANCE for more than 15 years", info.LockMode, info.RetainUntil)
	}
	if err := c.store.Remove(key, info.VersionID); err == nil {
		t.Fatal("removing a locked commit version succeeded")
	}
	if rep := c.audit(t); !rep.OK() {
		t.Errorf("audit: %q", rep.Problems)
	}
}

// TestCompleteRequests pins the storage requests of completing a new
// document's upload, alone in its commit, in a warm process: the figures
// docs/ledger.md's capacity note is built on.
func TestCompleteRequests(t *testing.T) {
	c := newCluster(t, 1, vault.Governance)
	tks := c.uploaded(t, "count", 2)
	if _, err := c.nodes[0].Complete(as(alice), tks[0].UploadID); err != nil {
		t.Fatal(err)
	}
	if err := c.nodes[0].Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.store.Calls(true)
	c.scratch.Calls(true)
	if _, err := c.nodes[0].Complete(as(alice), tks[1].UploadID); err != nil {
		t.Fatal(err)
	}
	if err := c.nodes[0].Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	calls := map[string]int{}
	for _, call := range c.store.Calls(false) {
		parts := strings.SplitN(call.Key, "/", 4)
		kind := parts[0]
		if len(parts) > 2 && kind != "evidence" {
			kind = parts[0] + "/" + parts[2]
		}
		calls[strings.ToLower(call.Op)+" "+kind]++
	}
	want := map[string]int{
		"get vault/uploads":        1, // the session
		"stat evidence":            1, // the uploaded version, with its checksum
		"list vault/versions":      1, // the chain, hidden entries included
		"list vault/lifecycle":     2, // the dossier's events: the market status before the claim, legal holds after the commit
		"create vault/versions":    1, // version 1 of a new document
		"list ledger/log":          2, // its position holds no version, before and after (a delete marker does not stop the create)
		"create ledger/log":        1, // the commit
		"create ledger/tile":       1, // the level-0 partial tile
		"create vault/receipts":    1, // the bundle
		"create ledger/checkpoint": 1,
	}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("requests of one complete: got %v, want %v", calls, want)
	}
	// In the scratch bucket, one process alone (a Lambda instance, which
	// lets go of the lease after each append): taking the lease again,
	// looking for others' entries, releasing it and looking once more,
	// and the head hint.
	scratch := map[string]int{}
	for _, call := range c.scratch.Calls(false) {
		scratch[call.Op]++
	}
	wantScratch := map[string]int{"Scratch.Swap": 2, "Scratch.List": 2, "Scratch.Put": 1}
	if fmt.Sprint(scratch) != fmt.Sprint(wantScratch) {
		t.Errorf("scratch requests of one complete: got %v, want %v", scratch, wantScratch)
	}
}

// TestLogEntries: a reader gets the log's entries to recompute its tree,
// in full only where it may read the dossier (and for key events).
func TestLogEntries(t *testing.T) {
	f := setup(t, vault.Config{})
	a := f.sealed(t, "a.txt", []byte("a"))
	other, err := f.svc.CreateDossier(as(alice), dossierInput(udiB, false))
	if err != nil {
		t.Fatal(err)
	}
	b := fixture{svc: f.svc, store: f.store, dossier: other}.sealed(t, "b.txt", []byte("b"))
	cp, err := f.svc.Checkpoint(as(alice), 0)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := f.svc.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	genesis := "key-genesis-" + keys[0].KeyID
	auditor := vault.Identity{Tenant: "acme", Subject: "auditor@nb0197.example", Role: vault.RoleAuditor, Dossiers: []string{f.dossier.ID}}
	tests := []struct {
		name    string
		id      vault.Identity
		dossier string
		full    []string
	}{
		{"the tenant's uploader", alice, "", []string{genesis, a.Predicate.ReceiptID, b.Predicate.ReceiptID}},
		{"one dossier asked for", alice, other.ID, []string{genesis, b.Predicate.ReceiptID}},
		{"an auditor of one dossier", auditor, "", []string{genesis, a.Predicate.ReceiptID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.svc.LogEntries(as(tt.id), 0, 100, tt.dossier)
			if err != nil {
				t.Fatal(err)
			}
			var full []string
			var hashes []tlog.Hash
			for i, e := range got.Entries {
				if e.Index != int64(i) || len(e.Hash) != tlog.HashSize {
					t.Fatalf("entry %d: got index %d, %d-byte hash", i, e.Index, len(e.Hash))
				}
				if e.Envelope != nil {
					full = append(full, e.ID)
				}
				hashes = append(hashes, tlog.Hash(e.Hash))
			}
			if fmt.Sprint(full) != fmt.Sprint(tt.full) {
				t.Errorf("got entries in full %v, want %v", full, tt.full)
			}
			root, err := ledger.TreeHash(hashes)
			if err != nil || !strings.Contains(string(cp.Signed), base64.StdEncoding.EncodeToString(root[:])) || cp.Size != 3 {
				t.Errorf("the entries' tree is not the checkpoint's: %x %v\n%s", root, err, cp.Signed)
			}
		})
	}
}

// passed reports whether v holds check name, passed.
func passed(v *vault.Verification, name string) bool {
	for _, c := range v.Checks {
		if c.Name == name {
			return c.Passed
		}
	}
	return false
}

// TestPendingEntrySignedByARetiredKey: whoever holds a retired key and can
// write the scratch bucket leaves a receipt it signed after the rotation as
// a pending entry; the holder does not append it, and the audit of the log
// stays clean.
func TestPendingEntrySignedByARetiredKey(t *testing.T) {
	store, scratch := memstore.New("evidence"), memstore.NewScratch("scratch")
	st := store.Storage()
	st.Scratch = scratch
	k1, k2 := newSigner(t), newSigner(t)
	first := vault.New(st, k1, vault.Config{Bucket: store.Bucket(), Logger: slog.New(slog.DiscardHandler)})
	d, err := first.CreateDossier(as(alice), dossierInput(udiA, false))
	if err != nil {
		t.Fatal(err)
	}
	old := fixture{svc: first, store: store, dossier: d}.sealed(t, "a.txt", []byte("signed by the first key"))
	second := vault.New(st, k2, vault.Config{Bucket: store.Bucket(), Previous: k1, Logger: slog.New(slog.DiscardHandler)})
	fixture{svc: second, store: store, dossier: d}.sealed(t, "b.txt", []byte("after the rotation"))

	// The retired key signs a receipt of its own making.
	record, _ := json.Marshal(old.Envelope)
	_, stmt, err := receipt.Parse(record)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	json.Unmarshal(stmt.Predicate, &p)
	p["receiptId"] = "rcp_forgedbytheretiredkey00"
	stmt.Predicate, _ = json.Marshal(p)
	env, err := receipt.Sign(context.Background(), *stmt, k1)
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := receipt.Marshal(env)
	pending, _ := json.Marshal(map[string]any{"process": "x", "entries": []map[string]any{{"id": "rcp_forgedbytheretiredkey00", "envelope": json.RawMessage(forged)}}})
	scratch.Overwrite("sequencer/ledger/acme/pending/x-1.json", pending)

	fixture{svc: second, store: store, dossier: d}.sealed(t, "c.txt", []byte("the next seal"))
	cp, err := second.Checkpoint(as(alice), 0)
	if err != nil {
		t.Fatal(err)
	}
	es, err := second.LogEntries(as(alice), 0, cp.Size, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es.Entries {
		if strings.Contains(e.ID, "forged") {
			t.Errorf("entry %d of the log is %s, signed by the retired key", e.Index, e.ID)
		}
	}
	if rep, err := second.Audit(as(bob)); err != nil || !rep.OK() {
		t.Errorf("audit: %+v, %v", rep, err)
	}
	if _, ok := scratch.Body("sequencer/ledger/acme/pending/x-1.json"); ok {
		t.Error("the refused pending object is still there")
	}
}

// TestEventAfterComplete: the storage event of an upload its client
// completed in this process costs the stat of the object and the read of
// its receipt, not a seal's reads, and answers the same receipt.
func TestEventAfterComplete(t *testing.T) {
	c := newCluster(t, 1, vault.Governance)
	tks := c.uploaded(t, "event", 1)
	r, err := c.nodes[0].Complete(as(alice), tks[0].UploadID)
	if err != nil {
		t.Fatal(err)
	}
	key := "evidence/acme/" + c.dossier.ID + "/" + tks[0].Path
	c.store.Calls(true)
	again, err := c.nodes[0].SealObject(context.Background(), key, r.Predicate.Storage.VersionID)
	if err != nil || again.Predicate.ReceiptID != r.Predicate.ReceiptID {
		t.Fatalf("event after complete: %+v, %v; want receipt %s", again, err, r.Predicate.ReceiptID)
	}
	var ops []string
	for _, call := range c.store.Calls(false) {
		ops = append(ops, call.Op)
	}
	if got, want := strings.Join(ops, " "), "Stat Get"; got != want {
		t.Errorf("requests of the event: got %q, want %q", got, want)
	}
}
