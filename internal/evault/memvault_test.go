package evault_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"testing"

	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/vault"
)

// memVault is a vault on an in-memory bucket, signing with signer under
// cfg, with one dossier whose tests/a.txt is sealed; ctx is its caller.
func memVault(t *testing.T, ctx context.Context, signer receipt.Signer, cfg vault.Config) (*vault.Service, *memstore.Bucket, vault.Dossier, *vault.Receipt) {
	t.Helper()
	b := memstore.New("evidence")
	cfg.Bucket, cfg.Logger = b.Bucket(), slog.New(slog.DiscardHandler)
	svc := vault.New(b.Storage(), signer, cfg)
	yes, no := true, false
	d, err := svc.CreateDossier(ctx, vault.DossierInput{Name: "Device", BasicUDIDI: "12345ANJ", Regulation: regulation.MDR, RiskClass: "IIb", Implantable: &no, HighRiskAI: &yes, NotifiedBody: "0197"})
	if err != nil {
		t.Fatal(err)
	}
	r := sealReport(t, ctx, svc, b, d.ID, []byte("report"))
	return svc, b, d, r
}

// sealReport uploads body as tests/a.txt of dossier, as ctx's caller, and
// seals it.
func sealReport(t *testing.T, ctx context.Context, svc *vault.Service, b *memstore.Bucket, dossier string, body []byte) *vault.Receipt {
	t.Helper()
	sum := sha256.Sum256(body)
	tk, err := svc.StartUpload(ctx, dossier, vault.Document{Path: "tests/a.txt", Title: "Report", Kind: regulation.KindTestReport, Section: "MDR-II-6.1", Revision: "A",
		Language: "en", EffectiveDate: "2026-11-01", Author: "QA",
		File: vault.File{Name: "a.txt", Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), ContentType: "text/plain"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Send(tk.Upload, body); err != nil {
		t.Fatal(err)
	}
	r, err := svc.Complete(ctx, tk.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
