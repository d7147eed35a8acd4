package assembly

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/mldsa"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/evidencevault/vault/internal/witnessing"
	"golang.org/x/mod/sumdb/note"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnv(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	os.WriteFile(keyFile, []byte("PEM"), 0o600)
	good := map[string]string{"VAULT_BUCKET": "evidence", "VAULT_SIGNING_KEY": "PEM"}
	c, err := FromEnv(env(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Bucket != "evidence" || c.LockMode != vault.Compliance || string(c.SigningKeyPEM) != "PEM" || c.S3.PathStyle {
		t.Errorf("got %+v", c)
	}
	c, err = FromEnv(env(map[string]string{"VAULT_BUCKET": "b", "VAULT_SIGNING_KEY_FILE": keyFile, "VAULT_LOCK_MODE": "GOVERNANCE",
		"VAULT_UPLOAD_TTL": "30m", "VAULT_S3_PATH_STYLE": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.LockMode != vault.Governance || c.UploadTTL != 30*time.Minute || string(c.SigningKeyPEM) != "PEM" || !c.S3.PathStyle {
		t.Errorf("got %+v", c)
	}
	c, err = FromEnv(env(map[string]string{"VAULT_BUCKET": "b", "VAULT_SIGNING_KMS_KEY": "alias/evidence-vault-receipts"}))
	if err != nil || c.KMSKeyID != "alias/evidence-vault-receipts" || c.SigningKeyPEM != nil {
		t.Errorf("KMS signer: got %+v, %v", c, err)
	}
	_, witnessKey, err := note.GenerateKey(rand.Reader, "witness.nb.example")
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, err := note.GenerateKey(rand.Reader, "witness.other.example")
	if err != nil {
		t.Fatal(err)
	}
	c, err = FromEnv(env(map[string]string{"VAULT_BUCKET": "b", "VAULT_SIGNING_KEY": "k",
		"VAULT_WITNESSES": "https://w1.example " + witnessKey + "\nhttps://w2.example " + otherKey, "VAULT_WITNESS_QUORUM": "1"}))
	if err != nil || len(c.Witnesses) != 2 || c.WitnessQuorum != 1 {
		t.Errorf("two witnesses, a quorum of one: got %d witnesses, quorum %d (%v)", len(c.Witnesses), c.WitnessQuorum, err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"two signers", map[string]string{"VAULT_BUCKET": "b", "VAULT_SIGNING_KEY": "k", "VAULT_SIGNING_KMS_KEY": "alias/x"}, []string{"VAULT_SIGNING_KMS_KEY"}},
		{"nothing set", map[string]string{}, []string{"VAULT_BUCKET", "VAULT_SIGNING_KEY"}},
		{"lock mode", map[string]string{"VAULT_BUCKET": "b", "VAULT_SIGNING_KEY": "k", "VAULT_LOCK_MODE": "LEGAL_HOLD"}, []string{"VAULT_LOCK_MODE"}},
		{"ttl", map[string]string{"VAULT_BUCKET": "b", "VAULT_SIGNING_KEY": "k", "VAULT_DOWNLOAD_TTL": "8d"}, []string{"VAULT_DOWNLOAD_TTL"}},
		{"ttl too long", map[string]string{"VAULT_BUCKET": "b", "VAULT_SIGNING_KEY": "k", "VAULT_UPLOAD_TTL": "200h"}, []string{"VAULT_UPLOAD_TTL"}},
		{"key file missing", map[string]string{"VAULT_BUCKET": "b", "VAULT_SIGNING_KEY_FILE": "/nonexistent/key.pem"}, []string{"VAULT_SIGNING_KEY_FILE"}},
		{"authority's header and its secret", map[string]string{"VAULT_BUCKET": "b", "VAULT_SIGNING_KEY": "k", "VAULT_TSA_URL": "https://tsa.example", "VAULT_TSA_ROOTS": "PEM",
			"VAULT_TSA_AUTH_HEADER": "Authorization: Bearer x", "VAULT_TSA_AUTH_SECRET": "tsa-auth"}, []string{"VAULT_TSA_AUTH_HEADER and VAULT_TSA_AUTH_SECRET"}},
		{"a witness the portal cannot verify", map[string]string{"VAULT_BUCKET": "b", "VAULT_SIGNING_KEY": "k",
			"VAULT_WITNESSES": "https://witness.example " + mldsaWitness(t)}, []string{"VAULT_WITNESSES", "not Ed25519"}},
		{"one witness key twice", map[string]string{"VAULT_BUCKET": "b", "VAULT_SIGNING_KEY": "k",
			"VAULT_WITNESSES": "https://w1.example " + witnessKey + ";https://w2.example " + witnessKey}, []string{"VAULT_WITNESSES", "are one key"}},
		{"a quorum beyond the witnesses", map[string]string{"VAULT_BUCKET": "b", "VAULT_SIGNING_KEY": "k",
			"VAULT_WITNESSES": "https://w1.example " + witnessKey, "VAULT_WITNESS_QUORUM": "2"}, []string{"VAULT_WITNESS_QUORUM", "1 to 1"}},
		{"a quorum of none", map[string]string{"VAULT_BUCKET": "b", "VAULT_SIGNING_KEY": "k",
			"VAULT_WITNESSES": "https://w1.example " + witnessKey, "VAULT_WITNESS_QUORUM": "0"}, []string{"VAULT_WITNESS_QUORUM"}},
		{"a quorum without witnesses", map[string]string{"VAULT_BUCKET": "b", "VAULT_SIGNING_KEY": "k", "VAULT_WITNESS_QUORUM": "1"}, []string{"VAULT_WITNESS_QUORUM"}},
		{"authority's secret, no authority", map[string]string{"VAULT_BUCKET": "b", "VAULT_SIGNING_KEY": "k", "VAULT_TSA_AUTH_SECRET": "tsa-auth"}, []string{"VAULT_TSA_URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEnv(env(tt.env))
			if err == nil {
				t.Fatal("got no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %v, want it to name %s", err, w)
				}
			}
		})
	}
}

// mldsaWitness is the note vkey of an ML-DSA-44 witness: a kind Go's
// verifiers take and browsers cannot check.
func mldsaWitness(t *testing.T) string {
	t.Helper()
	k, err := mldsa.GenerateKey(mldsa.MLDSA44())
	if err != nil {
		t.Fatal(err)
	}
	pub := append([]byte{0x06}, k.PublicKey().Bytes()...)
	name := "witness.pq.example"
	h := sha256.Sum256(append([]byte(name+"\n"), pub...))
	vkey := fmt.Sprintf("%s+%08x+%s", name, binary.BigEndian.Uint32(h[:4]), base64.StdEncoding.EncodeToString(pub))
	if _, err := witnessing.ParseVerifier(vkey); err != nil {
		t.Fatalf("Go's verifiers should take an ML-DSA-44 witness: %v", err)
	}
	return vkey
}
