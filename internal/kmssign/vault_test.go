package kmssign_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/evidencevault/vault/internal/kmssign"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/vault"
)

// TestRotationFromLocalKeyToKMS runs a vault that signs with a
// local key, then rotates to the KMS signer (the local key configured as
// the previous one): GET /v1/keys lists both, the KMS one current, the
// log's history leads from the local key to the KMS key, and receipts and
// checkpoints of either signer verify the same way, offline.
func TestRotationFromLocalKeyToKMS(t *testing.T) {
	store := memstore.New("evidence")
	cfg := vault.Config{Bucket: store.Bucket(), LockMode: vault.Governance, Logger: slog.New(slog.DiscardHandler)}
	alice := vault.NewContext(context.Background(), vault.Identity{Tenant: "acme", Subject: "alice@acme.example", Role: vault.RoleUploader})

	local, err := receipt.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	before := vault.New(store.Storage(), local, cfg)
	implantable, ai := false, false
	d, err := before.CreateDossier(alice, vault.DossierInput{Name: "Oximeter", BasicUDIDI: "12345ANJ", Regulation: regulation.MDR,
		RiskClass: "IIa", Implantable: &implantable, HighRiskAI: &ai, NotifiedBody: "0197"})
	if err != nil {
		t.Fatal(err)
	}
	seal := func(svc *vault.Service, path, body string) []byte {
		t.Helper()
		sum := sha256.Sum256([]byte(body))
		tk, err := svc.StartUpload(alice, d.ID, vault.Document{Path: path, Title: "Report", Kind: regulation.KindTestReport,
			Section: "MDR-II-6.1", Revision: "1", Language: "en", EffectiveDate: "2026-11-23", Author: "QA",
			File: vault.File{Name: path, Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), ContentType: "text/plain"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Send(tk.Upload, []byte(body)); err != nil {
			t.Fatal(err)
		}
		r, err := svc.Complete(alice, tk.UploadID)
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(r.Bundle())
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	first := seal(before, "a.txt", "signed locally\n")

	f := &fakeKMS{}
	kmsSigner, err := kmssign.New(context.Background(), newKMS(t, f), keyARN)
	if err != nil {
		t.Fatal(err)
	}
	rotating := cfg
	rotating.Previous = local
	after := vault.New(store.Storage(), kmsSigner, rotating)
	second := seal(after, "b.txt", "signed by KMS\n")

	published, err := after.Keys(alice)
	if err != nil {
		t.Fatal(err)
	}
	localID, _ := local.KeyID()
	kmsID, _ := kmsSigner.KeyID()
	var keys []receipt.Key
	current := map[string]bool{}
	for _, k := range published {
		key, err := receipt.ParsePublicKey([]byte(k.PEM))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
		current[k.KeyID] = k.Current
	}
	if len(keys) != 2 || current[localID] || !current[kmsID] {
		t.Fatalf("got keys %v, want the local key and the KMS key, the KMS one current", current)
	}
	// A verifier who pinned the local key is led to the KMS key by the
	// log's rotation entry, which both keys signed.
	kl, err := after.KeyHistory(alice, 0)
	if err != nil {
		t.Fatal(err)
	}
	trust, _, err := vault.TrustLog(context.Background(), kl.Origin, []byte(kl.Checkpoint), kl.Events, keys[indexOf(keys, localID)])
	if err != nil || len(trust.Keys) != 2 || trust.Keys[1].Key.ID != kmsID {
		t.Fatalf("trust from the local key: got %+v, %v; want it to lead to the KMS key", trust, err)
	}
	for name, data := range map[string][]byte{"local": first, "kms": second} {
		ver, r := vault.VerifyOffline(context.Background(), data, trust, "", -1)
		if !ver.Valid {
			t.Errorf("%s receipt: %+v", name, ver.Checks)
			continue
		}
		if want := map[string]string{"local": localID, "kms": kmsID}[name]; ver.KeyID != want {
			t.Errorf("%s receipt signed by %s, want %s", name, ver.KeyID, want)
		}
		if name == "kms" {
			// The checkpoint in the KMS receipt is KMS-signed and extends
			// the one the local key signed.
			older, err := ledger.OpenCheckpoint([]byte(mustProof(t, first).Checkpoint), r.Log.Origin, receipt.PublicKeys(keys))
			if err != nil {
				t.Fatalf("checkpoint before rotation: %v", err)
			}
			newer, err := ledger.OpenCheckpoint([]byte(r.Log.Checkpoint), r.Log.Origin, receipt.PublicKeys(keys[indexOf(keys, kmsID):][:1]))
			if err != nil {
				t.Fatalf("checkpoint after rotation: %v", err)
			}
			proof, err := after.ConsistencyProof(alice, older.Size, newer.Size)
			if err != nil || ledger.VerifyConsistency(older, newer, proof.Hashes) != nil {
				t.Errorf("consistency across the rotation: %v", err)
			}
		}
	}
}

func mustProof(t *testing.T, bundle []byte) *ledger.Proof {
	t.Helper()
	var b vault.Bundle
	if err := json.Unmarshal(bundle, &b); err != nil || b.Log == nil {
		t.Fatalf("bundle without a log proof: %v", err)
	}
	return b.Log
}

func indexOf(keys []receipt.Key, id string) int {
	for i, k := range keys {
		if k.ID == id {
			return i
		}
	}
	return -1
}
