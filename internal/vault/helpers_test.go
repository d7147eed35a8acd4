package vault_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
	"testing"

	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/vault"
)

// The domain is tested on the in-memory bucket; the S3 adapter and the
// whole stack are tested against MinIO in their own packages.

var (
	alice   = vault.Identity{Tenant: "acme", Subject: "alice@acme.example", Role: vault.RoleUploader}
	bob     = vault.Identity{Tenant: "acme", Subject: "bob@acme.example", Role: vault.RoleAdmin}
	mallory = vault.Identity{Tenant: "evil", Subject: "mallory@evil.example", Role: vault.RoleUploader}
)

func as(id vault.Identity) context.Context { return vault.NewContext(context.Background(), id) }

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

func dossierInput(udi string, implantable bool) vault.DossierInput {
	return vault.DossierInput{Name: "Device " + udi, BasicUDIDI: udi, Regulation: regulation.MDR, RiskClass: "IIb",
		Implantable: map[bool]*bool{true: yes(), false: no()}[implantable], HighRiskAI: yes(), NotifiedBody: "0197"}
}

// Basic UDI-DIs with valid check characters.
const (
	udiA = "1987654Ad4X4bL5ttr2310c2K"
	udiB = "12345ANJ"
)

func document(path string, body []byte) vault.Document {
	sum := sha256.Sum256(body)
	return vault.Document{
		Path: path, Title: "Report " + path, Kind: regulation.KindTestReport, Section: "MDR-II-6.1", Revision: "A",
		Language: "en", EffectiveDate: "2026-11-01", Standards: []string{"IEC 62304:2006+A1:2015"}, Author: "QA",
		File: vault.File{Name: path[strings.LastIndex(path, "/")+1:], Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), ContentType: "text/plain"},
	}
}

func newSigner(t testing.TB) *receipt.LocalSigner {
	t.Helper()
	s, err := receipt.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newService is one vault process on bucket b.
func newService(b *memstore.Bucket, s receipt.Signer, cfg vault.Config) *vault.Service {
	cfg.Bucket = b.Bucket()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return vault.New(b.Storage(), s, cfg)
}

type fixture struct {
	svc     *vault.Service
	store   *memstore.Bucket
	dossier vault.Dossier
	signer  *receipt.LocalSigner
}

func setup(t *testing.T, cfg vault.Config) fixture {
	t.Helper()
	b := memstore.New("evidence", memstore.WithClock(cfg.Now))
	signer := newSigner(t)
	svc := newService(b, signer, cfg)
	d, err := svc.CreateDossier(as(alice), dossierInput(udiA, false))
	if err != nil {
		t.Fatal(err)
	}
	return fixture{svc, b, d, signer}
}

// put sends body to a ticket's presigned URL, as a client would.
func (f fixture) put(t *testing.T, tk vault.Ticket, body []byte) {
	t.Helper()
	if err := f.store.Send(tk.Upload, body); err != nil {
		t.Fatal(err)
	}
}

// sealed uploads body at path and completes it.
func (f fixture) sealed(t *testing.T, path string, body []byte) *vault.Receipt {
	t.Helper()
	tk, err := f.svc.StartUpload(as(alice), f.dossier.ID, document(path, body))
	if err != nil {
		t.Fatal(err)
	}
	f.put(t, tk, body)
	r, err := f.svc.Complete(as(alice), tk.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
