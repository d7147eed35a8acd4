package tamper_test

// Commits and tiles written over, or planted ahead, with and without a
// retired key; the Keeper's dedup path; log entries served from them.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/evidencevault/vault/internal/testenv"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
	"golang.org/x/mod/sumdb/tlog"
)

func commitObject(start int64) string { return fmt.Sprintf("ledger/%s/log/%020d.json", tenant, start) }

type rawCommit struct {
	Start      int64             `json:"start"`
	Size       int64             `json:"size"`
	Time       time.Time         `json:"time"`
	Entries    []json.RawMessage `json:"entries"`
	Checkpoint string            `json:"checkpoint"`
}

// logHashes returns the leaf hashes of the log's entries 0..n.
func (tg *target) logHashes(t *testing.T, svc *vault.Service, n int64) []tlog.Hash {
	t.Helper()
	ctx := vault.NewContext(context.Background(), uploader)
	var out []tlog.Hash
	for len(out) < int(n) {
		es, err := svc.LogEntries(ctx, int64(len(out)), n, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es.Entries {
			out = append(out, tlog.Hash(e.Hash))
		}
	}
	return out
}

// forgedEnvelope is a receipt envelope signed by signer for a version
// never sealed, and its leaf.
func (tg *target) forgedEnvelope(t *testing.T, signer *receipt.LocalSigner, id string) (json.RawMessage, []byte) {
	t.Helper()
	var b vault.Bundle
	json.Unmarshal(tg.forgeBundle(signer, tg.report2, []byte("forged\n")), &b)
	var env receipt.Envelope
	json.Unmarshal(b.Envelope, &env)
	leaf, err := receipt.Payload(&env)
	if err != nil {
		t.Fatal(err)
	}
	return b.Envelope, leaf
}

// commitAtSize returns the commit (start) that ends at size.
func (tg *target) commitEnding(t *testing.T, size int64) (int64, rawCommit) {
	t.Helper()
	for _, k := range tg.keys(fmt.Sprintf("ledger/%s/log/", tenant)) {
		var c rawCommit
		if json.Unmarshal(tg.get(k), &c) == nil && c.Size == size {
			return c.Start, c
		}
	}
	t.Fatalf("no commit ends at %d", size)
	return 0, rawCommit{}
}

// overwriteCommitWithRetired writes over the commit ending at r (inside
// K0's span) a commit of the same place whose last entry is a receipt K0
// signs for a version never sealed, with a checkpoint K0 signs over the
// tree it makes. It returns the forged commit's key and root.
func (tg *target) overwriteCommitWithRetired(t *testing.T, svc *vault.Service, k0 *receipt.LocalSigner, r int64) (string, string) {
	t.Helper()
	key, body, rootLine := tg.retiredCommit(t, svc, k0, r)
	tg.put(key, body)
	return key, rootLine
}

// retiredCommit makes the commit ending at r over again with its last
// entry replaced by a receipt k0 signs today, under a checkpoint k0 signs
// over the tree that makes. It returns the commit's key, the forged body
// and the forged checkpoint's root line.
func (tg *target) retiredCommit(t *testing.T, svc *vault.Service, k0 *receipt.LocalSigner, r int64) (string, []byte, string) {
	t.Helper()
	start, c := tg.commitEnding(t, r)
	hashes := tg.logHashes(t, svc, r)
	env, leaf := tg.forgedEnvelope(t, k0, "rcp_forgedforgedforgedforged")
	hashes[r-1] = ledger.LeafHash(leaf)
	root, err := ledger.TreeHash(hashes)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := ledger.SignCheckpoint(context.Background(), k0, ledger.Checkpoint{Origin: vault.LogOrigin(tg.bucket, tenant), Size: r, Hash: root})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := json.Marshal(map[string]any{"id": "rcp_forgedforgedforgedforged", "envelope": env})
	c.Entries[len(c.Entries)-1] = e
	c.Checkpoint = string(signed)
	body, _ := json.Marshal(c)
	return commitObject(start), body, strings.Split(string(signed), "\n")[2]
}

// TestRetiredCommitOverEntries (retired key + bucket): after K0 -> K1,
// K0's holder writes over a commit inside K0's span a commit of the same
// place and size, one entry replaced by a receipt K0 signs today, with a
// checkpoint K0 signs over the tree it makes. readCommit takes the newest
// version that opens (signature and size only), so GET /v1/log/entries
// serves the forged entry as the log's.
func TestRetiredCommitOverEntries(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	r := tg.logSize(t)
	k1 := tg.rotate(t)
	svc := tg.restartWith(k1, nil)
	key, root := tg.overwriteCommitWithRetired(t, svc, k0, r)
	t.Logf("forged commit over %s (root %s)", key, root)
	tg.restartWith(k1, nil)
	code, body := tg.raw(t, "GET", fmt.Sprintf("/v1/log/entries?start=0&end=%d", r+5), nil)
	t.Logf("GET entries: %d %.200s", code, body)
	if strings.Contains(body, "rcp_forgedforgedforgedforged") {
		t.Errorf("GET /v1/log/entries serves the entry of a commit K0 wrote over the log's (code %d)", code)
	}
	if code >= 500 {
		t.Errorf("GET entries: %d", code)
	}
	c, out, errOut := tg.evault("export", tg.dossier.ID, "--out", t.TempDir()+"/b")
	t.Logf("export: %d %s%s", c, out, errOut)
	if c != 0 {
		t.Errorf("export with the log's own commit intact beneath: exit %d", c)
	}
	tg.checkReaders(t, "after commit written over")
	rep := tg.auditPins(t, "pin K0", k0.Key())
	if !mentions(rep, key) {
		t.Errorf("audit does not name %s", key)
	}
}

// TestRetiredCommitOverColdStart: the same forged commit, and junk over
// the head hint, so that a cold start reads the log from its start:
// refresh's firstValid takes the newest version that opens, and
// openCommit's tree check holds for the forged tree too (it is of its own
// entries).
func TestRetiredCommitOverColdStart(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	r := tg.logSize(t)
	k1 := tg.rotate(t)
	svc := tg.restartWith(k1, nil)
	latest, err := svc.Checkpoint(vault.NewContext(context.Background(), uploader), 0)
	if err != nil {
		t.Fatal(err)
	}
	key, root := tg.overwriteCommitWithRetired(t, svc, k0, r)
	tg.put(fmt.Sprintf("ledger/%s/head.json", tenant), []byte("junk"))
	svc = tg.restartWith(k1, nil)
	code, body := tg.raw(t, "GET", "/v1/log/checkpoint", nil)
	t.Logf("GET checkpoint: %d %.300s", code, body)
	if strings.Contains(body, root) {
		t.Errorf("the vault serves K0's forged checkpoint as the log's latest")
	}
	cp, err := svc.Checkpoint(vault.NewContext(context.Background(), uploader), 0)
	t.Logf("latest before %d, now %+v err %v", latest.Size, cp, err)
	if err == nil && cp.Size != latest.Size {
		t.Errorf("the log reads as %d entries, was %d", cp.Size, latest.Size)
	}
	if err := tg.trySeal(svc, "after-forged-commit.txt", []byte("after\n")); err != nil {
		t.Errorf("seal after a commit inside the log written over: %v", err)
	}
	tg.checkReaders(t, "cold start")
	rep := tg.auditPins(t, "pin K0", k0.Key())
	if !mentions(rep, key) {
		t.Errorf("audit does not name %s", key)
	}
}

// TestRetiredCommitAndTileOverColdStart: as TestRetiredCommitOverColdStart,
// with the partial tile the forged commit implies written over the log's
// too. The cold start finishes the forged commit: it keeps its receipt
// and writes K0's checkpoint over the log's own, then serves it.
func TestRetiredCommitAndTileOverColdStart(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	r := tg.logSize(t)
	if r >= 256 {
		t.Fatalf("the target's log has %d entries; this attack forges its one partial tile, which needs fewer than 256", r)
	}
	k1 := tg.rotate(t)
	svc := tg.restartWith(k1, nil)
	realCP := tg.get(cpObject(r))
	hashes := tg.logHashes(t, svc, r)
	key, root := tg.overwriteCommitWithRetired(t, svc, k0, r)
	_, leaf := tg.forgedEnvelope(t, k0, "")
	hashes[r-1] = ledger.LeafHash(leaf)
	var tile []byte
	for _, h := range hashes {
		tile = append(tile, h[:]...)
	}
	tileKey := fmt.Sprintf("ledger/%s/tile/8/0/000.p/%d", tenant, r)
	tg.put(tileKey, tile)
	tg.put(fmt.Sprintf("ledger/%s/head.json", tenant), []byte("junk"))
	svc = tg.restartWith(k1, nil)
	code, body := tg.raw(t, "GET", "/v1/log/checkpoint", nil)
	t.Logf("GET checkpoint: %d %.300s", code, body)
	if strings.Contains(body, root) {
		t.Errorf("the vault serves K0's forged checkpoint (root %s) as the log's latest", root)
	}
	if now := tg.get(cpObject(r)); string(now) != string(realCP) {
		t.Errorf("the vault wrote a checkpoint the log did not make over %s:\n%s", cpObject(r), now)
	}
	t.Logf("receipt objects: %v", tg.keys("vault/"+tenant+"/receipts/rcp_forged"))
	code, body = tg.raw(t, "GET", "/v1/log/keys", nil)
	t.Logf("GET log keys: %d %.200s", code, body)
	err := tg.trySeal(svc, "after-forged.txt", []byte("after\n"))
	t.Logf("seal: %v", err)
	c, out, errOut := tg.evault("log", "check")
	t.Logf("log check: %d %s%s", c, out, errOut)
	rep := tg.auditPins(t, "pin K0", k0.Key())
	if !mentions(rep, key) {
		t.Errorf("audit does not name %s", key)
	}
}

// TestRetiredKeptRecordDedup (retired key + bucket): after K0 -> K1, an
// upload is started; the log grows and the vault restarts, so that its
// seal asks the Keeper whether the receipt is already logged. K0's holder
// plants at the receipt's key a bundle K0 signs, with a log proof in a
// tree of their own of a size past K0's span. kept() verifies it with
// every key the log ever had (not the keys of its size): the seal
// answers with the planted receipt and never logs the upload.
func TestRetiredKeptRecordDedup(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	k1 := tg.rotate(t)
	svc := tg.restartWith(k1, nil)
	ctx := vault.NewContext(context.Background(), uploader)
	body := []byte("a document whose receipt a retired key pre-claims\n")
	tk, err := svc.StartUpload(ctx, tg.dossier.ID, document("preclaimed-k0.txt", body))
	if err != nil {
		t.Fatal(err)
	}
	testenv.Put(t, tk.Upload, bytes.NewReader(body), int64(len(body)))
	if err := tg.trySeal(svc, "grow.txt", []byte("the log grows\n")); err != nil {
		t.Fatal(err)
	}
	svc.Flush(ctx)
	n := tg.sizeWith(t, k1)
	id := "rcp_" + strings.TrimPrefix(tk.UploadID, "upl_")
	// K0 signs a statement for this receipt id (another file hash).
	p := tg.report2.Predicate
	p.ReceiptID = id
	p.Document.Path = "preclaimed-k0.txt"
	p.Document.File.SHA256 = strings.Repeat("ab", 32)
	raw, _ := json.Marshal(p)
	env, err := receipt.Sign(context.Background(), receipt.Statement{
		Subject:       []receipt.Subject{{Name: p.Document.Path, Digest: map[string]string{"sha256": p.Document.File.SHA256}}},
		PredicateType: vault.PredicateType, Predicate: raw}, k0)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := receipt.Payload(env)
	envJSON, _ := json.Marshal(env)
	leaves := fillers(n + 3)
	idx := n + 1
	leaves[idx] = leaf
	signed, proof := madeUpTree(t, k0, vault.LogOrigin(tg.bucket, tenant), leaves, idx)
	b, _ := json.Marshal(vault.Bundle{Envelope: envJSON, Log: &ledger.Proof{Origin: vault.LogOrigin(tg.bucket, tenant), Index: idx, Checkpoint: signed, Inclusion: proof}})
	object := "vault/" + tenant + "/receipts/" + id + ".json"
	tg.put(object, b)
	svc = tg.restartWith(k1, nil)
	rc, err := svc.Complete(ctx, tk.UploadID)
	if err != nil {
		t.Logf("complete: %v", err)
		if !strings.Contains(err.Error(), object) {
			t.Errorf("complete refused without naming %s: %v", object, err)
		}
	} else {
		t.Logf("complete: receipt sha256 %s, log index %d, checkpoint %.80q", rc.Predicate.Document.File.SHA256, rc.Log.Index, rc.Log.Checkpoint)
		if rc.Log.Checkpoint == signed || rc.Predicate.Document.File.SHA256 == p.Document.File.SHA256 {
			t.Errorf("the seal answers with the receipt K0 planted (a tree of its own, size %d, past K0's span)", n+3)
		}
	}
	if after := tg.sizeWith(t, k1); after == n {
		t.Errorf("the upload was never logged (log still %d entries)", n)
	}
	code, out := tg.raw(t, "GET", "/v1/dossiers/"+tg.dossier.ID+"/download?path=preclaimed-k0.txt", nil)
	t.Logf("download: %d %.900s", code, out)
	if code >= 500 {
		t.Errorf("download: %d", code)
	}
	rep := tg.auditPins(t, "pin K0", k0.Key())
	if !mentions(rep, object) {
		t.Errorf("audit does not name %s", object)
	}
}

// TestTilePlantedAhead (bucket access only): junk at the partial tile the
// next commit will write (tile/8/0/000.p/{n+1}). finish writes tiles with
// createOrMatch, not createOrSupersede: the seal fails and the log stops
// growing, by one object anyone with bucket access can compute.
func TestTilePlantedAhead(t *testing.T) {
	tg := newTarget(t)
	n := tg.logSize(t)
	tileKey := fmt.Sprintf("ledger/%s/tile/8/0/000.p/%d", tenant, n+1)
	tg.put(tileKey, []byte("junk"))
	err := tg.trySeal(tg.restart(), "after-tile.txt", []byte("after a planted tile\n"))
	t.Logf("seal: %v", err)
	if err != nil {
		t.Errorf("seal with a tile planted ahead: %v", err)
	}
	err = tg.trySeal(tg.restart(), "after-tile2.txt", []byte("again\n"))
	t.Logf("second seal: %v", err)
	if err != nil {
		t.Errorf("second seal with a tile planted ahead: %v", err)
	}
	tg.checkReaders(t, "tile ahead")
	rep := tg.audit()
	t.Logf("audit: %v", rep.Problems)
	if !mentions(rep, tileKey) {
		t.Errorf("audit does not name %s", tileKey)
	}
}
