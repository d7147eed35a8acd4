package tamper_test

// Attacks on the key history and on records the vault writes at keys
// anyone can predict: planted key events and receipts, retired keys
// signing again, bundles stripped of their history.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/bundle"
	"github.com/evidencevault/vault/internal/evault"
	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

// raw makes one API request as the auditor and returns status and body.
func (tg *target) raw(t *testing.T, method, path string, body []byte) (int, string) {
	t.Helper()
	tok := tg.issuer.Token(t, auditor)
	req, _ := http.NewRequest(method, tg.api+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// rotate restarts the vault with a new key, the old one as Previous, and
// seals one more version so that the rotation is logged. It returns the
// new signer.
func (tg *target) rotate(t *testing.T) *receipt.LocalSigner {
	t.Helper()
	next := testenv.Signer(t)
	svc := vault.New(tg.store.Storage(), next, vault.Config{Bucket: tg.bucket, Previous: tg.signer, Logger: testenv.Logger(t)})
	h := httpapi.New(svc, tg.issuer.Verifier(), testenv.Logger(t)).Handler()
	tg.handler.Store(&h)
	tg.seal(svc, "after-rotation.txt", []byte("sealed with the new key\n"))
	tg.added = append(tg.added, "after-rotation.txt@1")
	if err := svc.Flush(vault.NewContext(context.Background(), uploader)); err != nil {
		t.Fatal(err)
	}
	return next
}

// resign returns a bare DSSE envelope of r's statement with the predicate
// changed by edit, signed by signer.
func resign(t *testing.T, signer *receipt.LocalSigner, r *vault.Receipt, edit func(p *vault.ReceiptPredicate)) []byte {
	t.Helper()
	p := r.Predicate
	edit(&p)
	raw, _ := json.Marshal(p)
	env, err := receipt.Sign(context.Background(), receipt.Statement{
		Subject:       []receipt.Subject{{Name: p.Document.Path, Digest: map[string]string{"sha256": p.Document.File.SHA256}}},
		PredicateType: vault.PredicateType, Predicate: raw}, signer)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(env)
	return out
}

// TestRetiredKeyBareEnvelope: after a rotation A -> B, the retired
// key A must not be trusted for anything after the rotation. A bare DSSE
// envelope (no log proof) has index -1, which Trust.Allows takes as "any
// span will do": a receipt signed by the retired key today, backdated,
// for the stored version of report v2 with another title, is answered
// valid by POST /v1/verify (with and without the caller's pin) and by
// evault verify --offline.
func TestRetiredKeyBareEnvelope(t *testing.T) {
	tg := newTarget(t)
	tg.rotate(t)
	forged := resign(t, tg.signer, tg.report2, func(p *vault.ReceiptPredicate) {
		p.Document.Title = "A title the vault never sealed"
		p.SealedAt = p.SealedAt.Add(-24 * time.Hour * 300)
	})

	for _, pinned := range []bool{false, true} {
		body := map[string]any{"receipt": json.RawMessage(forged)}
		if pinned {
			body["key"] = string(tg.signer.Key().PEM())
		}
		var v vault.Verification
		tg.call(t, "POST", "/v1/verify", body, &v)
		if v.Valid {
			t.Errorf("POST /v1/verify (pinned %v) of a bare envelope signed by the retired key after its rotation: valid; want key_known refused. checks: %+v", pinned, v.Checks)
		}
	}
	dest := filepath.Join(t.TempDir(), "report.txt")
	if code, _, errOut := tg.evault("get", reportPath, "--dossier", tg.dossier.ID, "-o", dest); code != 0 {
		t.Fatalf("get: %d %s", code, errOut)
	}
	os.WriteFile(dest+".forged.json", forged, 0o644)
	if code, out, _ := tg.evault("verify", dest, dest+".forged.json", "--offline"); code == 0 {
		t.Errorf("evault verify --offline of the retired key's bare envelope: exit 0\n%s", out)
	}
	if code, out, _ := tg.evault("verify", dest, dest+".forged.json"); code == 0 {
		t.Errorf("evault verify (online) of the retired key's bare envelope: exit 0\n%s", out)
	}
}

// TestBundleWithoutHistoryAfterRotation: after a rotation, a bundle
// whose key-history.json is removed makes verify-bundle trust the pinned
// (retired) key for every entry: a whole bundle forged with the retired
// key, over a made-up tree, is VALID.
func TestBundleWithoutHistoryAfterRotation(t *testing.T) {
	tg := newTarget(t)
	tg.rotate(t)
	// the auditor meets the vault after the rotation
	if code, out, errOut := tg.evault("log", "check"); code != 0 {
		t.Fatalf("log check: %d %s%s", code, out, errOut)
	}
	dir := tg.exported(t)
	if code, out, errOut := tg.evault("verify-bundle", dir); code != 0 {
		t.Fatalf("verify-bundle of the real export: %d %s%s", code, out, errOut)
	}
	m, err := bundle.ReadManifest(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	// A one-entry log made up by the holder of the retired key.
	body := []byte("what the retired key's holder wants the notified body to see\n")
	forged := tg.forgeBundle(tg.signer, tg.report2, body)
	var b vault.Bundle
	json.Unmarshal(forged, &b)
	var env receipt.Envelope
	json.Unmarshal(b.Envelope, &env)
	leaf, _ := receipt.Payload(&env)
	cp := ledger.Checkpoint{Origin: m.Log.Origin, Size: 1, Hash: ledger.LeafHash(leaf)}
	signed, err := ledger.SignCheckpoint(context.Background(), tg.signer, cp)
	if err != nil {
		t.Fatal(err)
	}
	b.Log = &ledger.Proof{Origin: m.Log.Origin, Index: 0, Checkpoint: string(signed)}
	forged, _ = json.Marshal(b)
	r, _ := vault.OpenReceipt(forged)

	var docs []bundle.Document
	for _, d := range m.Documents {
		if d.Path == reportPath {
			d.Version, d.ReceiptID, d.LogIndex = r.Predicate.Version, r.Predicate.ReceiptID, 0
			d.SHA256, d.Size = r.Predicate.Document.File.SHA256, r.Predicate.Document.File.Size
			docs = append(docs, d)
		}
	}
	m.Documents = docs
	m.KeyHistory = ""
	m.Log.Size, m.Log.Checkpoint = 1, string(signed)
	os.Remove(filepath.Join(dir, bundle.KeyHistoryFile))
	os.RemoveAll(filepath.Join(dir, "files", "clinical"))
	os.RemoveAll(filepath.Join(dir, "receipts", "clinical"))
	os.Remove(filepath.Join(dir, "files", "after-rotation.txt"))
	os.Remove(filepath.Join(dir, "receipts", "after-rotation.txt.receipt.json"))
	writeBundle(t, dir, m, map[string][]byte{
		bundle.FileName(reportPath): body, bundle.ReceiptName(reportPath): forged, bundle.CheckpointFile: signed})
	if code, out, errOut := tg.evault("verify-bundle", dir); code == 0 {
		t.Errorf("verify-bundle of a bundle forged with the retired key, history removed: exit 0 (VALID)\n%s%s", out, errOut)
	}
}

// writeBundle writes files and the manifest into dir and rebuilds SHA256SUMS.
func writeBundle(t *testing.T, dir string, m *bundle.Manifest, files map[string][]byte) {
	t.Helper()
	files[bundle.ManifestFile], _ = json.MarshalIndent(m, "", "  ")
	for name, data := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var sums bytes.Buffer
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		name, _ := filepath.Rel(dir, path)
		if err != nil || d.IsDir() || name == bundle.SumsFile {
			return err
		}
		data, _ := os.ReadFile(path)
		sum := sha256.Sum256(data)
		fmt.Fprintf(&sums, "%x  %s\n", sum, filepath.ToSlash(name))
		return nil
	})
	os.WriteFile(filepath.Join(dir, bundle.SumsFile), sums.Bytes(), 0o644)
}

// TestPlantedGenesis: a genesis key event of the operator's own key
// planted under keyevents/ with a place before the real genesis. It cannot
// make the key trusted, but the vault's answers must be specific problems
// naming the object, never 500, and reads of locked data keep working.
func TestPlantedGenesis(t *testing.T) {
	for _, index := range []int64{-1, 0, 1 << 40} {
		t.Run(fmt.Sprint(index), func(t *testing.T) {
			tg := newTarget(t)
			atk := testenv.Signer(t)
			origin := vault.LogOrigin(tg.bucket, tenant)
			object := tg.plantKeyEvent(t, atk, vault.KeyEvent{Event: vault.KeyGenesis, Log: origin, Key: pubKey(atk.Key()), At: time.Now().UTC()}, nil, index)
			tg.restart()
			for _, path := range []string{"/v1/keys", "/v1/log/keys", "/v1/log/checkpoint", "/v1/dossiers/" + tg.dossier.ID + "/documents"} {
				code, body := tg.raw(t, "GET", path, nil)
				if code >= 500 && code != 502 && code != 503 {
					t.Errorf("GET %s after a planted genesis at %d: %d %s", path, index, code, body)
				}
			}
			code, body := tg.raw(t, "POST", "/v1/verify", mustJSON(map[string]any{"receipt": tg.report2.Bundle()}))
			if code >= 500 && code != 502 && code != 503 {
				t.Errorf("POST /v1/verify after a planted genesis at %d: %d %s", index, code, body)
			}
			tg.survived(t, object)
		})
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func pubKey(k receipt.Key) vault.PublicKey {
	return vault.PublicKey{KeyID: k.ID, Algorithm: receipt.Algorithm, PEM: string(k.PEM())}
}

// plantKeyEvent writes a key event record signed by signers under
// keyevents/, claiming place index in the log.
func (tg *target) plantKeyEvent(t *testing.T, signer *receipt.LocalSigner, ev vault.KeyEvent, others []receipt.Signer, index int64) string {
	t.Helper()
	envJSON, _ := keyEventEnvelope(t, ev, signer, others...)
	cp := tg.get(tg.last("ledger/" + tenant + "/checkpoint/"))
	rec, _ := json.Marshal(vault.Bundle{Envelope: envJSON, Log: &ledger.Proof{Origin: ev.Log, Index: index, Checkpoint: string(cp)}})
	object := "vault/" + tenant + "/keyevents/key-" + ev.Event + "-" + ev.Key.KeyID + ".json"
	tg.put(object, rec)
	return object
}

// TestReviewRotationSignedByIncomingOnly: a rotation to the operator's key
// signed by that key alone (the previous key's signature copied from the
// real genesis, which does not hold over this payload), or a rotation
// from a key the log never had. Neither may be trusted; the answers are
// not 500.
func TestRotationForged(t *testing.T) {
	tg := newTarget(t)
	atk := testenv.Signer(t)
	origin := vault.LogOrigin(tg.bucket, tenant)
	prev := pubKey(tg.signer.Key())
	object := tg.plantKeyEvent(t, atk, vault.KeyEvent{Event: vault.KeyRotation, Log: origin, Key: pubKey(atk.Key()), Previous: &prev, At: time.Now().UTC()}, nil, 1<<30)
	tg.restart()
	code, out, errOut := tg.evault("log", "check")
	if code == 0 && strings.Contains(out+errOut, atk.Key().ID) {
		t.Errorf("log check trusts the forged rotation: %s%s", out, errOut)
	}
	for _, path := range []string{"/v1/keys", "/v1/log/keys"} {
		c, body := tg.raw(t, "GET", path, nil)
		if c >= 500 && c != 502 && c != 503 {
			t.Errorf("GET %s after a forged rotation: %d %s", path, c, body)
		}
	}
	tg.survived(t, object)
}

// TestPlantedReceiptBeforeSeal: the operator sees an upload session
// appear (uploads/upl_X.json) and, before the uploader completes it,
// plants receipts/rcp_X.json: the receipt object the seal will create. The
// vault writes receipts with If-None-Match, so the planted object is the
// "original". The seal must still succeed (or fail with a specific problem
// naming the object), and later seals of other documents must not be
// blocked by it.
func TestPlantedReceiptBeforeSeal(t *testing.T) {
	tg := newTarget(t)
	svc := tg.restart()
	ctx := vault.NewContext(context.Background(), uploader)
	body := []byte("a document whose receipt was pre-claimed\n")
	tk, err := svc.StartUpload(ctx, tg.dossier.ID, document("preclaimed.txt", body))
	if err != nil {
		t.Fatal(err)
	}
	testenv.Put(t, tk.Upload, bytes.NewReader(body), int64(len(body)))
	object := "vault/" + tenant + "/receipts/rcp_" + strings.TrimPrefix(tk.UploadID, "upl_") + ".json"
	tg.put(object, tg.get(tg.receiptObject(tg.report1)))
	_, err = svc.Complete(ctx, tk.UploadID)
	if err == nil {
		tg.added = append(tg.added, "preclaimed.txt@1")
	}
	var ve *vault.Error
	if err != nil && !(errorsAs(err, &ve) && strings.Contains(err.Error(), object)) {
		t.Errorf("complete with a pre-claimed receipt object: %v; want success or a problem naming %s", err, object)
	}
	// Another document, unrelated: must seal.
	if err := tg.trySeal(tg.restart(), "unrelated.txt", []byte("unrelated\n")); err != nil {
		t.Errorf("sealing an unrelated document after the pre-claimed receipt: %v", err)
	}
	tg.survived(t, object)
}

// TestChainEntryCopiedAhead: the real chain entry of report v2
// copied to v3's place, before v3 is sealed: a pre-claim of the next
// version with a receipt the log does hold. The latest stays v2, and the
// next real seal of the report must become v3 (or fail naming the object).
func TestChainEntryCopiedAhead(t *testing.T) {
	tg := newTarget(t)
	object := tg.chainEntry(reportPath, 3)
	tg.copyOver(tg.chainEntry(reportPath, 2), object)
	tg.survived(t, object)
	err := tg.trySeal(tg.restart(), reportPath, []byte("revision C\n"))
	t.Logf("sealing v3 after the copy: %v", err)
	if err != nil && !strings.Contains(err.Error(), object) {
		t.Errorf("sealing v3 after a copied-ahead chain entry: %v; want success or a problem naming %s", err, object)
	}
}

// TestHeadHintBehind: the head hint written over with the log's
// real, older checkpoint (and a wrong start): readers must still find the
// latest, and sealing goes on.
func TestHeadHintBehind(t *testing.T) {
	tg := newTarget(t)
	cps := tg.keys("ledger/" + tenant + "/checkpoint/")
	old := tg.get(cps[0])
	object := "ledger/" + tenant + "/head.json"
	var size int64
	fmt.Sscanf(strings.Split(string(old), "\n")[1], "%d", &size)
	tg.put(object, mustJSON(map[string]any{"start": 999, "size": size, "checkpoint": string(old)}))
	tg.survived(t, object)
	if err := tg.trySeal(tg.restart(), "after-hint.txt", []byte("after the hint\n")); err != nil {
		t.Errorf("sealing after a head hint moved back: %v", err)
	}
	if code, out, errOut := tg.evault("log", "check"); code != 0 {
		t.Errorf("log check after the hint moved back and a seal: %d %s%s", code, out, errOut)
	}
}

// TestPlantedGenesisBlocksNoSeal: one planted key event object
// stops the vault from sealing anything for the tenant.
func TestPlantedGenesisBlocksNoSeal(t *testing.T) {
	tg := newTarget(t)
	atk := testenv.Signer(t)
	origin := vault.LogOrigin(tg.bucket, tenant)
	object := tg.plantKeyEvent(t, atk, vault.KeyEvent{Event: vault.KeyGenesis, Log: origin, Key: pubKey(atk.Key()), At: time.Now().UTC()}, nil, 1<<40)
	err := tg.trySeal(tg.restart(), "after-plant.txt", []byte("x\n"))
	if err != nil {
		t.Errorf("sealing after a planted key event object %s: %v", object, err)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// TestExportAtOlderCheckpoints: export at each checkpoint the log
// has: the documents and versions are those the log holds at that size,
// even after the chain's latest entry is hidden and an older copied over.
func TestExportAtOlderCheckpoints(t *testing.T) {
	tg := newTarget(t)
	tg.copyOver(tg.chainEntry(reportPath, 1), tg.chainEntry(reportPath, 2))
	tg.hide(tg.chainEntry(cerPath, 1))
	tg.restart()
	want := map[int64]string{}
	// entry 0 genesis, 1 the auditor's grant, 2 report v1, 3 report v2, 4 cer v1
	for size, w := range map[int64]string{3: reportPath + "@1", 4: reportPath + "@2", 5: cerPath + "@1 " + reportPath + "@2"} {
		want[size] = w
	}
	for _, cp := range tg.keys("ledger/" + tenant + "/checkpoint/") {
		var size int64
		fmt.Sscanf(cp[strings.LastIndex(cp, "/")+1:], "%d", &size)
		dir := filepath.Join(t.TempDir(), "bundle")
		code, out, errOut := tg.evault("export", tg.dossier.ID, "--out", dir, "--checkpoint", fmt.Sprint(size))
		if w, ok := want[size]; !ok {
			t.Logf("checkpoint %d: exit %d %s%s", size, code, out, errOut)
			continue
		} else if code != 0 {
			t.Errorf("export at %d: exit %d %s%s", size, code, out, errOut)
			continue
		} else {
			m, _ := bundle.ReadManifest(os.DirFS(dir))
			var got []string
			for _, d := range m.Documents {
				got = append(got, fmt.Sprintf("%s@%d", d.Path, d.Version))
			}
			if strings.Join(got, " ") != w {
				t.Errorf("export at %d: %v, want %s", size, got, w)
			}
			if code, out, errOut := tg.evault("verify-bundle", dir); code != 0 {
				t.Errorf("verify-bundle at %d: %d %s%s", size, code, out, errOut)
			}
		}
	}
}

// evaultAs runs the CLI as id.
func (tg *target) evaultAs(id vault.Identity, args ...string) (code int, stdout, stderr string) {
	tg.t.Helper()
	tok := tg.issuer.Token(tg.t, id)
	env := map[string]string{"EVAULT_API": tg.api, "EVAULT_TOKEN": tok}
	var out, errb bytes.Buffer
	m := &evault.Main{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }, Dir: tg.work, ConfigDir: tg.config}
	code = m.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

// TestKnownVaultsEdges: first use against a tenant whose log is
// empty; a corrupted pin file; a pin file that is not JSON of pins.
func TestKnownVaultsEdges(t *testing.T) {
	tg := newTarget(t)
	beta := vault.Identity{Tenant: "beta", Subject: "auditor@beta.example", Role: vault.RoleAuditor, Dossiers: []string{vault.AllDossiers}}
	code, out, errOut := tg.evaultAs(beta, "log", "check")
	t.Logf("log check of an empty log: exit %d\n%s%s", code, out, errOut)
	if code == 1 || strings.Contains(out+errOut, "Internal error") {
		t.Errorf("log check of an empty log: exit %d %s%s", code, out, errOut)
	}
	pins := filepath.Join(tg.config, "evault", "known_vaults.json")
	for _, garbage := range []string{"", "{", `{"logs":[]}`, "\x00\x01"} {
		os.WriteFile(pins, []byte(garbage), 0o600)
		code, out, errOut := tg.evault("log", "check")
		t.Logf("log check with pins %q: exit %d %s%s", garbage, code, out, errOut)
		if code == 0 {
			t.Errorf("log check with a corrupted pin file %q: exit 0 (pins silently replaced?)", garbage)
		}
	}
	// a pin of this log whose key does not parse
	os.WriteFile(pins, []byte(`{"logs":{"`+vault.LogOrigin(tg.bucket, tenant)+`":{"origin":"`+vault.LogOrigin(tg.bucket, tenant)+`","key":{"publicKey":"garbage"}}}}`), 0o600)
	code, out, errOut = tg.evault("get", reportPath, "--dossier", tg.dossier.ID, "-o", filepath.Join(t.TempDir(), "x"))
	t.Logf("get with an unparsable pinned key: exit %d %s%s", code, out, errOut)
	if code == 0 {
		t.Errorf("get with an unparsable pinned key: exit 0")
	}
}

// TestKeyEventRecordsThatAreNot: an object under keyevents/ that is not a
// key record at all ({} or a record with no log proof). The vault must
// ignore it (or answer a specific problem naming it), not panic or 500.
func TestKeyEventRecordsThatAreNot(t *testing.T) {
	for _, body := range []string{`{}`, `{"envelope":{}}`, `not json`} {
		t.Run(body, func(t *testing.T) {
			tg := newTarget(t)
			object := "vault/" + tenant + "/keyevents/key-genesis-zzz.json"
			tg.put(object, []byte(body))
			tg.restart()
			for _, path := range []string{"/v1/keys", "/v1/log/keys", "/v1/dossiers/" + tg.dossier.ID + "/download?path=" + reportPath} {
				code, resp := tg.raw(t, "GET", path, nil)
				if code >= 500 && code != 502 && code != 503 {
					t.Errorf("GET %s with %s planted: %d %.300s", path, body, code, resp)
				}
			}
			if err := tg.trySeal(tg.restart(), "after.txt", []byte("after\n")); err != nil {
				t.Errorf("seal with %s planted under keyevents/: %v", body, err)
			}
			tg.survived(t, object)
		})
	}
}

// TestRetiredKeyForgedLogProof: after a rotation A -> B, the holder
// of the retired key A makes a receipt bundle for the stored version of
// report v2 with another title, placed at index 0 of a one-entry tree
// whose checkpoint A signs: inside A's span. POST /v1/verify, which has the
// log at hand, never compares the receipt's checkpoint with the log.
func TestRetiredKeyForgedLogProof(t *testing.T) {
	tg := newTarget(t)
	tg.rotate(t)
	envJSON := resign(t, tg.signer, tg.report2, func(p *vault.ReceiptPredicate) { p.Document.Title = "Never sealed under this title" })
	var env receipt.Envelope
	json.Unmarshal(envJSON, &env)
	leaf, _ := receipt.Payload(&env)
	origin := vault.LogOrigin(tg.bucket, tenant)
	signed, err := ledger.SignCheckpoint(context.Background(), tg.signer, ledger.Checkpoint{Origin: origin, Size: 1, Hash: ledger.LeafHash(leaf)})
	if err != nil {
		t.Fatal(err)
	}
	forged := mustJSON(vault.Bundle{Envelope: envJSON, Log: &ledger.Proof{Origin: origin, Index: 0, Checkpoint: string(signed)}})
	for _, pinned := range []bool{false, true} {
		body := map[string]any{"receipt": json.RawMessage(forged)}
		if pinned {
			body["key"] = string(tg.signer.Key().PEM())
		}
		var v vault.Verification
		tg.call(t, "POST", "/v1/verify", body, &v)
		if v.Valid {
			t.Errorf("POST /v1/verify (pinned %v) of a receipt with a made-up log proof signed by the retired key: valid", pinned)
		}
	}
	dest := filepath.Join(t.TempDir(), "report.txt")
	if code, _, errOut := tg.evault("get", reportPath, "--dossier", tg.dossier.ID, "-o", dest); code != 0 {
		t.Fatalf("get: %d %s", code, errOut)
	}
	os.WriteFile(dest+".forged.json", forged, 0o644)
	if code, _, _ := tg.evault("verify", dest, dest+".forged.json"); code == 0 {
		t.Errorf("evault verify (online) accepted the made-up log proof")
	}
	code, out, _ := tg.evault("verify", dest, dest+".forged.json", "--offline")
	t.Logf("evault verify --offline: exit %d\n%s", code, out)
}
