package tamper_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/minio/minio-go/v7"
)

// MinIO lists an object's versions by modification time, and its root can
// set that time on a write (replication's source mtime): the order of
// versions proves nothing about which one the vault wrote.

// putBackdated writes body as a new version of key dated an hour ago, so
// that storage lists it beneath the versions written before it.
func (tg *target) putBackdated(t *testing.T, key string, body []byte) {
	t.Helper()
	_, err := tg.mc.PutObject(context.Background(), tg.bucket, key, bytes.NewReader(body), int64(len(body)),
		minio.PutObjectOptions{Internal: minio.AdvancedPutOptions{SourceMTime: time.Now().Add(-time.Hour)}})
	if err != nil {
		t.Fatalf("put backdated %s: %v", key, err)
	}
	var first []byte
	for o := range tg.mc.ListObjects(context.Background(), tg.bucket, minioListVersions(key)) {
		if o.Key == key {
			r, err := tg.mc.GetObject(context.Background(), tg.bucket, key, minio.GetObjectOptions{VersionID: o.VersionID})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			buf.ReadFrom(r)
			first = buf.Bytes() // listed newest first: the last is the oldest
		}
	}
	if !bytes.Equal(first, body) {
		t.Fatalf("precondition: the backdated write is not %s's oldest version", key)
	}
}

// TestBackdatedRetiredCommit: a commit the retired key signed, over the
// log's own entries but one, backdated beneath the log's commit. A cold
// start (its head hint junk) reads the log's commits, serves the log's
// checkpoint and entries, and seals on top of them; the audit names it.
func TestBackdatedRetiredCommit(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	r := tg.logSize(t)
	k1 := tg.rotate(t)
	key, body, rootLine := tg.retiredCommit(t, tg.restartWith(k1, nil), k0, r)
	tg.putBackdated(t, key, body)
	tg.put(fmt.Sprintf("ledger/%s/head.json", tenant), []byte("junk"))

	tg.restartWith(k1, nil)
	if code, out := tg.raw(t, "GET", "/v1/log/checkpoint", nil); code != 200 || strings.Contains(out, rootLine) {
		t.Errorf("GET /v1/log/checkpoint: got %d %.300s; want the log's, not the retired key's", code, out)
	}
	if code, out := tg.raw(t, "GET", fmt.Sprintf("/v1/log/entries?start=0&end=%d", r+5), nil); code != 200 || strings.Contains(out, "rcp_forgedforgedforgedforged") {
		t.Errorf("GET /v1/log/entries: got %d %.300s; want the log's entries", code, out)
	}
	if err := tg.trySeal(tg.restartWith(k1, nil), "after-backdate.txt", []byte("after a backdated commit\n")); err != nil {
		t.Errorf("seal after a backdated commit: %v", err)
	}
	// The rotation, then the seal's entries, as a process of the current
	// key reads.
	if cp, err := tg.restartWith(k1, nil).Checkpoint(vault.NewContext(context.Background(), uploader), 0); err != nil || cp.Size < r+2 {
		t.Errorf("checkpoint: got size %d, %v; want at least %d", cp.Size, err, r+2)
	}
	tg.checkReaders(t, "backdated commit")
	if rep := tg.auditPins(t, "pin K0", k0.Key()); !mentions(rep, key) {
		t.Errorf("audit: got %q, want a problem naming %s", rep.Problems, key)
	}
}

// TestTileLogsVersionInTheMiddle: junk planted at the next partial tile,
// the log's own written over it by the next seal, then junk over the
// log's: the log's version sits between two others.
func TestTileLogsVersionInTheMiddle(t *testing.T) {
	tg := newTarget(t)
	n := tg.logSize(t)
	tileKey := fmt.Sprintf("ledger/%s/tile/8/0/000.p/%d", tenant, n+1)
	tg.put(tileKey, bytes.Repeat([]byte("j"), int(n+1)*32))
	if err := tg.trySeal(tg.restart(), "after-tile.txt", []byte("after a planted tile\n")); err != nil {
		t.Fatalf("seal: %v", err)
	}
	tg.put(tileKey, bytes.Repeat([]byte("k"), int(n+1)*32))
	if tg.versionsOf(t, tileKey) != 3 {
		t.Fatalf("precondition: %s holds %d versions, want 3", tileKey, tg.versionsOf(t, tileKey))
	}
	tg.restart()
	if code, out := tg.raw(t, "GET", fmt.Sprintf("/v1/log/proofs/consistency?from=1&to=%d", n+1), nil); code != 200 {
		t.Errorf("consistency proof: got %d %.300s, want 200", code, out)
	}
	tg.checkReaders(t, "tile in the middle")
	if err := tg.trySeal(tg.restart(), "after-junk.txt", []byte("after junk over the log's tile\n")); err != nil {
		t.Errorf("seal after junk over the log's tile: %v", err)
	}
	if code, out, errOut := tg.evault("export", tg.dossier.ID, "--out", t.TempDir()+"/b"); code != 0 {
		t.Errorf("evault export: exit %d %s%s", code, out, errOut)
	}
	if rep := tg.audit(); !mentions(rep, tileKey) {
		t.Errorf("audit: got %q, want a problem naming %s", rep.Problems, tileKey)
	}
}

// TestBackdatedDossierRecord: a dossier record that says its device is
// not implantable and keeps evidence one year, backdated beneath the
// vault's. Which version the vault wrote cannot be told from storage, so
// nothing more is sealed into the dossier (its retention is the record's
// to say); what was sealed stays readable; the audit names the record.
func TestBackdatedDossierRecord(t *testing.T) {
	tg := newTarget(t)
	key := fmt.Sprintf("vault/%s/dossiers/%s.json", tenant, tg.dossier.ID)
	var d map[string]any
	if err := json.Unmarshal(tg.get(key), &d); err != nil {
		t.Fatal(err)
	}
	d["implantable"], d["retentionYears"] = false, 1
	forged, _ := json.Marshal(d)
	tg.putBackdated(t, key, forged)

	err := tg.trySeal(tg.restart(), "after-dossier.txt", []byte("into a dossier written over\n"))
	var ve *vault.Error
	if !errorsAs(err, &ve) || ve.Code != vault.CodeTampered {
		t.Errorf("seal into the dossier: got %v, want %s", err, vault.CodeTampered)
	}
	if code, out := tg.raw(t, "GET", "/v1/dossiers/"+tg.dossier.ID+"/documents", nil); code != 200 || !strings.Contains(out, reportPath) {
		t.Errorf("documents: got %d %.300s; want the sealed ones", code, out)
	}
	if rep := tg.audit(); !mentions(rep, key) {
		t.Errorf("audit: got %q, want a problem naming %s", rep.Problems, key)
	}
}

// TestPlantedDossierKeepsTheLawsTerm: a dossier record planted where the
// vault never wrote one (a device it has not seen), saying its evidence is
// kept one year. Uploads into it are still locked for the regulation's ten.
func TestPlantedDossierKeepsTheLawsTerm(t *testing.T) {
	tg := newTarget(t)
	const udi = "7907665Bm8v2AB"
	sum := sha256.Sum256([]byte(tenant + "\x00" + udi))
	id := "dos_" + base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding).EncodeToString(sum[:10])
	planted, _ := json.Marshal(map[string]any{"id": id, "tenant": tenant, "name": "Planted", "basicUdiDi": udi, "regulation": "MDR",
		"riskClass": "IIa", "implantable": false, "highRiskAi": false, "notifiedBody": "0197", "retentionYears": 1,
		"createdAt": time.Now().UTC(), "createdBy": "operator"})
	tg.put(fmt.Sprintf("vault/%s/dossiers/%s.json", tenant, id), planted)

	svc := tg.restart()
	ctx := vault.NewContext(context.Background(), uploader)
	body := []byte("into a planted dossier\n")
	tk, err := svc.StartUpload(ctx, id, document(reportPath, body))
	if err != nil {
		t.Fatalf("start upload into the planted dossier: %v", err)
	}
	testenv.Put(t, tk.Upload, bytes.NewReader(body), int64(len(body)))
	r, err := svc.Complete(ctx, tk.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	if until := r.Predicate.Retention.RetainUntil; until.Before(time.Now().AddDate(10, 0, -1)) {
		t.Errorf("retained until %s, want at least ten years", until.Format(time.DateOnly))
	}
}
