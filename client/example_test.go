package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"maps"
	"os"
	"slices"

	"github.com/evidencevault/vault/client"
)

// Upload one file as a new version of a document, unless the vault
// already holds these bytes, and keep its receipt.
func ExampleClient_Upload() {
	ctx := context.Background()
	c, err := client.New("https://vault.example.com", os.Getenv("EVAULT_TOKEN"), nil, client.Options{UserAgent: "qms-sync/1.4"})
	if err != nil {
		log.Fatal(err)
	}
	doc := &client.Document{
		Path: "test-reports/software-validation.pdf", Title: "Software validation report",
		Kind: "test-report", Section: "MDR-II-6.1", Revision: "B", Language: "en",
		EffectiveDate: "2026-11-02", Author: "QA team",
		File: client.File{Name: "software-validation.pdf", ContentType: "application/pdf"},
	}
	// PrepareFile hashes the file and fills in its size and SHA-256.
	prep, err := c.PrepareFile(ctx, "dos_f62rtken3pg7wzh3", doc, "software-validation.pdf", client.UploadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.Upload(ctx, prep)
	var p *client.Problem
	switch {
	case errors.As(err, &p):
		for _, f := range p.Errors {
			fmt.Println(f.Pointer, f.Detail) // each bad field, by JSON pointer
		}
	case err != nil:
		log.Fatal(err)
	case res.Unchanged != nil:
		fmt.Println("unchanged: version", res.Unchanged.Version.Version)
	default:
		os.WriteFile("software-validation.pdf.receipt.json", res.Receipt, 0o644)
	}
}

// Download an exact version, verified against its receipt and the log
// before it is kept, trusting the key pinned on first use.
func ExampleClient_Get() {
	ctx := context.Background()
	c, err := client.New("https://vault.example.com", os.Getenv("EVAULT_TOKEN"), nil)
	if err != nil {
		log.Fatal(err)
	}
	// evault keeps pins in known_vaults.json; any store will do.
	view, err := c.Open(ctx, memPins{}, nil)
	if err != nil {
		log.Fatal(err)
	}
	f, err := c.Get(ctx, "dos_f62rtken3pg7wzh3", "test-reports/software-validation.pdf", 2, "report-v2.pdf", view, nil)
	var ve *client.VerifyError
	if errors.As(err, &ve) {
		log.Fatalf("not kept: %v", ve) // which check failed
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("verified", f.Version.Document.Path, "version", f.Version.Version)
}

// memPins keeps pins in memory: a program that runs once trusts what it
// meets first; keep them on disk to detect a changed key or history.
type memPins map[string]client.Pin

func (m memPins) Pin(origin string) (*client.Pin, error) {
	if p, ok := m[origin]; ok {
		return &p, nil
	}
	return nil, nil
}

func (m memPins) Keep(p client.Pin) error    { m[p.Origin] = p; return nil }
func (m memPins) All() ([]client.Pin, error) { return slices.Collect(maps.Values(m)), nil }

func (m memPins) Where() string { return "memory" }
