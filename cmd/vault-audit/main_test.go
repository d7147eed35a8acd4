package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/minio/minio-go/v7"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func TestAuditCommand(t *testing.T) {
	env := testenv.Get(t)
	svc, store := env.Service(t, vault.Config{LockMode: vault.Governance})
	ctx := vault.NewContext(context.Background(), vault.Identity{Tenant: "acme", Subject: "a@acme.example", Role: vault.RoleUploader})
	implantable, ai := false, false
	d, err := svc.CreateDossier(ctx, vault.DossierInput{Name: "Device", BasicUDIDI: "12345ANJ", Regulation: regulation.MDR, RiskClass: "I",
		Implantable: &implantable, HighRiskAI: &ai})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.txt", "b.txt"} {
		body := []byte("evidence " + name)
		tk, err := svc.StartUpload(ctx, d.ID, vault.Document{Path: "reports/" + name, Title: "Report", Kind: regulation.KindTestReport,
			Section: "MDR-II-6.1", Revision: "1", Language: "en", EffectiveDate: "2026-11-01", Author: "QA",
			File: vault.File{Name: name, Size: int64(len(body)), SHA256: sha(body), ContentType: "text/plain"}})
		if err != nil {
			t.Fatal(err)
		}
		testenv.Put(t, tk.Upload, bytes.NewReader(body), int64(len(body)))
		if _, err := svc.Complete(ctx, tk.UploadID); err != nil {
			t.Fatal(err)
		}
	}
	env.SetFunctionEnv(t, store.Bucket())
	keys, err := svc.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "vault.pem")
	if err := os.WriteFile(keyFile, []byte(keys[0].PEM), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-tenant", "acme", "-key", keyFile}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), args, os.Getenv, &out, &errOut); code != 0 {
		t.Fatalf("audit of an intact log: exit %d, %s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "3 entries") || !strings.Contains(out.String(), ": consistent") {
		t.Errorf("got %q, want a consistent log of 3 entries (the key's genesis, two receipts)", out.String())
	}

	// Remove a receipt (a delete marker; the locked version stays).
	// Hide a receipt behind a delete marker (the locked version stays).
	receipts, err := store.Storage().Records.List(context.Background(), "vault/acme/receipts/")
	if err != nil || len(receipts) != 2 {
		t.Fatalf("receipts: %v %v", receipts, err)
	}
	if err := env.Root(t).RemoveObject(context.Background(), store.Bucket(), receipts[0].Key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(context.Background(), args, os.Getenv, &out, &errOut); code != 1 {
		t.Fatalf("audit after a receipt was hidden: exit %d, want 1: %s", code, out.String())
	}
	if !strings.Contains(out.String(), receipts[0].Key) || !strings.Contains(out.String(), "delete marker") {
		t.Errorf("got %q, want the hidden receipt named", out.String())
	}
	for name, args := range map[string][]string{"without -tenant": {"-key", keyFile}, "without -key": {"-tenant", "acme"}} {
		if code := run(context.Background(), args, os.Getenv, &out, &errOut); code != 2 {
			t.Errorf("%s: exit %d, want 2", name, code)
		}
	}
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
