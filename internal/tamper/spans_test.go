package tamper_test

// Checkpoints and head hints a retired key signed over trees of its own,
// written over the log's own or ahead of it, and a fork its holder made.

import (
	"context"
	"time"

	"fmt"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/minio/minio-go/v7"
	"strings"
	"testing"

	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

func fillers(n int64) [][]byte {
	var out [][]byte
	for i := int64(0); i < n; i++ {
		out = append(out, []byte(fmt.Sprintf("filler %d", i)))
	}
	return out
}

func (tg *target) versionsOf(t *testing.T, key string) int {
	t.Helper()
	n := 0
	for o := range tg.mc.ListObjects(context.Background(), tg.bucket, minioListVersions(key)) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if o.Key == key {
			n++
		}
	}
	return n
}

func (tg *target) auditPins(t *testing.T, label string, pins ...receipt.Key) *vault.AuditReport {
	t.Helper()
	rep, err := vault.AuditLog(context.Background(), tg.store.Storage(), tg.bucket, tenant, pins)
	if err != nil {
		t.Errorf("%s: audit: %v", label, err)
		return nil
	}
	t.Logf("%s: audit: %d problems", label, len(rep.Problems))
	for i, p := range rep.Problems {
		if i < 12 {
			t.Logf("  %s", p)
		}
	}
	return rep
}

func mentions(rep *vault.AuditReport, s string) bool {
	if rep == nil {
		return false
	}
	for _, p := range rep.Problems {
		if strings.Contains(p, s) {
			return true
		}
	}
	return false
}

// TestPlantUnderOwnCheckpoint (retired key K0 + bucket): after the
// rotation K0 -> K1, K0's holder plants at checkpoint/{s+1} (beyond the
// log's end) a checkpoint K0 signs over a made-up tree of that size. The
// vault's next seal writes its own over it (createOrSupersede); the
// attacker then writes junk over the log's. CheckpointAt's firstValid
// refuses the junk and, oldest first, takes the plant.
func TestPlantUnderOwnCheckpoint(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	k1 := tg.rotate(t)
	s := tg.sizeWith(t, k1)
	origin := vault.LogOrigin(tg.bucket, tenant)
	plant, _ := madeUpTree(t, k0, origin, fillers(s+1), 0)
	tg.put(cpObject(s+1), []byte(plant))
	if err := tg.trySeal(tg.restartWith(k1, nil), "over-plant.txt", []byte("over the plant\n")); err != nil {
		t.Fatalf("seal over the plant: %v", err)
	}
	own := tg.get(cpObject(s + 1))
	if string(own) == plant {
		t.Fatalf("the log did not write over the plant")
	}
	// Before junk: what the vault serves.
	code, body := tg.raw(t, "GET", fmt.Sprintf("/v1/log/checkpoints/%d", s+1), nil)
	t.Logf("before junk: GET checkpoint %d: %d served-plant=%v", s+1, code, strings.Contains(body, strings.Split(plant, "\n")[2]))
	tg.put(cpObject(s+1), []byte("junk\n"))
	tg.restartWith(k1, nil)
	code, body = tg.raw(t, "GET", fmt.Sprintf("/v1/log/checkpoints/%d", s+1), nil)
	plantRoot := strings.Split(plant, "\n")[2]
	servedPlant := strings.Contains(body, plantRoot)
	t.Logf("after junk: GET checkpoint %d: %d served-plant=%v %.400s", s+1, code, servedPlant, body)
	if servedPlant {
		t.Errorf("the vault serves K0's planted checkpoint (a made-up tree) as the log's checkpoint %d, though the log's own is beneath the junk", s+1)
	}
	code, body = tg.raw(t, "GET", fmt.Sprintf("/v1/log/proofs/inclusion?index=0&size=%d", s+1), nil)
	t.Logf("inclusion at %d: %d %.300s", s+1, code, body)
	code, body = tg.raw(t, "GET", fmt.Sprintf("/v1/log/proofs/consistency?from=1&to=%d", s+1), nil)
	t.Logf("consistency to %d: %d %.300s", s+1, code, body)
	c, out, errOut := tg.evault("export", tg.dossier.ID, "--checkpoint", fmt.Sprint(s+1), "--out", t.TempDir()+"/b")
	t.Logf("export at %d: %d %s%s", s+1, c, out, errOut)
	if c != 0 {
		t.Errorf("export at %d, the log's own checkpoint intact beneath: exit %d %s%s", s+1, c, out, errOut)
	}
	tg.checkReaders(t, "after junk")
	rep := tg.auditPins(t, "pin K0", k0.Key())
	if !mentions(rep, cpObject(s+1)) {
		t.Errorf("audit does not name %s", cpObject(s+1))
	}
}

// TestRetiredKeyCheckpointOver (retired key + bucket): a checkpoint K0
// signs over a made-up tree, written over the log's own at a size inside
// K0's span (before the rotation) and at one after it.
func TestRetiredKeyCheckpointOver(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	r := tg.logSize(t) // K0 signed sizes 1..r
	k1 := tg.rotate(t)
	s := tg.sizeWith(t, k1)
	origin := vault.LogOrigin(tg.bucket, tenant)
	for _, size := range []int64{r, s} {
		fake, _ := madeUpTree(t, k0, origin, fillers(size), 0)
		tg.put(cpObject(size), []byte(fake))
		tg.restartWith(k1, nil)
		code, body := tg.raw(t, "GET", fmt.Sprintf("/v1/log/checkpoints/%d", size), nil)
		served := strings.Contains(body, strings.Split(fake, "\n")[2])
		t.Logf("size %d: GET checkpoint: %d served-fake=%v", size, code, served)
		if served {
			t.Errorf("size %d: the vault serves K0's made-up checkpoint over the log's own", size)
		}
		c, out, errOut := tg.evault("log", "check")
		t.Logf("size %d: log check: %d %s%s", size, c, out, errOut)
		c, out, errOut = tg.evault("export", tg.dossier.ID, "--checkpoint", fmt.Sprint(size), "--out", t.TempDir()+"/b")
		t.Logf("size %d: export: %d %s%s", size, c, out, errOut)
		if c == 0 {
			c2, out2, err2 := tg.evault("verify-bundle", t.TempDir())
			_ = c2
			_ = out2
			_ = err2
		}
		rep := tg.auditPins(t, fmt.Sprintf("size %d, pin K0", size), k0.Key())
		if !mentions(rep, cpObject(size)) {
			t.Errorf("audit does not name %s", cpObject(size))
		}
	}
}

// TestRetiredKeyHeadHintAhead (retired key + bucket): after the rotation,
// K0's holder writes a head hint whose checkpoint K0 signs, over a made-up
// tree beyond the log's end. The ledger opens hints with every key of the
// history, whatever its span.
func TestRetiredKeyHeadHintAhead(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	k1 := tg.rotate(t)
	s := tg.sizeWith(t, k1)
	origin := vault.LogOrigin(tg.bucket, tenant)
	fake, _ := madeUpTree(t, k0, origin, fillers(s+20), 0)
	object := "ledger/" + tenant + "/head.json"
	tg.put(object, mustJSON(map[string]any{"start": s + 19, "size": s + 20, "checkpoint": fake}))
	tg.restartWith(k1, nil)
	code, body := tg.raw(t, "GET", "/v1/log/checkpoint", nil)
	t.Logf("GET latest: %d %.400s", code, body)
	if strings.Contains(body, strings.Split(fake, "\n")[2]) {
		t.Errorf("the vault's latest checkpoint is K0's made-up one from the head hint")
	}
	err := tg.trySeal(tg.restartWith(k1, nil), "after-hint.txt", []byte("after the hint\n"))
	t.Logf("seal after the hint: %v", err)
	if err != nil {
		t.Errorf("seal after a retired-key head hint: %v", err)
	}
	tg.checkReaders(t, "after hint")
	rep := tg.auditPins(t, "pin K1", k1.Key())
	if !mentions(rep, object) {
		t.Errorf("audit does not name %s", object)
	}
}

// TestForkWinsAfterJunkAtRotation (bucket before, retired key after):
// junk planted at the sizes the rotation's commit will produce makes the
// real rotation's checkpoint not the first at its size; a fork K0 -> K2
// planted later beyond the log's end is "committed" (its plant is first),
// so the tie-break takes the fork.
func TestForkWinsAfterJunkAtRotation(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	n := tg.logSize(t)
	for s := n + 1; s <= n+3; s++ {
		tg.put(cpObject(s), []byte("not a checkpoint\n"))
	}
	k1 := tg.rotate(t)
	s := tg.sizeWith(t, k1)
	atk := testenv.Signer(t)
	origin := vault.LogOrigin(tg.bucket, tenant)
	_ = origin
	t.Logf("checkpoint objects: %v", tg.keys("ledger/"+tenant+"/checkpoint/"))
	// Now one beyond the end, as TestRetiredKeyForkBeyondEnd does.
	m := s + 100
	forkObject := tg.forkAt(t, k0, atk, m)
	for _, pins := range [][]receipt.Key{{k0.Key()}, {k1.Key()}} {
		rep := tg.auditPins(t, "fork beyond end, pin "+pins[0].ID[:8], pins...)
		if rep == nil {
			continue
		}
		blamed := 0
		for _, p := range rep.Problems {
			if !strings.Contains(p, atk.Key().ID) && !strings.Contains(p, cpObject(m)) && !strings.Contains(p, forkObject) &&
				!strings.Contains(p, "checkpoint/0000") {
				blamed++
			}
		}
		if blamed > 0 {
			t.Errorf("pin %s: the audit reports %d problems about the real records: it followed the fork", pins[0].ID[:8], blamed)
		}
	}
	v := tg.verifyResp(t, map[string]any{"receipt": tg.report2.Bundle()})
	t.Logf("verify: valid=%v trusted=%+v", v.Valid, v.Trusted)
	c, out, errOut := tg.evault("log", "check")
	t.Logf("log check (pinned K0 before): %d %s%s", c, out, errOut)
}

func minioListVersions(key string) minio.ListObjectsOptions {
	return minio.ListObjectsOptions{Prefix: key, WithVersions: true}
}

// forkAt plants a rotation old -> atk at index 1 of a made-up tree of size
// m that atk signs, and writes that checkpoint at checkpoint/m first.
func (tg *target) forkAt(t *testing.T, old, atk *receipt.LocalSigner, m int64) string {
	t.Helper()
	origin := vault.LogOrigin(tg.bucket, tenant)
	prev := pubKey(old.Key())
	ev := vault.KeyEvent{Event: vault.KeyRotation, Log: origin, Key: pubKey(atk.Key()), Previous: &prev, At: time.Now().UTC()}
	envJSON, leaf := keyEventEnvelope(t, ev, atk, old)
	leaves := [][]byte{[]byte("filler 0"), leaf}
	for int64(len(leaves)) < m {
		leaves = append(leaves, []byte(fmt.Sprintf("filler %d", len(leaves))))
	}
	cp, proof := madeUpTree(t, atk, origin, leaves, 1)
	if tg.versionsOf(t, cpObject(m)) == 0 {
		tg.put(cpObject(m), []byte(cp))
	}
	object := "vault/" + tenant + "/keyevents/key-rotation-" + atk.Key().ID + ".json"
	tg.put(object, mustJSON(vault.Bundle{Envelope: envJSON, Log: &ledger.Proof{Origin: origin, Index: 1, Checkpoint: cp, Inclusion: proof}}))
	return object
}

func (tg *target) sizeWith(t *testing.T, k *receipt.LocalSigner) int64 {
	t.Helper()
	svc := tg.restartWith(k, nil)
	cp, err := svc.Checkpoint(vault.NewContext(context.Background(), uploader), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("log size (process with %s): %d", k.Key().ID[:8], cp.Size)
	return cp.Size
}
