package tamper_test

// Attacks by the holder of a retired key, with and without the bucket: a
// forked key history (a rotation from the retired key to their own, proven
// only in a tree they made up), a verdict forged on top of it, a bundle
// that rotates to their key; and a receipt written over after its seal.

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/evidencevault/vault/internal/bundle"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
	"golang.org/x/mod/sumdb/tlog"
)

// restartWith replaces the vault with a fresh process signing with signer,
// prev as the key it replaces (nil: none).
func (tg *target) restartWith(signer, prev *receipt.LocalSigner) *vault.Service {
	cfg := vault.Config{Bucket: tg.bucket, Logger: testenv.Logger(tg.t)}
	if prev != nil {
		cfg.Previous = prev
	}
	svc := vault.New(tg.store.Storage(), signer, cfg)
	h := httpapi.New(svc, tg.issuer.Verifier(), testenv.Logger(tg.t)).Handler()
	tg.handler.Store(&h)
	return svc
}

// madeUpTree returns a checkpoint signed by signer over a tree whose
// leaves are leaves (hashed), and the inclusion proof of leaf index.
func madeUpTree(t *testing.T, signer *receipt.LocalSigner, origin string, leaves [][]byte, index int64) (string, ledger.Hashes) {
	t.Helper()
	var hashes []tlog.Hash
	for _, l := range leaves {
		hashes = append(hashes, ledger.LeafHash(l))
	}
	root, err := ledger.TreeHash(hashes)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := ledger.SignCheckpoint(context.Background(), signer, ledger.Checkpoint{Origin: origin, Size: int64(len(leaves)), Hash: root})
	if err != nil {
		t.Fatal(err)
	}
	// tlog's proof from an in-memory hash reader.
	store := map[int64]tlog.Hash{}
	for i, h := range hashes {
		hs, err := tlog.StoredHashes(int64(i), leaves[i], hashReader(store))
		if err != nil {
			t.Fatal(err)
		}
		_ = h
		base := tlog.StoredHashIndex(0, int64(i))
		for j, x := range hs {
			store[base+int64(j)] = x
		}
	}
	proof, err := tlog.ProveRecord(int64(len(leaves)), index, hashReader(store))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed), ledger.Hashes(proof)
}

type hashReader map[int64]tlog.Hash

func (r hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := r[x]
		if !ok {
			return nil, fmt.Errorf("no hash %d", x)
		}
		out[i] = h
	}
	return out, nil
}

// forgedRotation is what the holder of the retired key old makes: a
// rotation from old to atk, signed by both, placed at index of a made-up
// tree that atk signs. It proves itself (selectHistory's ownProof) but is
// in no checkpoint of the real log.
func (tg *target) forgedRotation(t *testing.T, old, atk *receipt.LocalSigner, index int64, object string) (string, []byte) {
	t.Helper()
	origin := vault.LogOrigin(tg.bucket, tenant)
	prev := pubKey(old.Key())
	ev := vault.KeyEvent{Event: vault.KeyRotation, Log: origin, Key: pubKey(atk.Key()), Previous: &prev, At: time.Now().UTC()}
	envJSON, leaf := keyEventEnvelope(t, ev, atk, old)
	leaves := [][]byte{}
	for i := int64(0); i < index; i++ {
		leaves = append(leaves, []byte(fmt.Sprintf("filler %d", i)))
	}
	leaves = append(leaves, leaf)
	cp, proof := madeUpTree(t, atk, origin, leaves, index)
	if object == "" {
		object = "vault/" + tenant + "/keyevents/key-rotation-" + atk.Key().ID + ".json"
	}
	tg.put(object, mustJSON(vault.Bundle{Envelope: envJSON, Log: &ledger.Proof{Origin: origin, Index: index, Checkpoint: cp, Inclusion: proof}}))
	return object, leaf
}

func (tg *target) verifyResp(t *testing.T, body map[string]any) vault.Verification {
	t.Helper()
	var v vault.Verification
	tg.call(t, "POST", "/v1/verify", body, &v)
	return v
}

// TestRetiredKeyForksKeyChain: after a rotation K0 -> K1 (the
// vault configured with K1 and K0 as Previous, as rotate and the CDK do),
// the holder of the retired K0, with bucket access, plants a rotation
// K0 -> K2 (their own key) at index 1 of a tree K2 signs. selectHistory
// checks the event only against its own checkpoint, builds the chain
// greedily (the first rotation from K0 by index wins), and the real
// rotation at 4 is dropped. The vault then trusts K2 as its tenant's
// current key.
func TestRetiredKeyForksKeyChain(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	k1 := tg.rotate(t)
	atk := testenv.Signer(t)
	object, _ := tg.forgedRotation(t, k0, atk, 1, "")

	tg.restartWith(k1, k0)
	v := tg.verifyResp(t, map[string]any{"receipt": tg.report2.Bundle()})
	t.Logf("POST /v1/verify of the real report v2 after the forged rotation: valid=%v trusted=%+v", v.Valid, v.Trusted)
	for _, k := range v.Trusted.Keys {
		if k == atk.Key().ID {
			t.Errorf("the vault (K1, previous K0) trusts the retired key holder's key K2 %s after one planted object %s: %+v", atk.Key().ID, object, v.Trusted)
		}
	}
	code, body := tg.raw(t, "GET", "/v1/log/keys", nil)
	t.Logf("GET /v1/log/keys: %d %.400s", code, body)
	if strings.Contains(body, atk.Key().ID) {
		t.Errorf("GET /v1/log/keys serves the forged rotation to %s as the log's history", atk.Key().ID)
	}
	if code >= 500 {
		t.Errorf("GET /v1/log/keys: %d", code)
	}
	err := tg.trySeal(tg.restartWith(k1, k0), "after-fork.txt", []byte("after the fork\n"))
	t.Logf("seal after the forged rotation: %v", err)
	if err != nil {
		t.Errorf("one object planted by a retired key's holder stops the tenant's seals: %v", err)
	}
	c, out, errOut := tg.evault("log", "check")
	t.Logf("log check: %d %s%s", c, out, errOut)
	for _, pins := range [][]receipt.Key{{k1.Key()}, {k0.Key()}, {k1.Key(), k0.Key()}} {
		rep, err := vault.AuditLog(context.Background(), tg.store.Storage(), tg.bucket, tenant, pins)
		if err != nil {
			t.Errorf("audit: %v", err)
			continue
		}
		t.Logf("audit pinned %d keys: %d problems; first %q", len(pins), len(rep.Problems), rep.First())
		named := false
		for _, p := range rep.Problems {
			named = named || strings.Contains(p, object)
		}
		if !named {
			t.Errorf("audit (pins %d) does not name %s: %q", len(pins), object, rep.Problems)
		}
	}
}

// TestRetiredKeyForkNoPrevious: the same, with the vault configured
// with K1 alone (Previous dropped once the rotation is logged): the
// tenant is stopped for good by one object (which the operator can lock).
func TestRetiredKeyForkNoPrevious(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	k1 := tg.rotate(t)
	atk := testenv.Signer(t)
	object, _ := tg.forgedRotation(t, k0, atk, 1, "")
	tg.restartWith(k1, nil)
	for _, path := range []string{"/v1/keys", "/v1/log/keys", "/v1/log/checkpoint", "/v1/dossiers/" + tg.dossier.ID + "/documents",
		"/v1/dossiers/" + tg.dossier.ID + "/download?path=" + reportPath} {
		code, body := tg.raw(t, "GET", path, nil)
		t.Logf("GET %s: %d %.300s", path, code, body)
		if code >= 400 {
			t.Errorf("GET %s after a planted rotation of the retired key: %d", path, code)
		}
	}
	v := tg.verifyResp(t, map[string]any{"receipt": tg.report2.Bundle()})
	t.Logf("verify real report v2: valid=%v", v.Valid)
	if err := tg.trySeal(tg.restartWith(k1, nil), "after-fork.txt", []byte("x\n")); err != nil {
		t.Errorf("seal after %s: %v", object, err)
	}
}

// TestRetiredKeyForkSameIndex: the forged rotation claims the real
// rotation's own index (4) under an object name that lists first: the
// chain keeps the first of two events at one index ("a copy") and drops
// the real one.
func TestRetiredKeyForkSameIndex(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	k1 := tg.rotate(t)
	atk := testenv.Signer(t)
	object, _ := tg.forgedRotation(t, k0, atk, 4, "vault/"+tenant+"/keyevents/a.json")
	tg.restartWith(k1, k0)
	v := tg.verifyResp(t, map[string]any{"receipt": tg.report2.Bundle()})
	t.Logf("verify: valid=%v trusted=%+v", v.Valid, v.Trusted)
	for _, k := range v.Trusted.Keys {
		if k == atk.Key().ID {
			t.Errorf("forged rotation at the real rotation's index (%s) replaces it: K2 trusted", object)
		}
	}
	if err := tg.trySeal(tg.restartWith(k1, k0), "after-fork.txt", []byte("x\n")); err != nil {
		t.Errorf("seal after %s: %v", object, err)
	}
}

// TestRetiredKeyForgesVerdict: with the fork above, the holder of
// K0 writes, over report v2's receipt object, a receipt of the same id and
// stored version with a title the vault never sealed, signed by K2 and
// placed in a tree K2 signs. POST /v1/verify (no pin, the vault's own
// trust) then answers valid: in_log compares it with itself.
func TestRetiredKeyForgesVerdict(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	k1 := tg.rotate(t)
	atk := testenv.Signer(t)
	_, rotLeaf := tg.forgedRotation(t, k0, atk, 1, "")
	origin := vault.LogOrigin(tg.bucket, tenant)
	envJSON := resign(t, atk, tg.report2, func(p *vault.ReceiptPredicate) { p.Document.Title = "A title the vault never sealed" })
	var env receipt.Envelope
	json.Unmarshal(envJSON, &env)
	leaf, _ := receipt.Payload(&env)
	cp, proof := madeUpTree(t, atk, origin, [][]byte{[]byte("filler 0"), rotLeaf, leaf}, 2)
	forged := mustJSON(vault.Bundle{Envelope: envJSON, Log: &ledger.Proof{Origin: origin, Index: 2, Checkpoint: cp, Inclusion: proof}})
	tg.put(tg.receiptObject(tg.report2), forged)

	tg.restartWith(k1, k0)
	v := tg.verifyResp(t, map[string]any{"receipt": json.RawMessage(forged)})
	t.Logf("verify forged: valid=%v checks=%+v trusted=%+v", v.Valid, v.Checks, v.Trusted)
	if v.Valid {
		t.Errorf("POST /v1/verify: a receipt the vault never sealed (title changed, signed by the retired key holder's K2) is valid")
	}
	// A caller who pinned K0 before the rotation (evault's first use) and
	// asks the vault to check against that pin.
	v = tg.verifyResp(t, map[string]any{"receipt": json.RawMessage(forged), "key": string(k0.Key().PEM())})
	t.Logf("verify forged, pinned K0: valid=%v trusted=%+v", v.Valid, v.Trusted)
	if v.Valid {
		t.Errorf("POST /v1/verify with the caller's pin of K0: the forged receipt is valid")
	}
	code, body := tg.raw(t, "GET", "/v1/dossiers/"+tg.dossier.ID+"/download?path="+reportPath, nil)
	t.Logf("download: %d %.600s", code, body)
	if strings.Contains(body, "never sealed") {
		t.Errorf("download serves the forged receipt")
	}
}

// TestReceiptWrittenOverAfterSeal: report v2's sealed receipt
// object written over with report v1's (a well-formed bundle of the same
// tenant), and, separately, with a bundle of another tenant's id.
func TestReceiptWrittenOverAfterSeal(t *testing.T) {
	tg := newTarget(t)
	object := tg.receiptObject(tg.report2)
	tg.put(object, tg.get(tg.receiptObject(tg.report1)))
	v := tg.verifyResp(t, map[string]any{"receipt": tg.report2.Bundle()})
	if !v.Valid {
		t.Errorf("verify of the real report v2 after its receipt object was written over: %+v", v.Checks)
	}
	tg.survived(t, object)
}

// TestRetiredKeyBundleRotatesToOwnKey: the holder of the retired
// key K0 alone (no bucket access) forges a bundle whose key history is the
// real genesis and a rotation K0 -> K2 (their key) at the real rotation's
// index 4, over a made-up tree K2 signs, with a receipt at 5 signed by K2.
// The auditor pinned K0 before the rotation and has since checked the log
// (its pin knows K0 until 4, then K1). sameSpans checks only that K0 is
// retired at 4; nothing checks who the key from 4 on is.
func TestRetiredKeyBundleRotatesToOwnKey(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	tg.rotate(t)
	if code, out, errOut := tg.evault("log", "check"); code != 0 {
		t.Fatalf("log check: %d %s%s", code, out, errOut)
	}
	dir := tg.exported(t)
	m, err := bundle.ReadManifest(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	var kl vault.KeyLog
	data, _ := os.ReadFile(filepath.Join(dir, bundle.KeyHistoryFile))
	if err := json.Unmarshal(data, &kl); err != nil || len(kl.Events) != 2 {
		t.Fatalf("key history: %v, %d events", err, len(kl.Events))
	}
	var genEnv receipt.Envelope
	json.Unmarshal(kl.Events[0].Envelope, &genEnv)
	genLeaf, _ := receipt.Payload(&genEnv)

	atk := testenv.Signer(t)
	origin := m.Log.Origin
	prev := pubKey(k0.Key())
	ev := vault.KeyEvent{Event: vault.KeyRotation, Log: origin, Key: pubKey(atk.Key()), Previous: &prev, At: time.Now().UTC()}
	rotJSON, rotLeaf := keyEventEnvelope(t, ev, atk, k0)

	body := []byte("what the retired key's holder wants the notified body to see\n")
	forged := tg.forgeBundle(atk, tg.report2, body)
	var b vault.Bundle
	json.Unmarshal(forged, &b)
	var env receipt.Envelope
	json.Unmarshal(b.Envelope, &env)
	leaf, _ := receipt.Payload(&env)

	leaves := [][]byte{genLeaf, []byte("f1"), []byte("f2"), []byte("f3"), rotLeaf, leaf}
	cp, pGen := madeUpTree(t, atk, origin, leaves, 0)
	_, pRot := madeUpTree(t, atk, origin, leaves, 4)
	_, pRcp := madeUpTree(t, atk, origin, leaves, 5)
	kl = vault.KeyLog{Origin: origin, Checkpoint: cp, Events: vault.KeyHistory{
		{Envelope: kl.Events[0].Envelope, Log: &ledger.Proof{Origin: origin, Index: 0, Checkpoint: cp, Inclusion: pGen}},
		{Envelope: rotJSON, Log: &ledger.Proof{Origin: origin, Index: 4, Checkpoint: cp, Inclusion: pRot}},
	}}
	b.Log = &ledger.Proof{Origin: origin, Index: 5, Checkpoint: cp, Inclusion: pRcp}
	forged, _ = json.Marshal(b)
	r, _ := vault.OpenReceipt(forged)
	var docs []bundle.Document
	for _, d := range m.Documents {
		if d.Path == reportPath {
			d.Version, d.ReceiptID, d.LogIndex = r.Predicate.Version, r.Predicate.ReceiptID, 5
			d.SHA256, d.Size = r.Predicate.Document.File.SHA256, r.Predicate.Document.File.Size
			docs = append(docs, d)
		}
	}
	m.Documents = docs
	m.Log.Size, m.Log.Checkpoint = int64(len(leaves)), cp
	os.RemoveAll(filepath.Join(dir, "files", "clinical"))
	os.RemoveAll(filepath.Join(dir, "receipts", "clinical"))
	os.Remove(filepath.Join(dir, "files", "after-rotation.txt"))
	os.Remove(filepath.Join(dir, "receipts", "after-rotation.txt.receipt.json"))
	writeBundle(t, dir, m, map[string][]byte{
		bundle.FileName(reportPath): body, bundle.ReceiptName(reportPath): forged, bundle.CheckpointFile: []byte(cp),
		bundle.KeyHistoryFile: mustJSON(kl)})
	code, out, errOut := tg.evault("verify-bundle", dir)
	t.Logf("verify-bundle: %d\n%s%s", code, out, errOut)
	if code == 0 {
		t.Errorf("verify-bundle (pin K0, known K0 until 4 then K1) of a bundle forged by K0's holder, rotating to their own key at 4: VALID")
	}
}
