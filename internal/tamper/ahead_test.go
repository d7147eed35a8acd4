package tamper_test

// Objects planted at places the log has not reached yet: checkpoints at
// sizes beyond its end (so that the first version there is the
// attacker's), alone or under a rotation a retired key's holder forged.

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

func (tg *target) logSize(t *testing.T) int64 {
	t.Helper()
	svc := tg.restart()
	cp, err := svc.Checkpoint(vault.NewContext(context.Background(), uploader), 0)
	if err != nil {
		t.Fatal(err)
	}
	return cp.Size
}

func cpObject(size int64) string { return fmt.Sprintf("ledger/%s/checkpoint/%020d", tenant, size) }

// check runs the readers an auditor would and logs what they answer.
func (tg *target) checkReaders(t *testing.T, label string) {
	t.Helper()
	for _, path := range []string{"/v1/keys", "/v1/log/keys", "/v1/log/checkpoint", "/v1/dossiers/" + tg.dossier.ID + "/documents",
		"/v1/dossiers/" + tg.dossier.ID + "/download?path=" + reportPath} {
		code, body := tg.raw(t, "GET", path, nil)
		t.Logf("%s: GET %s: %d %.300s", label, path, code, body)
		if code >= 500 {
			t.Errorf("%s: GET %s: %d %.300s", label, path, code, body)
		}
	}
	c, out, errOut := tg.evault("log", "check")
	t.Logf("%s: log check: %d %s%s", label, c, out, errOut)
	if c != 0 {
		t.Errorf("%s: evault log check: exit %d %s%s", label, c, out, errOut)
	}
}

// TestPlantedCheckpointAheadRotation (bucket access only): before
// the vault's rotation K0 -> K1 is logged, the operator writes an object at
// checkpoint/{N+1} (N the log's size), the size the rotation's commit will
// produce. The vault's checkpoint there is then not the FIRST version, so
// its own rotation never counts (Committed is false), ever (the object is
// locked).
func TestPlantedCheckpointAheadRotation(t *testing.T) {
	tg := newTarget(t)
	n := tg.logSize(t)
	k0 := tg.signer
	for s := n + 1; s <= n+3; s++ {
		tg.put(cpObject(s), []byte("not a checkpoint\n"))
	}
	k1 := testenv.Signer(t)
	err := tg.trySeal(tg.restartWith(k1, k0), "after-rotation.txt", []byte("sealed with the new key\n"))
	t.Logf("first seal with K1 (previous K0) after checkpoints planted at %d..%d: %v", n+1, n+3, err)
	if err != nil {
		t.Errorf("first seal after the rotation, with checkpoint/%d planted: %v", n+1, err)
	}
	err = tg.trySeal(tg.restartWith(k1, k0), "after-rotation2.txt", []byte("again\n"))
	t.Logf("second seal (fresh process, K1 previous K0): %v", err)
	if err != nil {
		t.Errorf("second seal: %v", err)
	}
	err = tg.trySeal(tg.restartWith(k1, nil), "after-rotation3.txt", []byte("again\n"))
	t.Logf("seal (fresh process, K1 alone): %v", err)
	if err != nil {
		t.Errorf("seal with K1 alone after the rotation: %v", err)
	}
	tg.restartWith(k1, nil)
	tg.checkReaders(t, "K1 alone")
	for _, pins := range [][]receipt.Key{{k1.Key()}, {k0.Key()}} {
		rep, err := vault.AuditLog(context.Background(), tg.store.Storage(), tg.bucket, tenant, pins)
		if err != nil {
			t.Errorf("audit: %v", err)
			continue
		}
		t.Logf("audit (pin %s): %d problems: %q", pins[0].ID, len(rep.Problems), rep.Problems)
		for s := n + 1; s <= n+3; s++ {
			named := false
			for _, p := range rep.Problems {
				named = named || strings.Contains(p, cpObject(s))
			}
			if !named {
				t.Errorf("audit (pin %s) does not name the planted %s", pins[0].ID, cpObject(s))
			}
		}
	}
}

// TestPlantedCheckpointAheadSeal (bucket access only, no rotation):
// an object at checkpoint/{N+1} before the next seal.
func TestPlantedCheckpointAheadSeal(t *testing.T) {
	tg := newTarget(t)
	n := tg.logSize(t)
	tg.put(cpObject(n+1), []byte("not a checkpoint\n"))
	err := tg.trySeal(tg.restart(), "next.txt", []byte("next\n"))
	t.Logf("seal at %d with checkpoint/%d planted: %v", n, n+1, err)
	if err != nil {
		var ve *vault.Error
		t.Errorf("seal with checkpoint/%d planted: %v (a vault.Error, not a 500: %v)", n+1, err, errorsAs(err, &ve))
	}
	err = tg.trySeal(tg.restart(), "next2.txt", []byte("next 2\n"))
	t.Logf("next seal (fresh process): %v", err)
	if err != nil {
		t.Errorf("the seal after: %v", err)
	}
	code, body := tg.raw(t, "GET", fmt.Sprintf("/v1/log/checkpoints/%d", n+1), nil)
	t.Logf("GET /v1/log/checkpoint?size=%d: %d %.300s", n+1, code, body)
	if code >= 500 && code != 502 {
		t.Errorf("GET checkpoint at the planted size: %d %s", code, body)
	}
	tg.checkReaders(t, "after")
	tg.named(t, cpObject(n+1))
}

// TestRetiredKeyForkBeyondEnd (retired key + bucket): after the
// rotation K0 -> K1 at index r, K0's holder plants a rotation K0 -> K2 at
// index 1 of a made-up tree of size M, beyond the log's end, and writes
// checkpoint/M first: Committed(M) is true, though the log never reached
// M. The folder-whole readers (the audit, a new process finding no named
// chain) then take the fork, which wins over the real rotation (the first
// rotation from K0 by index).
func TestRetiredKeyForkBeyondEnd(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	k1 := tg.rotate(t)
	s := tg.logSize(t)
	atk := testenv.Signer(t)
	origin := vault.LogOrigin(tg.bucket, tenant)

	prev := pubKey(k0.Key())
	ev := vault.KeyEvent{Event: vault.KeyRotation, Log: origin, Key: pubKey(atk.Key()), Previous: &prev, At: time.Now().UTC()}
	envJSON, leaf := keyEventEnvelope(t, ev, atk, k0)
	m := s + 100
	leaves := [][]byte{[]byte("filler 0"), leaf}
	for int64(len(leaves)) < m {
		leaves = append(leaves, []byte(fmt.Sprintf("filler %d", len(leaves))))
	}
	cp, proof := madeUpTree(t, atk, origin, leaves, 1)
	tg.put(cpObject(m), []byte(cp))
	object := "vault/" + tenant + "/keyevents/key-rotation-" + atk.Key().ID + ".json"
	tg.put(object, mustJSON(vault.Bundle{Envelope: envJSON, Log: &ledger.Proof{Origin: origin, Index: 1, Checkpoint: cp, Inclusion: proof}}))

	for _, pins := range [][]receipt.Key{{k1.Key()}, {k0.Key()}, {k1.Key(), k0.Key()}} {
		rep, err := vault.AuditLog(context.Background(), tg.store.Storage(), tg.bucket, tenant, pins)
		if err != nil {
			t.Errorf("audit (pin %d keys): %v", len(pins), err)
			continue
		}
		t.Logf("audit (pin %s ...): %d problems; first %q", pins[0].ID, len(rep.Problems), rep.First())
		named, blamed := false, 0
		for _, p := range rep.Problems {
			named = named || strings.Contains(p, object)
			if !strings.Contains(p, atk.Key().ID) && !strings.Contains(p, cpObject(m)) {
				blamed++
				if blamed <= 3 {
					t.Logf("  not about the plant: %s", p)
				}
			}
		}
		if !named {
			t.Errorf("audit (pin %s...) does not name %s", pins[0].ID, object)
		}
		if blamed > 0 {
			t.Errorf("audit (pin %s...) reports %d problems about the real records after one planted rotation beyond the log's end", pins[0].ID, blamed)
		}
	}
	v := tg.verifyResp(t, map[string]any{"receipt": tg.report2.Bundle()})
	t.Logf("verify real v2: valid=%v trusted=%+v", v.Valid, v.Trusted)
	for _, k := range v.Trusted.Keys {
		if k == atk.Key().ID {
			t.Errorf("the vault trusts K2")
		}
	}
	tg.restartWith(k1, nil)
	tg.checkReaders(t, "after the fork")
}

// TestOneCheckpointKillsRotation: the minimal form, bucket access
// only: one object at checkpoint/{N+1} before the vault's rotation is
// logged. Readers with the vault as the rotation configured it (K1,
// previous K0), and later with K1 alone.
func TestOneCheckpointKillsRotation(t *testing.T) {
	tg := newTarget(t)
	n := tg.logSize(t)
	k0 := tg.signer
	tg.put(cpObject(n+1), []byte("x"))
	k1 := testenv.Signer(t)
	err := tg.trySeal(tg.restartWith(k1, k0), "after-rotation.txt", []byte("sealed with the new key\n"))
	t.Logf("first seal with K1 (previous K0): %v", err)
	err = tg.trySeal(tg.restartWith(k1, k0), "after-rotation2.txt", []byte("again\n"))
	t.Logf("second seal with K1 (previous K0): %v", err)
	if err != nil {
		t.Errorf("second seal: %v", err)
	}
	tg.restartWith(k1, k0)
	code, body := tg.raw(t, "GET", "/v1/log/keys", nil)
	t.Logf("K1+K0: GET /v1/log/keys: %d %.1500s", code, body)
	tg.checkReaders(t, "K1+K0")
	err = tg.trySeal(tg.restartWith(k1, nil), "after-rotation3.txt", []byte("again\n"))
	t.Logf("seal with K1 alone: %v", err)
	if err != nil {
		t.Errorf("seal with K1 alone: %v", err)
	}
	tg.checkReaders(t, "K1 alone")
	rep, err := vault.AuditLog(context.Background(), tg.store.Storage(), tg.bucket, tenant, []receipt.Key{k1.Key()})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("audit (pin K1): first %q", rep.First())
}

// TestNewTenantCheckpointPlanted: bucket access only: before a
// brand-new tenant's first seal, an object at checkpoint/1 (the size the
// genesis commit makes).
func TestNewTenantCheckpointPlanted(t *testing.T) {
	tg := newTarget(t)
	const beta = "beta"
	up := vault.Identity{Tenant: beta, Subject: "bob@beta.example", Role: vault.RoleUploader}
	for s := 1; s <= 2; s++ {
		tg.put(fmt.Sprintf("ledger/%s/checkpoint/%020d", beta, s), []byte("x"))
	}
	svc := tg.restart()
	ctx := vault.NewContext(context.Background(), up)
	implantable, ai := false, false
	d, err := svc.CreateDossier(ctx, vault.DossierInput{Name: "Beta device", BasicUDIDI: "1987654Ad4X4bL5ttr2310c2K",
		Regulation: regulation.MDR, RiskClass: "IIa", Implantable: &implantable, HighRiskAI: &ai, NotifiedBody: "0197"})
	if err != nil {
		t.Fatal(err)
	}
	seal := func(svc *vault.Service, path string) error {
		body := []byte("beta " + path + "\n")
		tk, err := svc.StartUpload(ctx, d.ID, document(path, body))
		if err != nil {
			return err
		}
		if err := testenv.Send(tk.Upload, bytes.NewReader(body), int64(len(body))); err != nil {
			return err
		}
		_, err = svc.Complete(ctx, tk.UploadID)
		return err
	}
	for i, p := range []string{"a.txt", "b.txt", "c.txt", "d.txt"} {
		if i > 0 {
			svc = tg.restart()
		}
		err := seal(svc, p)
		t.Logf("beta seal %s: %v", p, err)
		if i >= 2 && err != nil {
			t.Errorf("beta seal %s: %v", p, err)
		}
	}
	svc = tg.restart()
	kl, err := svc.KeyHistory(ctx, 0)
	if err != nil {
		t.Errorf("beta key history: %v", err)
	} else {
		t.Logf("beta key history: %d events", len(kl.Events))
		if len(kl.Events) == 0 {
			t.Errorf("beta's log holds its genesis, but the vault's key history for it is empty")
		}
	}
	rep, err := vault.AuditLog(context.Background(), tg.store.Storage(), tg.bucket, beta, []receipt.Key{tg.signer.Key()})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("beta audit: %q", rep.Problems)
}
