package vault_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/vault"
)

// plantEntry writes, as the operator, a chain entry for version n of path
// that the vault never sealed: a copy of version 1's entry with another
// upload id (so the receipt id it names is one the log never held).
func plantEntry(t *testing.T, f fixture, path string, n int, sha string) {
	t.Helper()
	prefix := "vault/acme/versions/" + f.dossier.ID + "/" + url.PathEscape(path) + "/"
	data, ok := f.store.Latest(prefix + "0000000001.json")
	if !ok {
		t.Fatal("no chain entry 1")
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["version"] = n
	m["uploadId"] = "upl_" + strings.Repeat("a", 26)
	m["receiptId"] = "rcp_" + strings.Repeat("a", 26)
	m["sha256"] = sha
	m["sealedAt"] = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out, _ := json.Marshal(m)
	f.store.Overwrite(prefix+"00000000"+map[int]string{2: "02", 3: "03"}[n]+".json", out)
}

// grantTo gives auditor subject one dossier of acme until until, as
// alice.
func grantTo(t *testing.T, f fixture, subject, dossier string, until time.Time) vault.Grant {
	t.Helper()
	g, err := f.svc.CreateGrant(as(alice), vault.GrantInput{Grantee: &vault.Grantee{Subject: subject}, Dossiers: []string{dossier}, Until: &until})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// auditorIn is auditor subject acting in acme, as its grants allow.
func auditorIn(t *testing.T, f fixture, subject string) vault.Identity {
	t.Helper()
	id, err := f.svc.Authorize(context.Background(), vault.Identity{Subject: subject, Role: vault.RoleAuditor}, "acme")
	if err != nil {
		t.Fatalf("%s in acme: %v", subject, err)
	}
	return id
}

// An operator plants a chain entry on top of a document: a submission,
// of every document or of named paths, freezes the version the log holds,
// as an export snapshot does.
func TestSubmissionPassesOverPlantedEntries(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	r := f.sealed(t, "a.txt", []byte("a1"))
	plantEntry(t, f, "a.txt", 2, strings.Repeat("e", 64))

	sub, err := f.svc.Submit(as(alice), f.dossier.ID, vault.SubmissionInput{NotifiedBody: "0197", Date: c.date()})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	for _, d := range sub.Documents {
		if d.ReceiptID != r.Predicate.ReceiptID || d.Version != 1 {
			t.Errorf("signed submission freezes a version the log never sealed: %+v (the sealed one is v1 %s)", d, r.Predicate.ReceiptID)
		}
	}
	// The same planted entry with explicit paths.
	sub2, err := f.svc.Submit(as(alice), f.dossier.ID, vault.SubmissionInput{NotifiedBody: "0197", Date: c.date(), Paths: []string{"a.txt"}})
	if err == nil {
		for _, d := range sub2.Documents {
			if d.ReceiptID != r.Predicate.ReceiptID {
				t.Errorf("explicit paths: submission freezes planted version %+v", d)
			}
		}
	}
	// Export snapshot, by contrast, names the sealed version.
	ev, err := f.svc.RecordExport(as(alice), f.dossier.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.Export.Documents[0]; got.ReceiptID != r.Predicate.ReceiptID {
		t.Errorf("export snapshot: %+v", got)
	}
}

// A status mark goes to the latest version the log holds, not to an
// entry planted above it.
func TestStatusPassesOverPlantedEntries(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	f.sealed(t, "a.txt", []byte("a1"))
	plantEntry(t, f, "a.txt", 2, strings.Repeat("e", 64))
	v, err := f.svc.SetStatus(as(alice), f.dossier.ID, vault.StatusInput{Path: "a.txt", Status: "obsolete", Reason: "replaced"})
	if err != nil {
		t.Fatalf("set status: %v", err)
	}
	if v.Version != 1 {
		t.Errorf("status event marks version %d (receipt %s), which the log never sealed; want version 1", v.Version, v.ReceiptID)
	}
	st, _ := f.svc.DossierState(as(alice), f.dossier.ID)
	if m := st.Statuses["a.txt"]; m.Version != 1 {
		t.Errorf("logged status names version %d", m.Version)
	}
}

// A planted, unapproved entry above an approved, sealed version does not
// take the section's evidence from it.
func TestCompletenessPassesOverPlantedEntries(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	r := f.sealed(t, "clinical/cer.txt", []byte("cer"))
	if _, err := f.svc.SignOff(as(signedIn(bob, c.now())), f.dossier.ID, vault.SignoffInput{Path: "clinical/cer.txt", Version: 1, SHA256: r.Subject.Digest["sha256"], Meaning: "approved"}); err != nil {
		t.Fatal(err)
	}
	plantEntry(t, f, "clinical/cer.txt", 2, strings.Repeat("e", 64))
	rep, err := f.svc.Completeness(as(alice), f.dossier.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Sections {
		if s.ID == "MDR-II-6.1" && s.Status != vault.SectionComplete {
			t.Errorf("section with sealed, approved evidence shows %s after the operator planted an entry: %+v", s.Status, s.Evidence)
		}
	}
}

// Ten years on the market, every record (the access trail's among them)
// is locked as far as the dossier's floor.
func TestExtensionReachesEveryRecord(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	f.sealed(t, "a.txt", []byte("a1"))
	if _, err := f.svc.Download(as(alice), f.dossier.ID, "a.txt", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetMarket(as(bob), f.dossier.ID, vault.MarketInput{FirstPlaced: c.date()}); err != nil {
		t.Fatal(err)
	}
	for range 20 { // ten years, a run every half year
		c.add(183 * 24 * time.Hour)
		if _, err := f.svc.RunSchedule(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := f.svc.DossierState(as(bob), f.dossier.ID)
	floor := st.RetainUntil
	if floor.IsZero() {
		t.Fatal("no extension")
	}
	for k, info := range locksUnder(t, f, "vault/acme/access/") {
		if info.RetainUntil.Before(floor) {
			t.Errorf("%s locked until %s, before the dossier's floor %s", k, info.RetainUntil.Format(time.DateOnly), floor.Format(time.DateOnly))
		}
	}
	for k, info := range locksUnder(t, f, "vault/acme/receipts/") {
		if info.RetainUntil.Before(floor) {
			t.Errorf("receipt %s not extended", k)
		}
	}
}

// Eight identical sign-offs at once by the same person are logged once:
// the duplicate check runs under the dossier's append lock.
func TestConcurrentSignoffsSignOnce(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	r := f.sealed(t, "a.txt", []byte("a1"))
	in := vault.SignoffInput{Path: "a.txt", Version: 1, SHA256: r.Subject.Digest["sha256"], Meaning: "approved"}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.svc.SignOff(as(signedIn(bob, c.now())), f.dossier.ID, in)
		}()
	}
	wg.Wait()
	st, _ := f.svc.DossierState(as(bob), f.dossier.ID)
	if n := len(st.Signoffs); n != 1 {
		t.Errorf("bob's one approval of a.txt v1 is logged %d times", n)
	}
}

// The schedule finds tenants through tenants/{tenant}. The operator hides
// the tenant's entry under a delete marker and tries, at every run, to
// delete its versions: the entry is locked as the dossier's record is,
// and extended with the tenant's records, so no delete succeeds, even
// past the first lock's end, and the extensions go on.
func TestTenantIndexCannotBeRemoved(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	f.sealed(t, "a.txt", []byte("a1"))
	if _, err := f.svc.SetMarket(as(bob), f.dossier.ID, vault.MarketInput{FirstPlaced: c.date()}); err != nil {
		t.Fatal(err)
	}
	ids, err := f.store.Versions(context.Background(), "tenants/acme")
	if err != nil || len(ids) == 0 {
		t.Fatalf("no tenant index: %v", err)
	}
	f.store.Hide("tenants/acme")
	for range 24 { // twelve years on the market, a run every half year
		c.add(183 * 24 * time.Hour)
		if _, err := f.svc.RunSchedule(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if err := f.store.Remove("tenants/acme", id); err == nil {
				t.Fatalf("at %s the operator removed the tenant index", c.date())
			}
		}
	}
	st, _ := f.svc.DossierState(as(bob), f.dossier.ID)
	if min := c.now().AddDate(10, 0, 0); st.RetainUntil.Before(min) {
		t.Errorf("twelve years on the market, the schedule ran every half year: locks reach %s, before today + 10 years %s", st.RetainUntil.Format(time.DateOnly), min.Format(time.DateOnly))
	}
}

// A grant's until is its last moment of access (GrantInput).
func TestGrantUntilIsTheLastMoment(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	until := c.now().Add(time.Hour)
	grantTo(t, f, "nora@nb.example", f.dossier.ID, until)
	nora := vault.Identity{Subject: "nora@nb.example", Role: vault.RoleAuditor}
	c.add(time.Hour)
	f.svc = newService(f.store, f.signer, vault.Config{Now: c.now}) // no grant cache
	if _, err := f.svc.Authorize(context.Background(), nora, "acme"); err != nil {
		t.Errorf("at the grant's until, its last moment of access: %v", err)
	}
}

// An auditor whose grants have ended still reads the trail of their own
// past downloads in that tenant (and no dossier).
func TestAuditorReadsOwnTrailAfterGrantEnds(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	f.sealed(t, "a.txt", []byte("a1"))
	until := c.now().Add(24 * time.Hour)
	g := grantTo(t, f, "nora@nb.example", f.dossier.ID, until)
	if _, err := f.svc.Download(as(auditorIn(t, f, "nora@nb.example")), f.dossier.ID, "a.txt", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RevokeGrant(as(alice), g.ID); err != nil {
		t.Fatal(err)
	}
	// After revocation the auditor still acts in the tenant, to read
	// their own trail.
	id := auditorIn(t, f, "nora@nb.example")
	evs, _, err := f.svc.AccessTrail(as(id), vault.AccessQuery{Since: c.now(), Until: c.now()})
	if err != nil || len(evs) != 1 {
		t.Errorf("own trail: %v %v", evs, err)
	}
}

// A download's trail entry names the grants that gave access to its
// dossier, not the auditor's grants of other dossiers.
func TestTrailNamesTheGrantThatGaveAccess(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	f.sealed(t, "a.txt", []byte("a1"))
	d2, err := f.svc.CreateDossier(as(alice), dossierInput(udiB, false))
	if err != nil {
		t.Fatal(err)
	}
	until := c.now().Add(24 * time.Hour)
	g1 := grantTo(t, f, "nora@nb.example", f.dossier.ID, until)
	g2 := grantTo(t, f, "nora@nb.example", d2.ID, until)
	id := auditorIn(t, f, "nora@nb.example")
	if _, err := f.svc.Download(as(id), f.dossier.ID, "a.txt", 1); err != nil {
		t.Fatal(err)
	}
	evs, _, err := f.svc.AccessTrail(as(bob), vault.AccessQuery{Since: c.now(), Until: c.now()})
	if err != nil || len(evs) != 1 {
		t.Fatalf("trail: %v %v", evs, err)
	}
	if g := evs[0].Grants; len(g) != 1 || g[0] != g1.ID {
		t.Errorf("download from %s names grants %v; want only %s (not %s, which grants %s)", f.dossier.ID, g, g1.ID, g2.ID, d2.ID)
	}
}

// A submission too large for one signed record (receipt.MaxEnvelopeSize)
// is a problem at /paths that says why, and nothing is logged; a smaller
// choice of paths from the same dossier, and its export snapshot, are
// logged and read back.
func TestTooLargeSubmissionIsAFieldProblem(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	long := strings.Repeat("s", 200) + "/" + strings.Repeat("t", 200)
	var paths []string
	for i := range 200 {
		body := []byte(fmt.Sprintf("doc %d", i))
		doc := document(fmt.Sprintf("%s/%03d.txt", long, i), body)
		doc.Title = fmt.Sprintf("Report %d", i)
		tk, err := f.svc.StartUpload(as(alice), f.dossier.ID, doc)
		if err != nil {
			t.Fatal(err)
		}
		f.put(t, tk, body)
		if _, err := f.svc.Complete(as(alice), tk.UploadID); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, doc.Path)
	}
	size := func() int64 {
		cp, err := f.svc.Checkpoint(as(alice), 0)
		if err != nil {
			t.Fatal(err)
		}
		return cp.Size
	}
	before := size()
	_, err := f.svc.Submit(as(alice), f.dossier.ID, vault.SubmissionInput{NotifiedBody: "0197", Date: c.date()})
	var ve *vault.Error
	if !asError(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Pointer != "/paths" || !strings.Contains(ve.Fields[0].Detail, "bytes a record may be") {
		t.Fatalf("200 documents of 400-byte paths: got %v, want one problem at /paths naming the record's limit", err)
	}
	if got := size(); got != before {
		t.Errorf("a refused submission changed the log: size %d, was %d", got, before)
	}
	sub, err := f.svc.Submit(as(alice), f.dossier.ID, vault.SubmissionInput{NotifiedBody: "0197", Date: c.date(), Paths: paths[:50]})
	if err != nil {
		t.Fatalf("50 of them: %v", err)
	}
	subs, err := f.svc.Submissions(as(alice), f.dossier.ID)
	if err != nil || len(subs) != 1 || subs[0].ID != sub.ID || len(subs[0].Documents) != 50 {
		t.Errorf("read back: got %d submissions (%v), want %s of 50 documents", len(subs), err, sub.ID)
	}
	ev, err := f.svc.RecordExport(as(alice), f.dossier.ID)
	if err != nil {
		t.Fatalf("export snapshot of 200 documents: %v", err)
	}
	st, _ := f.svc.DossierState(as(alice), f.dossier.ID)
	if !slices.ContainsFunc(st.Events, func(e vault.LoggedEvent) bool { return e.ID == ev.ID }) {
		t.Errorf("export event %s not among the dossier's %d events", ev.ID, len(st.Events))
	}
}

// The operator writes a new version over a chain entry, keeping its
// version, path and receipt id but naming other bytes: the version view
// (GET …/versions/{n}) shows the sealed entry, its sign-offs and
// approval, as its receipt says.
func TestVersionViewReadsTheSealedEntry(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	r := f.sealed(t, "a.txt", []byte("a1"))
	if _, err := f.svc.SignOff(as(signedIn(bob, c.now())), f.dossier.ID, vault.SignoffInput{Path: "a.txt", Version: 1, SHA256: r.Subject.Digest["sha256"], Meaning: "approved"}); err != nil {
		t.Fatal(err)
	}
	key := "vault/acme/versions/" + f.dossier.ID + "/a.txt/0000000001.json"
	data, _ := f.store.Latest(key)
	var m map[string]any
	json.Unmarshal(data, &m)
	m["sha256"] = strings.Repeat("e", 64)
	out, _ := json.Marshal(m)
	f.store.Overwrite(key, out)

	v, err := f.svc.Version(as(alice), f.dossier.ID, "a.txt", 1)
	if err != nil {
		t.Fatal(err)
	}
	if v.SHA256 != r.Subject.Digest["sha256"] || !v.State.Approved {
		t.Errorf("version view after the operator wrote over the entry: sha256 %s (sealed %s), approved %v, %d sign-offs", v.SHA256, r.Subject.Digest["sha256"], v.State.Approved, len(v.State.Signoffs))
	}
	vs, _ := f.svc.Versions(as(alice), f.dossier.ID, "a.txt")
	t.Logf("the versions listing says sha256 %s approved %v", vs[0].SHA256, vs[0].State.Approved)
}

// Releasing one legal hold while storage will not serve the record of
// another (a fresh process, one read failing) logs the release but lifts
// nothing: the state it would decide from may be missing a hold that
// still stands. Releasing it again, once the record reads, lifts what no
// hold covers.
func TestReleaseRefusedWhileARecordIsUnread(t *testing.T) {
	f := setup(t, vault.Config{})
	r := f.sealed(t, "a.txt", []byte("a1"))
	whole, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Reason: "competent authority investigation"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Path: "a.txt", Reason: "FSCA 2026-04"})
	if err != nil {
		t.Fatal(err)
	}
	// Another process (a fresh Lambda instance), while storage fails one
	// read of the dossier hold's record.
	svc := newService(f.store, f.signer, vault.Config{})
	remove := f.store.Inject(memstore.Fail("GetVersion", "lifecycle/"+f.dossier.ID+"/"+whole.ID, nil))
	_, err = svc.ReleaseHold(as(bob), f.dossier.ID, doc.ID, vault.ReleaseInput{Reason: "FSCA closed"})
	remove()
	if got := vault.ErrorCode(err); got != vault.CodeUnavailable {
		t.Errorf("release while a hold's record is unread: got %q (%v), want %q", got, err, vault.CodeUnavailable)
	}
	if info, _ := f.store.Stat(context.Background(), r.Predicate.Storage.Key, r.Predicate.Storage.VersionID); !info.LegalHold {
		t.Errorf("a release whose state was incomplete lifted a.txt v1's legal hold")
	}
	// Once storage serves it again, the release goes through, and what the
	// dossier's hold covers stays held.
	st, err := svc.ReleaseHold(as(bob), f.dossier.ID, doc.ID, vault.ReleaseInput{Reason: "FSCA closed"})
	if err != nil || len(st.LegalHolds) != 1 || st.LegalHolds[0].ID != whole.ID {
		t.Fatalf("release: got %+v (%v), want the dossier's hold left", st, err)
	}
	if info, _ := f.store.Stat(context.Background(), r.Predicate.Storage.Key, r.Predicate.Storage.VersionID); !info.LegalHold {
		t.Errorf("hold %s on the whole dossier stands, yet a.txt v1 is no longer under legal hold in storage", whole.ID)
	}
}

// One answer names every bad field, those found by looking the path up
// among them.
func TestLifecycleProblemsNameEveryField(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	f.sealed(t, "a.txt", []byte("a1"))
	_, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Path: "nope.txt"})
	if got := fieldPointers(err); !slices.Contains(got, "/path") || !slices.Contains(got, "/reason") {
		t.Errorf("hold: got problems at %v, want /path and /reason", got)
	}
	_, err = f.svc.Submit(as(alice), f.dossier.ID, vault.SubmissionInput{NotifiedBody: "NB1", Date: c.date(), Paths: []string{"nope.txt"}})
	if got := fieldPointers(err); !slices.Contains(got, "/paths/0") || !slices.Contains(got, "/notifiedBody") {
		t.Errorf("submission: got problems at %v, want /notifiedBody and /paths/0", got)
	}
	_, err = f.svc.SetStatus(as(alice), f.dossier.ID, vault.StatusInput{Path: "nope.txt", Status: "gone", Reason: "x"})
	if got := fieldPointers(err); !slices.Contains(got, "/path") || !slices.Contains(got, "/status") {
		t.Errorf("status: got problems at %v, want /path and /status", got)
	}
}

// An auditor's export names them: like grant entries, it is hidden from
// the dossier's other auditors (docs/grants.md).
func TestAuditorsDoNotSeeEachOthersExports(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	f.sealed(t, "a.txt", []byte("a1"))
	until := c.now().Add(24 * time.Hour)
	for _, sub := range []string{"nora@nb0197.example", "otto@authority.example"} {
		grantTo(t, f, sub, f.dossier.ID, until)
	}
	otto := auditorIn(t, f, "otto@authority.example")
	if _, err := f.svc.RecordExport(as(otto), f.dossier.ID); err != nil {
		t.Fatal(err)
	}
	nora := auditorIn(t, f, "nora@nb0197.example")
	st, err := f.svc.DossierState(as(nora), f.dossier.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range st.Events {
		if e.By.Subject == "otto@authority.example" {
			t.Errorf("auditor nora reads that auditor %s exported the dossier (%s event %s)", e.By.Subject, e.Event, e.ID)
		}
	}
	// Events after otto's export, and nora's own, link past it: what nora
	// holds shows nothing left out between its events (the bundle's check).
	if _, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Reason: "inquiry"}); err != nil {
		t.Fatal(err)
	}
	mine, err := f.svc.RecordExport(as(nora), f.dossier.ID)
	if err != nil {
		t.Fatal(err)
	}
	st, _ = f.svc.DossierState(as(nora), f.dossier.ID)
	if !slices.ContainsFunc(st.Events, func(e vault.LoggedEvent) bool { return e.ID == mine.ID }) {
		t.Errorf("nora does not see her own export %s", mine.ID)
	}
	for _, e := range st.Events {
		if p := e.Previous; p != nil && !slices.ContainsFunc(st.Events, func(x vault.LoggedEvent) bool { return x.ID == p.ID && x.LogIndex == p.LogIndex }) {
			t.Errorf("%s event %s follows %s at entry %d, which nora cannot see", e.Event, e.ID, p.ID, p.LogIndex)
		}
	}
	if all, _ := f.svc.DossierState(as(bob), f.dossier.ID); len(all.Events) != len(st.Events)+1 {
		t.Errorf("the admin sees %d events, nora %d: want otto's export the one difference", len(all.Events), len(st.Events))
	}
}

// archived is what s3store makes of S3's answer to a GET of a version in
// an archive class (403 InvalidObjectState): ErrStorage, not unavailable.
var archived = fmt.Errorf("s3: InvalidObjectState: %w", vault.ErrStorage)

// An operator plants one object under the dossier's lifecycle prefix, in
// a class storage will not serve. Views pass it over; a release is
// logged, but lifts nothing while the object stays (it could be a hold
// that still stands), and says so: holds stay on, the safe side.
func TestPlantedUnreadableRecordPutsOffTheLift(t *testing.T) {
	f := setup(t, vault.Config{})
	r := f.sealed(t, "a.txt", []byte("a1"))
	doc, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Path: "a.txt", Reason: "FSCA 2026-04"})
	if err != nil {
		t.Fatal(err)
	}
	planted := "vault/acme/lifecycle/" + f.dossier.ID + "/evt_" + strings.Repeat("a", 26) + ".json"
	f.store.Overwrite(planted, []byte(`{"not":"the vault's"}`))
	f.store.Inject(memstore.Fail("GetVersion", planted, archived))
	svc := newService(f.store, f.signer, vault.Config{})
	st, err := svc.DossierState(as(bob), f.dossier.ID)
	if err != nil || len(st.LegalHolds) != 1 {
		t.Fatalf("state: %v %v", st, err)
	}
	for i := range 2 {
		_, err = svc.ReleaseHold(as(bob), f.dossier.ID, doc.ID, vault.ReleaseInput{Reason: "FSCA closed"})
		if vault.ErrorCode(err) != vault.CodeUnavailable || !strings.Contains(err.Error(), planted) || !strings.Contains(err.Error(), "audit") {
			t.Errorf("release %d beside an unreadable record: got %v, want %s naming %s and the audit", i+1, err, vault.CodeUnavailable, planted)
		}
	}
	st, _ = svc.DossierState(as(bob), f.dossier.ID)
	releases := 0
	for _, e := range st.Events {
		if e.Event == vault.EventRelease {
			releases++
		}
	}
	if len(st.LegalHolds) != 0 || releases != 1 {
		t.Errorf("got %d holds, %d releases logged; want the release logged once", len(st.LegalHolds), releases)
	}
	if info, _ := f.store.Stat(context.Background(), r.Predicate.Storage.Key, r.Predicate.Storage.VersionID); !info.LegalHold {
		t.Error("a.txt v1's legal hold was lifted from a state that may miss a hold")
	}
}

// The operator writes a new version, in an archive class, over the record
// of a hold (the vault's own version still reads): the hold is in the
// state, and releasing the other hold goes through.
func TestWrittenOverRecordDoesNotHoldBackARelease(t *testing.T) {
	f := setup(t, vault.Config{})
	f.sealed(t, "a.txt", []byte("a1"))
	whole, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Reason: "competent authority investigation"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Path: "a.txt", Reason: "FSCA 2026-04"})
	if err != nil {
		t.Fatal(err)
	}
	key := "vault/acme/lifecycle/" + f.dossier.ID + "/" + whole.ID + ".json"
	f.store.Overwrite(key, []byte(`{}`))
	svc := newService(f.store, f.signer, vault.Config{})
	if _, err := svc.DossierState(as(bob), f.dossier.ID); err != nil { // the vault's own version is read and kept
		t.Fatal(err)
	}
	f.store.Inject(memstore.Fail("GetVersion", key, archived)) // the planted version no longer serves
	st, err := svc.DossierState(as(bob), f.dossier.ID)
	if err != nil || len(st.LegalHolds) != 2 {
		t.Fatalf("state: %+v %v", st, err)
	}
	_, err = svc.ReleaseHold(as(bob), f.dossier.ID, doc.ID, vault.ReleaseInput{Reason: "FSCA closed"})
	if err != nil {
		t.Errorf("both holds are in the state the release decides from (%s, %s), yet: %s: %v", whole.ID, doc.ID, vault.ErrorCode(err), err)
	}
}

// An auditor whose only grant was revoked reads none of the tenant's log:
// no checkpoint (how much the tenant does, and when), key events, leaf
// hashes or proofs; only their own access trail (docs/grants.md).
func TestEndedGrantsReadNoLog(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	f.sealed(t, "a.txt", []byte("a1"))
	until := c.now().Add(24 * time.Hour)
	g := grantTo(t, f, "nora@nb.example", f.dossier.ID, until)
	if _, err := f.svc.RevokeGrant(as(alice), g.ID); err != nil {
		t.Fatal(err)
	}
	nora := auditorIn(t, f, "nora@nb.example")
	cp1, err := f.svc.Checkpoint(as(nora), 0)
	if err == nil {
		t.Errorf("revoked auditor reads the tenant's checkpoint: size %d", cp1.Size)
	}
	f.sealed(t, "b.txt", []byte("b1"))
	if cp2, err := f.svc.Checkpoint(as(nora), 0); err == nil && cp1 != nil {
		t.Errorf("... and watches it grow after revocation: %d -> %d", cp1.Size, cp2.Size)
	}
	if es, err := f.svc.LogEntries(as(nora), 0, 100, ""); err == nil {
		full := 0
		for _, e := range es.Entries {
			if e.Envelope != nil {
				full++
			}
		}
		t.Errorf("revoked auditor reads %d log entries (%d in full)", len(es.Entries), full)
	}
	if _, err := f.svc.KeyHistory(as(nora), 0); err == nil {
		t.Errorf("revoked auditor reads the key history")
	}
	if _, err := f.svc.ConsistencyProof(as(nora), 1, 2); err == nil {
		t.Errorf("revoked auditor reads consistency proofs")
	}
}

// Extending tenant acme's records touches the key tenants/acme, not
// tenants/acme-2, which it begins.
func TestExtensionLocksOnlyItsTenantsIndex(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	f.sealed(t, "a.txt", []byte("a1"))
	zed := vault.Identity{Tenant: "acme-2", Home: "acme-2", Subject: "zed@acme2.example", Role: vault.RoleUploader}
	if _, err := f.svc.CreateDossier(as(zed), dossierInput(udiB, false)); err != nil {
		t.Fatal(err)
	}
	lockOf := func(key string) time.Time {
		ids, err := f.store.Versions(context.Background(), key)
		if err != nil || len(ids) == 0 {
			t.Fatalf("%s: %v", key, err)
		}
		info, err := f.store.Stat(context.Background(), key, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		return info.RetainUntil
	}
	before := lockOf("tenants/acme-2")
	c.add(24 * time.Hour)
	if _, err := f.svc.SetMarket(as(bob), f.dossier.ID, vault.MarketInput{FirstPlaced: c.date()}); err != nil {
		t.Fatal(err)
	}
	if after := lockOf("tenants/acme-2"); !after.Equal(before) {
		t.Errorf("tenant acme's extension changed tenant acme-2's index lock: %s -> %s (acme's index: %s)", before.Format(time.DateOnly), after.Format(time.DateOnly), lockOf("tenants/acme").Format(time.DateOnly))
	}
}

// A log kept from before exports were unlinked holds an auditor's export
// that a later event names as its previous: it stays in sight of the
// dossier's other auditors, so that what they hold shows no gap.
func TestOlderLinkedExportsStayInSight(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	f.sealed(t, "a.txt", []byte("a1"))
	until := c.now().Add(24 * time.Hour)
	for _, sub := range []string{"nora@nb0197.example", "otto@authority.example"} {
		grantTo(t, f, sub, f.dossier.ID, until)
	}
	// Logged as before: the export linked, and a hold linking to it.
	otto := vault.Principal{Subject: "otto@authority.example", Role: vault.RoleAuditor}
	if _, err := f.svc.AppendEvent(context.Background(), vault.LifecycleEvent{Event: vault.EventExported, Tenant: "acme", Dossier: f.dossier.ID,
		By: otto, Export: &vault.Snapshot{Documents: []vault.SubmittedFile{}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AppendEvent(context.Background(), vault.LifecycleEvent{Event: vault.EventHold, Tenant: "acme", Dossier: f.dossier.ID,
		By: vault.Principal{Tenant: "acme", Subject: bob.Subject, Role: vault.RoleAdmin}, Reason: "inquiry", Hold: &vault.HoldScope{}}); err != nil {
		t.Fatal(err)
	}
	nora := auditorIn(t, f, "nora@nb0197.example")
	mine, err := f.svc.RecordExport(as(nora), f.dossier.ID)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.svc.DossierState(as(nora), f.dossier.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(st.Events, func(e vault.LoggedEvent) bool { return e.ID == mine.ID }) {
		t.Fatal("nora's export missing")
	}
	for _, e := range st.Events {
		if p := e.Previous; p != nil && !slices.ContainsFunc(st.Events, func(x vault.LoggedEvent) bool { return x.ID == p.ID && x.LogIndex == p.LogIndex }) {
			t.Errorf("%s event %s (entry %d) follows %s at entry %d, which nora cannot see", e.Event, e.ID, e.LogIndex, p.ID, p.LogIndex)
		}
	}
}

// Eight releases of one hold at once log one release.
func TestConcurrentReleasesLogOnce(t *testing.T) {
	f := setup(t, vault.Config{})
	f.sealed(t, "a.txt", []byte("a1"))
	h, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Path: "a.txt", Reason: "FSCA 2026-04"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.svc.ReleaseHold(as(bob), f.dossier.ID, h.ID, vault.ReleaseInput{Reason: "FSCA closed"}); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	st, _ := f.svc.DossierState(as(bob), f.dossier.ID)
	n := 0
	for _, e := range st.Events {
		if e.Event == vault.EventRelease {
			n++
		}
	}
	if n != 1 {
		t.Errorf("hold %s released once, logged %d times (%d requests answered 200)", h.ID, n, ok)
	}
}

// An operator PUTs a new version of the dossier record saying
// retentionYears 500. The vault only ever writes 10 or 15, so no term
// beyond 15 years reaches a lock.
func TestPlantedDossierTermIsCapped(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	r := f.sealed(t, "a.txt", []byte("a1"))
	key := "vault/acme/dossiers/" + f.dossier.ID + ".json"
	data, _ := f.store.Latest(key)
	var m map[string]any
	json.Unmarshal(data, &m)
	m["retentionYears"] = 500
	out, _ := json.Marshal(m)
	f.store.Overwrite(key, out)
	svc := newService(f.store, f.signer, vault.Config{Now: c.now}) // a fresh process
	if _, err := svc.SetMarket(as(bob), f.dossier.ID, vault.MarketInput{FirstPlaced: c.date()}); err != nil {
		t.Fatal(err)
	}
	info, _ := f.store.Stat(context.Background(), r.Predicate.Storage.Key, r.Predicate.Storage.VersionID)
	if limit := c.now().AddDate(20, 0, 0); info.RetainUntil.After(limit) {
		t.Errorf("one planted, unbacked PUT of the dossier record locked the evidence until %s", info.RetainUntil.Format(time.DateOnly))
	}
	for k, i := range locksUnder(t, f, "ledger/acme/") {
		if i.RetainUntil.After(c.now().AddDate(20, 0, 0)) {
			t.Errorf("and the tenant's log, e.g. %s, until %s", k, i.RetainUntil.Format(time.DateOnly))
			break
		}
	}
}

// The operator plants a whole chain: one entry of a document the vault
// never sealed (a copy of a.txt's entry under another path, naming a
// receipt the log never held). Completeness, submissions and export
// snapshots leave it out and go on.
func TestPlantedChainIsLeftOut(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	f.sealed(t, "a.txt", []byte("a1"))
	data, ok := f.store.Latest("vault/acme/versions/" + f.dossier.ID + "/a.txt/0000000001.json")
	if !ok {
		t.Fatal("no entry")
	}
	s := strings.ReplaceAll(string(data), `"a.txt"`, `"fake.txt"`)
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	m["uploadId"] = "upl_" + strings.Repeat("b", 26)
	m["receiptId"] = "rcp_" + strings.Repeat("b", 26)
	out, _ := json.Marshal(m)
	f.store.Overwrite("vault/acme/versions/"+f.dossier.ID+"/fake.txt/0000000001.json", out)
	docs, err := f.svc.Documents(as(alice), f.dossier.ID)
	t.Logf("listing: %d documents (%v)", len(docs), err)
	if _, err := f.svc.Completeness(as(alice), f.dossier.ID); err != nil {
		t.Errorf("completeness of a dossier with one sealed document and one planted chain: %s: %v", vault.ErrorCode(err), err)
	}
	if _, err := f.svc.Submit(as(alice), f.dossier.ID, vault.SubmissionInput{NotifiedBody: "0197", Date: c.date(), Paths: []string{"a.txt"}}); err != nil {
		t.Errorf("submission of a.txt alone: %s: %v", vault.ErrorCode(err), err)
	}
	if ev, err := f.svc.RecordExport(as(alice), f.dossier.ID); err != nil || len(ev.Export.Documents) != 1 || ev.Export.Documents[0].Path != "a.txt" {
		t.Errorf("export snapshot: got %+v (%v), want a.txt alone", ev, err)
	}
}

// Process 1 releases a.txt's hold. Just after it logged the release,
// process 2 sets a hold on the whole dossier (and holds a.txt). Process
// 1 re-reads the state to decide what to lift, and storage fails the one
// read of the new hold's record: process 1 lifts nothing.
func TestReleaseRereadIsChecked(t *testing.T) {
	f := setup(t, vault.Config{})
	r := f.sealed(t, "a.txt", []byte("a1"))
	doc, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Path: "a.txt", Reason: "FSCA 2026-04"})
	if err != nil {
		t.Fatal(err)
	}
	p1 := newService(f.store, f.signer, vault.Config{})
	p2 := newService(f.store, f.signer, vault.Config{})
	prefix := "vault/acme/lifecycle/" + f.dossier.ID + "/"
	var mu sync.Mutex
	lists, inP2, done := 0, false, false
	var whole vault.Hold
	var failKey string
	failOnce := false
	f.store.Inject(func(_ context.Context, c memstore.Call) error {
		mu.Lock()
		if c.Op == "GetVersion" && failOnce && c.Key == failKey && !inP2 {
			failOnce = false
			mu.Unlock()
			return archived
		}
		if c.Op != "List" || c.Key != prefix || inP2 || done {
			mu.Unlock()
			return nil
		}
		lists++
		if lists < 3 { // p1: the state, the append's read; the third is the re-read
			mu.Unlock()
			return nil
		}
		inP2, done = true, true
		mu.Unlock()
		h, err := p2.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Reason: "competent authority investigation"})
		mu.Lock()
		inP2 = false
		if err == nil {
			whole = h
			failKey, failOnce = prefix+h.ID+".json", true
		}
		mu.Unlock()
		return nil
	})
	st, err := p1.ReleaseHold(as(bob), f.dossier.ID, doc.ID, vault.ReleaseInput{Reason: "FSCA closed"})
	t.Logf("release: %v, holds in its answer %d, dossier hold %s", err, len(stHolds(st)), whole.ID)
	if whole.ID == "" {
		t.Fatal("process 2 set no hold")
	}
	now, _ := newService(f.store, f.signer, vault.Config{}).DossierState(as(bob), f.dossier.ID)
	info, _ := f.store.Stat(context.Background(), r.Predicate.Storage.Key, r.Predicate.Storage.VersionID)
	if len(now.LegalHolds) == 1 && now.LegalHolds[0].ID == whole.ID && !info.LegalHold {
		t.Errorf("hold %s on the whole dossier stands (logged, active), yet a.txt v1 is no longer under legal hold in storage; release answered %v", whole.ID, err)
	}
}

func stHolds(st *vault.DossierState) []vault.Hold {
	if st == nil {
		return nil
	}
	return st.LegalHolds
}

// The operator copies tenant acme's chain entry of a.txt v1, unchanged,
// into a dossier of tenant evil: it is no document of evil's, also once
// the same process has checked acme's entry (the cache of entries that
// agree with their receipts is per tenant and dossier).
func TestEntryCopiedFromAnotherTenantIsNoDocument(t *testing.T) {
	f := setup(t, vault.Config{})
	f.sealed(t, "a.txt", []byte("a1"))
	eve := vault.Identity{Tenant: "evil", Home: "evil", Subject: "mallory@evil.example", Role: vault.RoleUploader}
	d2, err := f.svc.CreateDossier(as(eve), dossierInput(udiB, false))
	if err != nil {
		t.Fatal(err)
	}
	data, ok := f.store.Latest("vault/acme/versions/" + f.dossier.ID + "/a.txt/0000000001.json")
	if !ok {
		t.Fatal("no entry")
	}
	f.store.Overwrite("vault/evil/versions/"+d2.ID+"/a.txt/0000000001.json", data)

	// Control: a fresh process leaves the planted copy out.
	fresh := newService(f.store, f.signer, vault.Config{})
	if ev, err := fresh.RecordExport(as(eve), d2.ID); err != nil || len(ev.Export.Documents) != 0 {
		t.Fatalf("fresh process: export of evil's dossier: %+v %v (want no documents)", ev, err)
	}
	// Warm the cache with acme's own view.
	if _, err := fresh.Completeness(as(alice), f.dossier.ID); err != nil {
		t.Fatal(err)
	}
	ev, err := fresh.RecordExport(as(eve), d2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Export.Documents) != 0 {
		t.Errorf("after a view of acme's dossier, tenant evil's signed export snapshot names %d document(s) the vault never sealed there: %+v",
			len(ev.Export.Documents), ev.Export.Documents)
	}
}

// Within one tenant: acme's entry copied to another acme dossier is no
// document of it (the receipt names its dossier).
func TestEntryCopiedFromAnotherDossierIsNoDocument(t *testing.T) {
	f := setup(t, vault.Config{})
	f.sealed(t, "a.txt", []byte("a1"))
	d2, err := f.svc.CreateDossier(as(alice), dossierInput(udiB, false))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := f.store.Latest("vault/acme/versions/" + f.dossier.ID + "/a.txt/0000000001.json")
	f.store.Overwrite("vault/acme/versions/"+d2.ID+"/a.txt/0000000001.json", data)
	fresh := newService(f.store, f.signer, vault.Config{})
	ev, err := fresh.RecordExport(as(alice), d2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Export.Documents) != 0 {
		t.Errorf("dossier %s's signed export snapshot names %+v, an entry of dossier %s copied over", d2.ID, ev.Export.Documents, f.dossier.ID)
	}
}

// Process 1 releases a.txt's hold and decides, from a state with no other
// hold, to lift it. Just as it starts lifting, process 2 sets a hold on the
// whole dossier and applies it. Process 1 reads the holds again after its
// lift and holds again what a hold set meanwhile covers.
func TestReleaseLiftRacingANewHoldHoldsAgain(t *testing.T) {
	f := setup(t, vault.Config{})
	r := f.sealed(t, "a.txt", []byte("a1"))
	doc, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Path: "a.txt", Reason: "FSCA 2026-04"})
	if err != nil {
		t.Fatal(err)
	}
	p1 := newService(f.store, f.signer, vault.Config{})
	p2 := newService(f.store, f.signer, vault.Config{})
	var mu sync.Mutex
	inP2, done := false, false
	var setErr error
	f.store.Inject(func(_ context.Context, c memstore.Call) error {
		mu.Lock()
		if c.Op != "Hold" || inP2 || done {
			mu.Unlock()
			return nil
		}
		inP2, done = true, true
		mu.Unlock()
		_, setErr = p2.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Reason: "competent authority investigation"})
		mu.Lock()
		inP2 = false
		mu.Unlock()
		return nil
	})
	if _, err := p1.ReleaseHold(as(bob), f.dossier.ID, doc.ID, vault.ReleaseInput{Reason: "FSCA closed"}); err != nil {
		t.Fatal(err)
	}
	if setErr != nil {
		t.Fatal(setErr)
	}
	st, _ := f.svc.DossierState(as(bob), f.dossier.ID)
	if len(st.LegalHolds) != 1 {
		t.Fatalf("holds: %+v", st.LegalHolds)
	}
	if info, _ := f.store.Stat(context.Background(), r.Predicate.Storage.Key, r.Predicate.Storage.VersionID); !info.LegalHold {
		t.Errorf("a.txt v1 has no legal hold while hold %s on the whole dossier stands", st.LegalHolds[0].ID)
	}
}

// An operator plants a dossier record, or a version over a real one, in a
// class storage will not serve. The tenant's other dossiers, and that
// one, are still extended by every run of the schedule.
func TestPlantedUnreadableDossierRecordStopsNoExtension(t *testing.T) {
	for _, planted := range []string{"vault/acme/dossiers/dos_aaaaaaaaaaaaaaaa.json", ""} {
		t.Run(map[bool]string{true: "a dossier of its own", false: "over the real record"}[planted != ""], func(t *testing.T) {
			c := newClock()
			f := setup(t, vault.Config{Now: c.now})
			r := f.sealed(t, "a.txt", []byte("a1"))
			if _, err := f.svc.SetMarket(as(bob), f.dossier.ID, vault.MarketInput{FirstPlaced: c.date()}); err != nil {
				t.Fatal(err)
			}
			if planted == "" {
				planted = "vault/acme/dossiers/" + f.dossier.ID + ".json"
			}
			plant := f.store.Overwrite(planted, []byte(`{}`))
			f.store.Inject(func(_ context.Context, call memstore.Call) error {
				if call.Op == "GetVersion" && call.Key == planted && call.Version == plant {
					return archived
				}
				return nil
			})
			sched := newService(f.store, f.signer, vault.Config{Now: c.now})
			for range 6 { // three years, a run every half year
				c.add(183 * 24 * time.Hour)
				sched.RunSchedule(context.Background())
			}
			info, err := f.store.Stat(context.Background(), r.Predicate.Storage.Key, r.Predicate.Storage.VersionID)
			if err != nil {
				t.Fatal(err)
			}
			if want := c.now().AddDate(10, 0, 0); info.RetainUntil.Before(want) {
				t.Errorf("on the market on %s, evidence locked until %s, want at least %s", c.date(), info.RetainUntil.Format(time.DateOnly), want.Format(time.DateOnly))
			}
		})
	}
}

// An operator copies a held dossier's chain entry into another dossier's
// chain. Setting and releasing a hold there, both signed and logged for
// that dossier, must lift nothing of the first one's.
func TestEntryCopiedFromAHeldDossierIsNotLifted(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	r := f.sealed(t, "a.txt", []byte("a1"))
	if _, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Reason: "competent authority investigation CA-2026-17"}); err != nil {
		t.Fatal(err)
	}
	other, err := f.svc.CreateDossier(as(alice), dossierInput(udiB, false))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := f.store.Latest("vault/acme/versions/" + f.dossier.ID + "/a.txt/0000000001.json")
	var entry map[string]any
	if err := json.Unmarshal(data, &entry); err != nil {
		t.Fatal(err)
	}
	entry["dossier"] = other.ID
	f.store.Overwrite("vault/acme/versions/"+other.ID+"/a.txt/0000000001.json", mustJSON(t, entry))
	c.years(11) // a.txt v1's own retention has lapsed: only the hold keeps it
	h, err := f.svc.SetHold(as(bob), other.ID, vault.HoldInput{Reason: "internal review"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ReleaseHold(as(bob), other.ID, h.ID, vault.ReleaseInput{Reason: "review closed"}); err != nil {
		t.Fatal(err)
	}
	if info, _ := f.store.Stat(context.Background(), r.Predicate.Storage.Key, r.Predicate.Storage.VersionID); !info.LegalHold {
		t.Error("a release in another dossier lifted the standing hold on a.txt v1")
	}
	if err := f.store.Remove(r.Predicate.Storage.Key, r.Predicate.Storage.VersionID); err == nil {
		t.Error("the operator deleted a.txt v1, under a standing hold")
	}
}

// everyHalfYear runs the schedule every half year for years, as its
// hourly runs would.
func everyHalfYear(t *testing.T, c *clock, svc *vault.Service, years int) {
	t.Helper()
	for range 2 * years {
		c.add(183 * 24 * time.Hour)
		if _, err := svc.RunSchedule(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// removeAll removes every version of key it can, and says whether one
// was removed.
func removeAll(f fixture, key string) bool {
	objs, _ := f.store.List(context.Background(), key)
	removed := false
	for _, o := range objs {
		if o.Key != key {
			continue
		}
		for _, v := range o.Versions {
			removed = f.store.Remove(key, v.ID) == nil || removed
		}
	}
	return removed
}

// A hold outlasts every lock the vault set (an investigation of 17
// years, the device never on the market): the records that show the
// hold and the dossier stay locked as long as it stands, so that nobody
// can delete them and make the hold vanish, or let a later release lift
// what it covers.
func TestAHoldKeepsTheRecordsThatShowIt(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	r := f.sealed(t, "a.txt", []byte("a1"))
	whole, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Reason: "competent authority investigation CA-2026-17"})
	if err != nil {
		t.Fatal(err)
	}
	sched := newService(f.store, f.signer, vault.Config{Now: c.now})
	everyHalfYear(t, c, sched, 14)
	doc, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Path: "a.txt", Reason: "FSCA 2040-02"})
	if err != nil {
		t.Fatal(err)
	}
	everyHalfYear(t, c, sched, 3)
	for _, key := range []string{
		"vault/acme/lifecycle/" + f.dossier.ID + "/" + whole.ID + ".json",
		"vault/acme/dossiers/" + f.dossier.ID + ".json",
		"vault/acme/receipts/" + r.Predicate.ReceiptID + ".json",
	} {
		if removeAll(f, key) {
			t.Errorf("17 years into a standing hold, the operator removed %s", key)
		}
	}
	svc := newService(f.store, f.signer, vault.Config{Now: c.now})
	if _, err := svc.ReleaseHold(as(bob), f.dossier.ID, doc.ID, vault.ReleaseInput{Reason: "FSCA closed"}); err != nil {
		t.Fatal(err)
	}
	st, err := svc.DossierState(as(bob), f.dossier.ID)
	if err != nil || len(st.LegalHolds) != 1 || st.LegalHolds[0].ID != whole.ID {
		t.Errorf("after the document hold's release: holds %+v (%v), want %s standing", st.LegalHolds, err, whole.ID)
	}
	if info, _ := f.store.Stat(context.Background(), r.Predicate.Storage.Key, r.Predicate.Storage.VersionID); !info.LegalHold {
		t.Error("a.txt v1 lost its legal hold though the dossier's hold stands")
	}
}

// An extension run that takes long (a tenant of many records) logs the
// date it extended the tenant's records to, not a later one.
func TestASlowRunLogsTheDateItExtendedTo(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	f.sealed(t, "a.txt", []byte("a1"))
	if _, err := f.svc.SetMarket(as(bob), f.dossier.ID, vault.MarketInput{FirstPlaced: c.date()}); err != nil {
		t.Fatal(err)
	}
	c.years(6)
	f.store.Inject(func(_ context.Context, call memstore.Call) error {
		if call.Op == "Stat" && strings.HasPrefix(call.Key, "ledger/acme/") {
			c.add(time.Minute) // each of the log's objects takes a minute
		}
		return nil
	})
	if _, err := f.svc.ExtendRetention(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	}
	st, err := f.svc.DossierState(as(bob), f.dossier.ID)
	if err != nil {
		t.Fatal(err)
	}
	for k, info := range locksUnder(t, f, "vault/acme/receipts/") {
		if info.RetainUntil.Before(st.RetainUntil) {
			t.Errorf("%s locked until %s; the signed extension says %s", k, info.RetainUntil.Format(time.RFC3339), st.RetainUntil.Format(time.RFC3339))
		}
	}
}

// An oversize object planted among the records reads as empty
// (s3store.maxRecord): at the checkpoint of the log's next size (a key
// anyone can compute), or over a receipt, the vault passes over it as
// over other junk, and the log goes on.
func TestEmptyReadOfAnOversizePlant(t *testing.T) {
	f := setup(t, vault.Config{})
	r := f.sealed(t, "a.txt", []byte("a"))
	f.store.Overwrite(fmt.Sprintf("ledger/acme/checkpoint/%020d", r.Log.Index+2), []byte{})
	f.store.Overwrite("vault/acme/receipts/"+r.Predicate.ReceiptID+".json", []byte{})
	for _, p := range []string{"b.txt", "c.txt"} {
		f.sealed(t, p, []byte(p))
	}
	if got, err := f.svc.Receipt(as(alice), r.Predicate.ReceiptID); err != nil || got.Predicate.ReceiptID != r.Predicate.ReceiptID {
		t.Errorf("receipt under an empty plant: got %v", err)
	}
}
