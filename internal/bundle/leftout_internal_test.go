package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"testing"
	"testing/fstest"

	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/vault"
)

// A document marked obsolete at version 1 is current again at version 2
// (docs/lifecycle.md). Whoever holds a bundle can edit its manifest and
// sums: listing the document in leftOut to drop its current version 2 is
// refused, since the mark names version 1 and the snapshot's latest is 2.
func TestLeftOutNeedsTheLatestVersionMarked(t *testing.T) {
	ctx := context.Background()
	b := memstore.New("evidence")
	signer, err := receipt.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	svc := vault.New(b.Storage(), signer, vault.Config{Bucket: b.Bucket(), Logger: slog.New(slog.DiscardHandler)})
	alice := vault.Identity{Tenant: "acme", Home: "acme", Subject: "alice@acme.example", Role: vault.RoleUploader}
	as := vault.NewContext(ctx, alice)
	yes, no := true, false
	d, err := svc.CreateDossier(as, vault.DossierInput{Name: "Device", BasicUDIDI: "12345ANJ", Regulation: regulation.MDR, RiskClass: "IIb",
		Implantable: &no, HighRiskAI: &yes, NotifiedBody: "0197"})
	if err != nil {
		t.Fatal(err)
	}
	seal := func(body string) {
		sum := sha256.Sum256([]byte(body))
		doc := vault.Document{Path: "sop/a.txt", Title: "SOP", Kind: regulation.KindTestReport, Section: "MDR-II-6.1", Revision: "A",
			Language: "en", EffectiveDate: "2026-11-01", Standards: []string{"IEC 62304:2006+A1:2015"}, Author: "QA",
			File: vault.File{Name: "a.txt", Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), ContentType: "text/plain"}}
		tk, err := svc.StartUpload(as, d.ID, doc)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Send(tk.Upload, []byte(body)); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Complete(as, tk.UploadID); err != nil {
			t.Fatal(err)
		}
	}
	seal("v1")
	if _, err := svc.SetStatus(as, d.ID, vault.StatusInput{Path: "sop/a.txt", Status: "obsolete", Reason: "replaced"}); err != nil {
		t.Fatal(err)
	}
	seal("v2") // current again
	docs, _ := svc.Documents(as, d.ID)
	if docs[0].Version != 2 || docs[0].State.Status != vault.StatusCurrent {
		t.Fatalf("setup: got %+v", docs[0].State)
	}
	snap, err := svc.RecordExport(as, d.ID)
	if err != nil {
		t.Fatal(err)
	}

	key, err := receipt.NewKey(signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	trust := vault.TrustKeys("test", key)
	lc, err := svc.Checkpoint(as, 0)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := vault.OpenTrusted(lc.Origin, lc.Signed, trust)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := svc.LogEntries(as, 0, cp.Size, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	var events []Event
	for _, e := range entries.Entries {
		if e.Envelope == nil {
			continue
		}
		_, st, err := receipt.Parse(e.Envelope)
		if err != nil || st.PredicateType != vault.LifecycleType {
			continue
		}
		p, err := svc.InclusionProof(as, e.Index, cp.Size)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, Event{Index: e.Index, Envelope: e.Envelope, Inclusion: p.Hashes})
	}
	data, _ := json.Marshal(events)
	fsys := fstest.MapFS{LifecycleFile: {Data: data}}
	// Control: without the leftOut line, the missing document is caught.
	ctl := &Report{}
	checkLifecycle(ctx, fsys, ctl, Manifest{Dossier: d, Lifecycle: LifecycleFile, Snapshot: snap.ID}, trust, cp)
	if ctl.OK() {
		t.Fatal("control: a bundle missing sop/a.txt passes without leftOut")
	}
	m := Manifest{Dossier: d, Lifecycle: LifecycleFile, Snapshot: snap.ID, LeftOut: []string{"sop/a.txt"}}
	r := &Report{}
	checkLifecycle(ctx, fsys, r, m, trust, cp)
	if r.OK() {
		t.Errorf("a bundle that leaves out the current version 2 of sop/a.txt (marked obsolete only at version 1) passes the lifecycle checks:")
		for _, it := range r.Items {
			t.Logf("  %s ok=%v %s", it.Name, it.OK, it.Detail)
		}
	}
}
