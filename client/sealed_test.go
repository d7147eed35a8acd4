package client_test

import (
	"strings"
	"testing"

	"github.com/evidencevault/vault/client"
	"github.com/evidencevault/vault/internal/vault"
)

// TestSealedAsSent: an upload's receipt counts only if it is of the
// document sent, in the dossier and tenant it was sent to.
func TestSealedAsSent(t *testing.T) {
	doc := vault.Document{Path: "tests/a.pdf", Title: "Report", Kind: "test-report", Section: "MDR-II-6.1", Revision: "A", Language: "en",
		EffectiveDate: "2026-11-01", Author: "QA", File: vault.File{Name: "a.pdf", Size: 6, SHA256: strings.Repeat("ab", 32), ContentType: "application/pdf"}}
	r := &vault.Receipt{Predicate: vault.ReceiptPredicate{Tenant: "acme", Dossier: vault.DossierRef{ID: "dos_1"}, Document: doc}}
	retitled, upper := doc, doc
	retitled.Title = "Another report"
	upper.File.SHA256 = strings.ToUpper(doc.File.SHA256)
	tests := []struct {
		name            string
		dossier, tenant string
		sent            vault.Document
		want            bool
	}{
		{"as sent", "dos_1", "acme", doc, true},
		{"the SHA-256 sent in upper case", "dos_1", "acme", upper, true},
		{"other metadata", "dos_1", "acme", retitled, false},
		{"another dossier", "dos_2", "acme", doc, false},
		{"another tenant", "dos_1", "beta", doc, false},
	}
	for _, tt := range tests {
		c := client.SealedAsSent(r, tt.dossier, tt.tenant, tt.sent)
		if c.Passed != tt.want || c.Name != client.CheckSealedAsSent {
			t.Errorf("%s: got %s passed %v (%s), want %v", tt.name, c.Name, c.Passed, c.Detail, tt.want)
		}
	}
}
