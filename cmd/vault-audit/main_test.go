package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
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
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-tenant", "acme"}, os.Getenv, &out, &errOut); code != 0 {
		t.Fatalf("audit of an intact log: exit %d, %s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "2 entries") || !strings.Contains(out.String(), ": consistent") {
		t.Errorf("got %q, want a consistent log of 2 entries", out.String())
	}

	// Remove a receipt (a delete marker; the locked version stays).
	keys, err := store.List(context.Background(), "vault/acme/receipts/")
	if err != nil || len(keys) != 2 {
		t.Fatalf("receipts: %v %v", keys, err)
	}
	bucket := store.Bucket()
	if _, err := env.Client(t).DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: &bucket, Key: &keys[0]}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(context.Background(), []string{"-tenant", "acme"}, os.Getenv, &out, &errOut); code != 1 {
		t.Fatalf("audit after a receipt was removed: exit %d, want 1: %s", code, out.String())
	}
	if !strings.Contains(out.String(), "is missing") {
		t.Errorf("got %q, want the missing receipt named", out.String())
	}
	if code := run(context.Background(), nil, os.Getenv, &out, &errOut); code != 2 {
		t.Errorf("without -tenant: exit %d, want 2", code)
	}
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
