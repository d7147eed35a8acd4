package tamper_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/bundle"
	"github.com/evidencevault/vault/internal/evault"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/minio/minio-go/v7"
	"golang.org/x/mod/sumdb/tlog"
)

// Each attack names the object it touched; after it, a fresh vault process
// serves the auditor, the audit must name that object, and the auditor's
// reads must keep giving the data the vault locked (or refuse, where
// nothing locked is left to give).

// TestDeleteMarkers: a delete marker on an object of each prefix hides
// nothing: the vault reads the locked version beneath.
func TestDeleteMarkers(t *testing.T) {
	for _, tt := range []struct {
		name   string
		object func(tg *target) string
	}{
		{"dossier record", func(tg *target) string { return "vault/" + tenant + "/dossiers/" + tg.dossier.ID + ".json" }},
		{"latest chain entry", func(tg *target) string { return tg.chainEntry(reportPath, 2) }},
		{"receipt", func(tg *target) string { return tg.receiptObject(tg.report2) }},
		{"key event record", func(tg *target) string { return tg.last("vault/" + tenant + "/keyevents/") }},
		{"commit", func(tg *target) string { return tg.last("ledger/" + tenant + "/log/") }},
		{"tile", func(tg *target) string { return tg.last("ledger/" + tenant + "/tile/") }},
		{"checkpoint", func(tg *target) string { return tg.last("ledger/" + tenant + "/checkpoint/") }},
		{"head hint", func(tg *target) string { return "ledger/" + tenant + "/head.json" }},
		{"evidence", func(tg *target) string { return tg.evidence(reportPath) }},
		{"published key", func(tg *target) string { return tg.last("keys/") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tg := newTarget(t)
			object := tt.object(tg)
			tg.hide(object)
			tg.survived(t, object)
		})
	}
}

// TestRollback: the latest version hidden whole (its chain entry, receipt
// and evidence behind delete markers), or its chain entry overwritten with
// the one before: the log still says version 2 is the latest.
func TestRollback(t *testing.T) {
	t.Run("latest version hidden", func(t *testing.T) {
		tg := newTarget(t)
		for _, o := range []string{tg.chainEntry(reportPath, 2), tg.receiptObject(tg.report2), tg.evidence(reportPath)} {
			tg.hide(o)
		}
		tg.survived(t, tg.chainEntry(reportPath, 2))
	})
	t.Run("older chain entry copied over the newer", func(t *testing.T) {
		tg := newTarget(t)
		tg.copyOver(tg.chainEntry(reportPath, 1), tg.chainEntry(reportPath, 2))
		tg.survived(t, tg.chainEntry(reportPath, 2))
	})
}

// TestWrittenOver: a new version over each kind of object the vault writes
// once, or an older valid object copied over a newer one: reads keep to
// what the vault wrote.
func TestWrittenOver(t *testing.T) {
	for _, tt := range []struct {
		name   string
		attack func(tg *target) string // returns the object attacked
	}{
		{"dossier record", func(tg *target) string {
			key := "vault/" + tenant + "/dossiers/" + tg.dossier.ID + ".json"
			tg.put(key, bytes.Replace(tg.get(key), []byte("Pulse oximeter AI"), []byte("Something else"), 1))
			return key
		}},
		{"chain entry", func(tg *target) string {
			key := tg.chainEntry(reportPath, 2)
			tg.put(key, bytes.Replace(tg.get(key), []byte(tg.report2.Predicate.Storage.VersionID), []byte(tg.report1.Predicate.Storage.VersionID), 1))
			return key
		}},
		{"receipt re-signed by another key", func(tg *target) string {
			key := tg.receiptObject(tg.report2)
			tg.put(key, tg.forgeBundle(testenv.Signer(tg.t), tg.report2, reportV1))
			return key
		}},
		{"older receipt copied over the newer", func(tg *target) string {
			key := tg.receiptObject(tg.report2)
			tg.copyOver(tg.receiptObject(tg.report1), key)
			return key
		}},
		{"commit", func(tg *target) string {
			key := tg.last("ledger/" + tenant + "/log/")
			tg.put(key, bytes.Replace(tg.get(key), []byte(`"id":"rcp_`), []byte(`"id":"rcp_x`), 1))
			return key
		}},
		{"older commit copied over the newer", func(tg *target) string {
			keys := tg.keys("ledger/" + tenant + "/log/")
			tg.copyOver(keys[0], keys[len(keys)-1])
			return keys[len(keys)-1]
		}},
		{"tile", func(tg *target) string {
			key := tg.last("ledger/" + tenant + "/tile/")
			tg.put(key, make([]byte, len(tg.get(key))))
			return key
		}},
		{"checkpoint re-signed by another key", func(tg *target) string {
			key := tg.last("ledger/" + tenant + "/checkpoint/")
			text, _, _ := bytes.Cut(tg.get(key), []byte("\n\n"))
			cp, err := ledger.ParseCheckpoint(append(text, '\n'))
			if err != nil {
				tg.t.Fatal(err)
			}
			cp.Hash = tlog.Hash{7}
			forged, err := ledger.SignCheckpoint(context.Background(), testenv.Signer(tg.t), cp)
			if err != nil {
				tg.t.Fatal(err)
			}
			tg.put(key, forged)
			return key
		}},
		{"older checkpoint copied over the newer", func(tg *target) string {
			keys := tg.keys("ledger/" + tenant + "/checkpoint/")
			tg.copyOver(keys[len(keys)-2], keys[len(keys)-1])
			return keys[len(keys)-1]
		}},
		{"head hint", func(tg *target) string {
			key := "ledger/" + tenant + "/head.json"
			tg.put(key, []byte(`{"start":40,"size":41,"checkpoint":"evidencevault.dev/ledger/x\n41\nAAAA\n\n— x AAAA\n"}`))
			return key
		}},
		{"evidence", func(tg *target) string {
			key := tg.evidence(reportPath)
			tg.put(key, []byte("what the operator would rather have had sealed\n"))
			return key
		}},
		{"older evidence version copied over the newer", func(tg *target) string {
			key := tg.evidence(reportPath)
			if _, err := tg.mc.CopyObject(context.Background(), minio.CopyDestOptions{Bucket: tg.bucket, Object: key},
				minio.CopySrcOptions{Bucket: tg.bucket, Object: key, VersionID: tg.report1.Predicate.Storage.VersionID}); err != nil {
				tg.t.Fatal(err)
			}
			return key
		}},
		{"published key", func(tg *target) string {
			key := "keys/" + tg.signer.Key().ID + ".pem"
			tg.put(key, testenv.Signer(tg.t).Key().PEM())
			return key
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tg := newTarget(t)
			object := tt.attack(tg)
			tg.survived(t, object)
		})
	}
}

// TestKeyInjection: an attacker's key added under keys/, with a receipt it
// signed for a version that was never sealed, trusts nothing: the key is
// not listed, the receipt does not verify, and a bundle carrying it is
// refused.
func TestKeyInjection(t *testing.T) {
	tg := newTarget(t)
	atk := testenv.Signer(t)
	keyObject := "keys/" + atk.Key().ID + ".pem"
	tg.put(keyObject, atk.Key().PEM())
	forgedBody := []byte("the attacker's bytes\n")
	forged := tg.forgeBundle(atk, tg.report2, forgedBody)
	tg.put(tg.receiptObject(tg.report2)+".forged.json", forged)
	tg.survived(t, keyObject)

	code, out, _ := tg.evault("keys")
	if code != 0 || strings.Contains(out, atk.Key().ID) {
		t.Errorf("evault keys: exit %d, listing %q; want the attacker's key left out", code, out)
	}
	var v vault.Verification
	tg.call(t, "POST", "/v1/verify", map[string]any{"receipt": json.RawMessage(forged)}, &v)
	if v.Valid {
		t.Errorf("POST /v1/verify of the forged receipt: got valid, want refused: %+v", v.Checks)
	}
	file := filepath.Join(t.TempDir(), "report.txt")
	os.WriteFile(file, forgedBody, 0o644)
	os.WriteFile(file+".receipt.json", forged, 0o644)
	tg.refused(t, []string{"verify", file, file + ".receipt.json"}, vault.CheckKeyKnown)
	tg.refused(t, []string{"verify", file, file + ".receipt.json", "--offline"}, vault.CheckKeyKnown)

	// A bundle rebuilt around the forged receipt, with the attacker's key
	// among its keys and a key history of its own.
	dir := tg.exported(t)
	tg.forgeInBundle(t, dir, atk, forged, forgedBody)
	tg.refused(t, []string{"verify-bundle", dir}, "")
}

// TestForgedAppend: a commit signed by another key at the log's next
// position, as if the vault had appended it. The vault refuses to build on
// it, naming it; what was sealed before stays readable and exportable.
func TestForgedAppend(t *testing.T) {
	tg := newTarget(t)
	atk := testenv.Signer(t)
	object := tg.forgeAppend(atk)
	tg.put("keys/"+atk.Key().ID+".pem", atk.Key().PEM())
	tg.survived(t, object)

	err := tg.trySeal(tg.restart(), "late.txt", []byte("sealed after the forgery\n"))
	var ve *vault.Error
	if !errors.As(err, &ve) || ve.Code != vault.CodeTampered || !strings.Contains(ve.Error(), object) {
		t.Errorf("sealing after a forged append: got %v, want a tampered error naming %s", err, object)
	}
}

// survived checks what the auditor sees after an attack that left the
// locked data intact: the audit names the object, and get, verify, export
// and verify-bundle give the data the vault sealed.
func (tg *target) survived(t *testing.T, object string) {
	t.Helper()
	tg.restart()
	tg.named(t, object)
	dest := filepath.Join(t.TempDir(), "report.txt")
	for _, g := range []struct {
		version string
		want    []byte
	}{{"", reportV2}, {"1", reportV1}} {
		args := []string{"get", reportPath, "--dossier", tg.dossier.ID, "-o", dest + g.version}
		if g.version != "" {
			args = append(args, "--version", g.version)
		}
		code, _, errOut := tg.evault(args...)
		if data, _ := os.ReadFile(dest + g.version); code != 0 || !bytes.Equal(data, g.want) {
			t.Errorf("evault get (version %q): exit %d, got %q, want %q\n%s", g.version, code, data, g.want, errOut)
		}
	}
	if code, out, errOut := tg.evault("verify", dest, dest+".receipt.json"); code != 0 || !strings.Contains(out, "VALID") {
		t.Errorf("evault verify: exit %d\n%s%s", code, out, errOut)
	}
	dir := tg.exported(t)
	m, err := bundle.ReadManifest(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range m.Documents {
		got = append(got, fmt.Sprintf("%s@%d", d.Path, d.Version))
	}
	want := append([]string{cerPath + "@1", reportPath + "@2"}, tg.added...)
	slices.Sort(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("export: got %v, want %v", got, want)
	}
	if code, out, errOut := tg.evault("verify-bundle", dir); code != 0 || !strings.Contains(out, "VALID") {
		t.Errorf("evault verify-bundle: exit %d\n%s%s", code, out, errOut)
	}
}

// named checks that the audit names object.
func (tg *target) named(t *testing.T, object string) {
	t.Helper()
	rep := tg.audit()
	for _, p := range rep.Problems {
		if strings.Contains(p, object) {
			return
		}
	}
	t.Errorf("the audit does not name %s; it found %q", object, rep.Problems)
}

// refused checks that evault refuses with exit 4, saying want.
func (tg *target) refused(t *testing.T, args []string, want string) {
	t.Helper()
	code, out, errOut := tg.evault(args...)
	if code != evault.ExitVerify || !strings.Contains(out+errOut, want) {
		t.Errorf("evault %s: got exit %d, want %d saying %q\n%s%s", args[0], code, evault.ExitVerify, want, out, errOut)
	}
}

// exported exports the dossier into a fresh folder.
func (tg *target) exported(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bundle")
	if code, out, errOut := tg.evault("export", tg.dossier.ID, "--out", dir); code != 0 {
		t.Fatalf("evault export: exit %d\n%s%s", code, out, errOut)
	}
	return dir
}

// call makes one API request as the auditor.
func (tg *target) call(t *testing.T, method, path string, body, out any) {
	t.Helper()
	tok := tg.issuer.Token(t, auditor)
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, tg.api+path, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// forgeBundle is a receipt bundle, signed by signer, that says version
// r's successor holds body: what an attacker with a key of their own makes.
func (tg *target) forgeBundle(signer *receipt.LocalSigner, r *vault.Receipt, body []byte) []byte {
	tg.t.Helper()
	p := r.Predicate
	sum := sha256.Sum256(body)
	p.ReceiptID = "rcp_forgedforgedforgedforged"
	p.Version++
	p.Document.File.SHA256, p.Document.File.Size = hex.EncodeToString(sum[:]), int64(len(body))
	p.Storage.Size = int64(len(body))
	p.Supersedes = &vault.VersionRef{Version: r.Predicate.Version, ReceiptID: r.Predicate.ReceiptID, SHA256: r.Predicate.Document.File.SHA256, VersionID: r.Predicate.Storage.VersionID}
	raw, err := json.Marshal(p)
	if err != nil {
		tg.t.Fatal(err)
	}
	env, err := receipt.Sign(context.Background(), receipt.Statement{
		Subject:       []receipt.Subject{{Name: p.Document.Path, Digest: map[string]string{"sha256": p.Document.File.SHA256}}},
		PredicateType: vault.PredicateType, Predicate: raw}, signer)
	if err != nil {
		tg.t.Fatal(err)
	}
	envJSON, _ := json.Marshal(env)
	out, _ := json.Marshal(vault.Bundle{Envelope: envJSON})
	return out
}

// trySeal seals body at path, returning the first refusal.
func (tg *target) trySeal(svc *vault.Service, path string, body []byte) error {
	ctx := vault.NewContext(context.Background(), uploader)
	tk, err := svc.StartUpload(ctx, tg.dossier.ID, document(path, body))
	if err != nil {
		return err
	}
	if err := testenv.Send(tk.Upload, bytes.NewReader(body), int64(len(body))); err != nil {
		return err
	}
	if _, err = svc.Complete(ctx, tk.UploadID); err == nil {
		tg.mu.Lock()
		tg.added = append(tg.added, path+"@1")
		tg.mu.Unlock()
	}
	return err
}

// forgeAppend writes, at the log's next position, a commit of a forged
// receipt with a checkpoint signed by signer over the tree it would make:
// all an attacker without the vault's key can do to extend the log.
func (tg *target) forgeAppend(signer *receipt.LocalSigner) string {
	t := tg.t
	t.Helper()
	ctx := vault.NewContext(context.Background(), uploader)
	svc := tg.restart()
	cp, err := svc.Checkpoint(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := svc.LogEntries(ctx, 0, cp.Size, "")
	if err != nil {
		t.Fatal(err)
	}
	var hashes []tlog.Hash
	for _, e := range entries.Entries {
		hashes = append(hashes, tlog.Hash(e.Hash))
	}
	var b vault.Bundle
	json.Unmarshal(tg.forgeBundle(signer, tg.report2, []byte("forged\n")), &b)
	var env receipt.Envelope
	json.Unmarshal(b.Envelope, &env)
	leaf, err := receipt.Payload(&env)
	if err != nil {
		t.Fatal(err)
	}
	root, err := ledger.TreeHash(append(hashes, ledger.LeafHash(leaf)))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := ledger.SignCheckpoint(ctx, signer, ledger.Checkpoint{Origin: cp.Origin, Size: cp.Size + 1, Hash: root})
	if err != nil {
		t.Fatal(err)
	}
	commit, _ := json.Marshal(map[string]any{"start": cp.Size, "size": cp.Size + 1, "time": time.Now().UTC(),
		"entries": []any{map[string]any{"id": "rcp_forgedforgedforgedforged", "envelope": b.Envelope}}, "checkpoint": string(signed)})
	key := fmt.Sprintf("ledger/%s/log/%020d.json", tenant, cp.Size)
	tg.put(key, commit)
	tg.put(fmt.Sprintf("ledger/%s/checkpoint/%020d", tenant, cp.Size+1), signed)
	return key
}

// forgeInBundle rebuilds an exported bundle around a forged receipt: the
// forged file and receipt in place of the report's, the forger's key among
// the bundle's keys, no key history, and SHA256SUMS made to match.
func (tg *target) forgeInBundle(t *testing.T, dir string, signer *receipt.LocalSigner, forged, body []byte) {
	t.Helper()
	m, err := bundle.ReadManifest(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	r, err := vault.OpenReceipt(forged)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range m.Documents {
		if d.Path == reportPath {
			m.Documents[i].Version, m.Documents[i].ReceiptID = r.Predicate.Version, r.Predicate.ReceiptID
			m.Documents[i].SHA256, m.Documents[i].Size = r.Predicate.Document.File.SHA256, r.Predicate.Document.File.Size
		}
	}
	os.Remove(filepath.Join(dir, bundle.KeyHistoryFile))
	m.KeyHistory = ""
	m.Keys = append(m.Keys, bundle.KeyName(signer.Key().ID))
	files := map[string][]byte{bundle.FileName(reportPath): body, bundle.ReceiptName(reportPath): forged, bundle.KeyName(signer.Key().ID): signer.Key().PEM()}
	files[bundle.ManifestFile], _ = json.MarshalIndent(m, "", "  ")
	for name, data := range files {
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

func document(path string, body []byte) vault.Document {
	sum := sha256.Sum256(body)
	return vault.Document{Path: path, Title: "Report", Kind: regulation.KindTestReport, Section: "MDR-II-6.1", Revision: "A",
		Language: "en", EffectiveDate: "2026-11-01", Author: "QA",
		File: vault.File{Name: filepath.Base(path), Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), ContentType: "text/plain"}}
}

// TestForgedVersion: a version chain entry the vault never wrote, for a
// version after the latest, with a receipt signed by another key and
// evidence of the attacker's. The latest version stays the one the log
// holds; the vault will not seal a version that would supersede the
// forgery, naming it.
func TestForgedVersion(t *testing.T) {
	tg := newTarget(t)
	atk := testenv.Signer(t)
	body := []byte("the attacker's version\n")
	forged := tg.forgeBundle(atk, tg.report2, body)
	r, err := vault.OpenReceipt(forged)
	if err != nil {
		t.Fatal(err)
	}
	tg.put(tg.evidence(reportPath), body)
	tg.put("vault/"+tenant+"/receipts/"+r.Predicate.ReceiptID+".json", forged)
	entry, _ := json.Marshal(vault.Version{Version: 3, Dossier: tg.dossier.ID, Document: r.Predicate.Document, UploadID: "upl_forgedforgedforgedforged",
		ReceiptID: r.Predicate.ReceiptID, Key: tg.evidence(reportPath), VersionID: "forged", SHA256: r.Predicate.Document.File.SHA256})
	object := tg.chainEntry(reportPath, 3)
	tg.put(object, entry)
	tg.survived(t, object)
	err = tg.trySeal(tg.restart(), reportPath, []byte("revision C\n"))
	var ve *vault.Error
	if !errors.As(err, &ve) || ve.Code != vault.CodeTampered || !strings.Contains(ve.Error(), object) {
		t.Errorf("sealing over a forged version: got %v, want a tampered error naming %s", err, object)
	}
}
