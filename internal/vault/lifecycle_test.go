package vault_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
)

// clock is a settable clock for the vault.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *clock) years(n int)         { c.mu.Lock(); c.t = c.t.AddDate(n, 0, 0); c.mu.Unlock() }
func (c *clock) date() string        { return c.now().Format(time.DateOnly) }

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

// signedIn is id having just signed in.
func signedIn(id vault.Identity, at time.Time) vault.Identity {
	id.AuthTime, id.Name = at, strings.Split(id.Subject, "@")[0]+" Example"
	return id
}

var carol = vault.Identity{Tenant: "acme", Subject: "carol@acme.example", Role: vault.RoleAdmin}

// lockOf returns the retention and hold of every version under prefix.
func locksUnder(t *testing.T, f fixture, prefix string) map[string]vault.ObjectInfo {
	t.Helper()
	out := map[string]vault.ObjectInfo{}
	for _, k := range f.store.Keys() {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		ids, err := f.store.Versions(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			info, err := f.store.Stat(context.Background(), k, id)
			if err != nil {
				continue // a delete marker
			}
			out[k+"@"+id] = info
		}
	}
	return out
}

func TestRetentionFollowsTheMarket(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	r1 := f.sealed(t, "tests/report.txt", []byte("v1"))
	if got, want := r1.Predicate.Retention.RetainUntil, c.now().AddDate(10, 0, 0); !got.Equal(want) {
		t.Fatalf("before the market: got retain until %v, want %v", got, want)
	}

	// Refused: not an admin; dates in the future or out of order.
	if _, err := f.svc.SetMarket(as(alice), f.dossier.ID, vault.MarketInput{FirstPlaced: c.date()}); vault.ErrorCode(err) != vault.CodeForbidden {
		t.Errorf("uploader sets the market status: got %v, want forbidden", err)
	}
	for _, tc := range []struct {
		in      vault.MarketInput
		pointer string
	}{
		{vault.MarketInput{FirstPlaced: c.now().AddDate(0, 0, 1).Format(time.DateOnly)}, "/firstPlacedOnMarket"},
		{vault.MarketInput{FirstPlaced: "2026-02-30"}, "/firstPlacedOnMarket"},
		{vault.MarketInput{}, "/firstPlacedOnMarket"},
		{vault.MarketInput{FirstPlaced: "2026-03-01", LastPlaced: "2026-02-01"}, "/lastPlacedOnMarket"},
	} {
		_, err := f.svc.SetMarket(as(bob), f.dossier.ID, tc.in)
		if fe := fieldPointers(err); !slices.Contains(fe, tc.pointer) {
			t.Errorf("SetMarket(%+v): got %v (%v), want a problem at %s", tc.in, fe, err, tc.pointer)
		}
	}
	// One problem per field: a date that does not parse is not also
	// "in the future" or "before" another.
	for _, tc := range []struct {
		in   vault.MarketInput
		want []string
	}{
		{vault.MarketInput{FirstPlaced: "abc", LastPlaced: "2025-01-01"}, []string{"/firstPlacedOnMarket"}},
		{vault.MarketInput{FirstPlaced: "2099-01-01"}, []string{"/firstPlacedOnMarket"}},
	} {
		_, err := f.svc.SetMarket(as(bob), f.dossier.ID, tc.in)
		if got := fieldPointers(err); !slices.Equal(got, tc.want) {
			t.Errorf("SetMarket(%+v): got %v, want %v", tc.in, got, tc.want)
		}
	}
	if st, _ := f.svc.DossierState(as(alice), f.dossier.ID); len(st.Events) != 0 {
		t.Fatalf("refused requests logged %d events", len(st.Events))
	}

	// Placed on the market today: everything is locked a year beyond
	// today's ten at once, and the change is a logged event.
	st, err := f.svc.SetMarket(as(bob), f.dossier.ID, vault.MarketInput{FirstPlaced: c.date(), Reason: "CE certificate issued"})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Market.OnMarket() || st.LastExtension == nil || len(st.Events) != 2 || st.Events[0].Event != vault.EventMarket || st.Events[1].Event != vault.EventExtended {
		t.Fatalf("got state %+v, want on the market with one extension", st)
	}
	floor := c.now().Add(vault.ExtendAhead).AddDate(10, 0, 0)
	for _, prefix := range []string{"evidence/acme/" + f.dossier.ID + "/", "vault/acme/versions/", "vault/acme/receipts/", "ledger/acme/", "vault/acme/dossiers/"} {
		locks := locksUnder(t, f, prefix)
		if len(locks) == 0 {
			t.Errorf("nothing under %s", prefix)
		}
		for k, info := range locks {
			if strings.HasSuffix(k, "/head.json@"+info.VersionID) {
				continue // a hint, never locked
			}
			if info.RetainUntil.Before(floor) {
				t.Errorf("%s: locked until %v, want at least %v", k, info.RetainUntil, floor)
			}
		}
	}
	// A run right after finds nothing due: runs are idempotent.
	if run, err := f.svc.ExtendRetention(context.Background(), "acme"); err != nil || len(run.Dossiers) != 0 {
		t.Errorf("second run: got %+v (%v), want nothing extended", run, err)
	}

	// Eight years on the market: the schedule's run extends again, so that
	// 2026's evidence is kept until at least 2044.
	c.years(8)
	run, err := f.svc.ExtendRetention(context.Background(), "acme")
	if err != nil || len(run.Dossiers) != 1 || run.Dossiers[0].Extension.Objects == 0 {
		t.Fatalf("run after eight years: got %+v (%v), want one dossier extended", run, err)
	}
	v1 := r1.Predicate.Storage
	info, _ := f.store.Stat(context.Background(), v1.Key, v1.VersionID)
	if want := time.Date(2044, 3, 2, 0, 0, 0, 0, time.UTC); info.RetainUntil.Before(want) {
		t.Errorf("2026 evidence locked until %v, want at least %v", info.RetainUntil, want)
	}
	// A version sealed now is locked as far as the others.
	r2 := f.sealed(t, "tests/report.txt", []byte("v2"))
	if got, want := r2.Predicate.Retention.RetainUntil, c.now().Add(vault.ExtendAhead).AddDate(10, 0, 0); got.Before(want) {
		t.Errorf("version sealed on the market: retain until %v, want at least %v", got, want)
	}
	// Views show the extended date beside the receipt's.
	v, err := f.svc.Version(as(alice), f.dossier.ID, "tests/report.txt", 1)
	if err != nil || v.State == nil || !v.State.RetainedUntil.After(v.Retention.RetainUntil) {
		t.Errorf("version 1 view: got %+v (%v), want retainedUntil after the receipt's %v", v.State, err, v.Retention.RetainUntil)
	}

	// The last device is placed today: retention ends ten years after it.
	last := c.date()
	st, err = f.svc.SetMarket(as(bob), f.dossier.ID, vault.MarketInput{FirstPlaced: "2026-03-02", LastPlaced: last})
	if err != nil || st.Market.OnMarket() {
		t.Fatalf("leaving the market: got %+v (%v)", st, err)
	}
	lastDay, _ := time.Parse(time.DateOnly, last)
	for k, info := range locksUnder(t, f, "evidence/acme/") {
		if info.RetainUntil.Before(lastDay.AddDate(10, 0, 1)) {
			t.Errorf("%s: locked until %v, want at least ten years after %s", k, info.RetainUntil, last)
		}
	}
	// Off the market, later runs have nothing to do.
	c.years(3)
	if run, err := f.svc.ExtendRetention(context.Background(), "acme"); err != nil || len(run.Dossiers) != 0 {
		t.Errorf("run off the market: got %+v (%v), want nothing extended", run, err)
	}
}

// fieldPointers returns the pointers of an invalid request's problems.
func fieldPointers(err error) []string {
	var ve *vault.Error
	if !asError(err, &ve) {
		return nil
	}
	var out []string
	for _, f := range ve.Fields {
		out = append(out, f.Pointer)
	}
	return out
}

func asError(err error, target **vault.Error) bool {
	for err != nil {
		if e, ok := err.(*vault.Error); ok {
			*target = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestLegalHold(t *testing.T) {
	f := setup(t, vault.Config{})
	ra := f.sealed(t, "a.txt", []byte("a"))
	rb := f.sealed(t, "b.txt", []byte("b"))
	held := func(r *vault.Receipt) bool {
		info, err := f.store.Stat(context.Background(), r.Predicate.Storage.Key, r.Predicate.Storage.VersionID)
		if err != nil {
			t.Fatal(err)
		}
		return info.LegalHold
	}

	if _, err := f.svc.SetHold(as(alice), f.dossier.ID, vault.HoldInput{Reason: "BfArM inquiry"}); vault.ErrorCode(err) != vault.CodeForbidden {
		t.Errorf("uploader sets a hold: got %v, want forbidden", err)
	}
	for _, tc := range []struct {
		in      vault.HoldInput
		pointer string
	}{
		{vault.HoldInput{}, "/reason"},
		{vault.HoldInput{Path: "nope.txt", Reason: "x"}, "/path"},
		{vault.HoldInput{Path: "../a.txt", Reason: "x"}, "/path"},
	} {
		if _, err := f.svc.SetHold(as(bob), f.dossier.ID, tc.in); !slices.Contains(fieldPointers(err), tc.pointer) {
			t.Errorf("SetHold(%+v): got %v, want a problem at %s", tc.in, err, tc.pointer)
		}
	}

	ha, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Path: "a.txt", Reason: "FSCA 2026-04"})
	if err != nil {
		t.Fatal(err)
	}
	if !held(ra) || held(rb) {
		t.Errorf("hold on a.txt: got a held %v, b held %v; want a only", held(ra), held(rb))
	}
	// The bytes cannot be deleted, not even by the operator.
	if err := f.store.Remove(ra.Predicate.Storage.Key, ra.Predicate.Storage.VersionID); err == nil {
		t.Error("a held version was deleted")
	}
	// A version sealed while the hold stands is held too.
	ra2 := f.sealed(t, "a.txt", []byte("a2"))
	if !held(ra2) {
		t.Error("a version sealed under a hold is not held")
	}
	receipts := locksUnder(t, f, "vault/acme/receipts/"+ra2.Predicate.ReceiptID)
	if len(receipts) == 0 {
		t.Fatal("no receipt object of version 2")
	}
	for k, info := range receipts {
		if !info.LegalHold {
			t.Errorf("%s: the receipt of a version sealed under a hold is not held", k)
		}
	}
	hd, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Reason: "competent authority investigation"})
	if err != nil {
		t.Fatal(err)
	}
	if !held(rb) {
		t.Error("dossier hold: b.txt not held")
	}
	docs, _ := f.svc.Documents(as(alice), f.dossier.ID)
	for _, d := range docs {
		if d.State == nil || len(d.State.LegalHolds) == 0 {
			t.Errorf("%s: listing shows no hold: %+v", d.Document.Path, d.State)
		}
	}

	// Releasing the dossier's hold leaves a.txt's.
	if _, err := f.svc.ReleaseHold(as(bob), f.dossier.ID, hd.ID, vault.ReleaseInput{}); !slices.Contains(fieldPointers(err), "/reason") {
		t.Errorf("release without reason: got %v", err)
	}
	if _, err := f.svc.ReleaseHold(as(bob), f.dossier.ID, hd.ID, vault.ReleaseInput{Reason: "investigation closed"}); err != nil {
		t.Fatal(err)
	}
	if held(rb) || !held(ra) || !held(ra2) {
		t.Errorf("after releasing the dossier hold: a %v, a2 %v, b %v; want a and a2 held", held(ra), held(ra2), held(rb))
	}
	// Releasing it again logs nothing and lifts nothing another hold covers.
	if st, err := f.svc.ReleaseHold(as(bob), f.dossier.ID, hd.ID, vault.ReleaseInput{Reason: "again"}); err != nil || len(st.Events) != 3 || !held(ra) {
		t.Errorf("releasing a released hold: got %v, a held %v; want the three events so far, a held", err, held(ra))
	}
	if _, err := f.svc.ReleaseHold(as(bob), f.dossier.ID, "evt_aaaaaaaaaaaaaaaaaaaaaaaaaa", vault.ReleaseInput{Reason: "none"}); vault.ErrorCode(err) != vault.CodeNotFound {
		t.Errorf("releasing no hold: got %v, want not found", err)
	}
	st, err := f.svc.ReleaseHold(as(bob), f.dossier.ID, ha.ID, vault.ReleaseInput{Reason: "FSCA closed"})
	if err != nil || len(st.LegalHolds) != 0 || held(ra) || held(ra2) {
		t.Errorf("after releasing every hold: holds %v (%v), a held %v", st, err, held(ra))
	}
	kinds := []string{}
	for _, e := range st.Events {
		kinds = append(kinds, e.Event+":"+e.Reason)
	}
	want := []string{"legal-hold:FSCA 2026-04", "legal-hold:competent authority investigation", "legal-hold-released:investigation closed", "legal-hold-released:FSCA closed"}
	if !slices.Equal(kinds, want) {
		t.Errorf("got events %v, want %v", kinds, want)
	}
}

func TestObsoleteDocuments(t *testing.T) {
	f := setup(t, vault.Config{})
	f.sealed(t, "sop/cleaning.txt", []byte("rev A"))
	f.sealed(t, "sop/other.txt", []byte("x"))
	for _, tc := range []struct {
		in      vault.StatusInput
		pointer string
	}{
		{vault.StatusInput{Path: "sop/cleaning.txt", Status: "deleted", Reason: "x"}, "/status"},
		{vault.StatusInput{Path: "sop/cleaning.txt", Status: "obsolete"}, "/reason"},
		{vault.StatusInput{Path: "sop/none.txt", Status: "obsolete", Reason: "x"}, "/path"},
	} {
		if _, err := f.svc.SetStatus(as(alice), f.dossier.ID, tc.in); !slices.Contains(fieldPointers(err), tc.pointer) {
			t.Errorf("SetStatus(%+v): got %v, want a problem at %s", tc.in, err, tc.pointer)
		}
	}
	v, err := f.svc.SetStatus(as(alice), f.dossier.ID, vault.StatusInput{Path: "sop/cleaning.txt", Status: "obsolete", Reason: "replaced by SOP-12"})
	if err != nil || v.State.Status != vault.StatusObsolete || v.State.StatusReason != "replaced by SOP-12" {
		t.Fatalf("got %+v (%v)", v.State, err)
	}
	// Still there, still downloadable: obsolete is identified, not removed.
	if _, err := f.svc.Download(as(alice), f.dossier.ID, "sop/cleaning.txt", 1); err != nil {
		t.Errorf("download of an obsolete document: %v", err)
	}
	status := func() map[string]string {
		docs, err := f.svc.Documents(as(alice), f.dossier.ID)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, d := range docs {
			m[d.Document.Path] = d.State.Status
		}
		return m
	}
	if got := status(); got["sop/cleaning.txt"] != "obsolete" || got["sop/other.txt"] != "current" {
		t.Errorf("got statuses %v", got)
	}
	f.sealed(t, "sop/cleaning.txt", []byte("rev B"))
	if got := status(); got["sop/cleaning.txt"] != "current" {
		t.Errorf("after a new version: got %v, want current", got)
	}
	vs, _ := f.svc.Versions(as(alice), f.dossier.ID, "sop/cleaning.txt")
	if vs[0].State.Status != vault.StatusSuperseded {
		t.Errorf("version 1: got %s, want superseded", vs[0].State.Status)
	}
	if _, err := f.svc.SetStatus(as(alice), f.dossier.ID, vault.StatusInput{Path: "sop/other.txt", Status: "withdrawn", Reason: "device variant dropped"}); err != nil {
		t.Fatal(err)
	}
	if got := status(); got["sop/other.txt"] != "withdrawn" {
		t.Errorf("got %v, want withdrawn", got)
	}
}

func TestSignoffs(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	body := []byte("software requirements")
	r := f.sealed(t, "srs.txt", body)
	sha := r.Subject.Digest["sha256"]
	in := func(meaning string) vault.SignoffInput {
		return vault.SignoffInput{Path: "srs.txt", Version: 1, SHA256: sha, Meaning: meaning}
	}

	// Re-authentication: no auth_time, or one too old, is refused.
	for name, id := range map[string]vault.Identity{"no auth_time": bob, "stale": signedIn(bob, c.now().Add(-vault.MaxSignoffAge-time.Second))} {
		if _, err := f.svc.SignOff(as(id), f.dossier.ID, in("approved")); vault.ErrorCode(err) != vault.CodeReauthenticate {
			t.Errorf("%s: got %v, want reauthenticate", name, err)
		}
	}
	wrong := in("approved")
	wrong.SHA256 = strings.Repeat("0", 64)
	if _, err := f.svc.SignOff(as(signedIn(bob, c.now())), f.dossier.ID, wrong); !slices.Contains(fieldPointers(err), "/sha256") {
		t.Errorf("other bytes: got %v, want a problem at /sha256", err)
	}
	bad := in("liked")
	bad.Version = 0
	if fe := fieldPointers2(f.svc.SignOff(as(signedIn(bob, c.now())), f.dossier.ID, bad)); !slices.Contains(fe, "/meaning") || !slices.Contains(fe, "/version") {
		t.Errorf("bad meaning and version: got %v, want both", fe)
	}
	if _, err := f.svc.SignOff(as(signedIn(mallory, c.now())), f.dossier.ID, in("approved")); vault.ErrorCode(err) != vault.CodeNotFound {
		t.Errorf("another tenant signs: got %v, want not found", err)
	}

	// The author's own approval does not count under the default policy.
	v, err := f.svc.SignOff(as(signedIn(alice, c.now())), f.dossier.ID, in("authored"))
	if err != nil {
		t.Fatal(err)
	}
	if v, err = f.svc.SignOff(as(signedIn(alice, c.now())), f.dossier.ID, in("approved")); err != nil || v.State.Approved {
		t.Errorf("author approves own document: approved %v (%v), want not approved", v.State, err)
	}
	if _, err := f.svc.SignOff(as(signedIn(alice, c.now())), f.dossier.ID, in("approved")); vault.ErrorCode(err) != vault.CodeConflict {
		t.Errorf("second identical sign-off: got %v, want conflict", err)
	}
	c.add(time.Minute)
	if v, err = f.svc.SignOff(as(signedIn(bob, c.now())), f.dossier.ID, in("approved")); err != nil || !v.State.Approved {
		t.Fatalf("bob approves: got %+v (%v), want approved", v.State, err)
	}
	so := v.State.Signoffs[len(v.State.Signoffs)-1]
	if so.Name != "bob Example" || so.Meaning != "approved" || !so.At.Equal(c.now()) || so.SHA256 != sha || so.ReceiptID != r.Predicate.ReceiptID {
		t.Errorf("got sign-off %+v", so)
	}
	// Bound to the receipt's statement: its digest is in the sign-off.
	payload, _ := receipt.Payload(r.Envelope)
	sum := sha256.Sum256(payload)
	if so.ReceiptStatement != hex.EncodeToString(sum[:]) {
		t.Errorf("got receipt statement %s, want the receipt's payload digest", so.ReceiptStatement)
	}

	// Two approvers other than the author: bob alone no longer suffices.
	if _, err := f.svc.SetPolicy(as(alice), f.dossier.ID, vault.PolicyInput{Approvals: 2, ExcludeAuthors: yes()}); vault.ErrorCode(err) != vault.CodeForbidden {
		t.Errorf("uploader sets the policy: got %v", err)
	}
	if _, err := f.svc.SetPolicy(as(bob), f.dossier.ID, vault.PolicyInput{Approvals: 0}); !slices.Contains(fieldPointers(err), "/approvals") || !slices.Contains(fieldPointers(err), "/excludeAuthors") {
		t.Errorf("bad policy: got %v", err)
	}
	if _, err := f.svc.SetPolicy(as(bob), f.dossier.ID, vault.PolicyInput{Approvals: 2, ExcludeAuthors: yes(), Reason: "SOP-4 two-person rule"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := f.svc.Version(as(alice), f.dossier.ID, "srs.txt", 1); v.State.Approved {
		t.Error("one approval under a two-approval policy counts as approved")
	}
	if v, err = f.svc.SignOff(as(signedIn(carol, c.now())), f.dossier.ID, in("approved")); err != nil || !v.State.Approved {
		t.Errorf("carol approves: got %+v (%v), want approved", v.State, err)
	}
	// A sign-off holds for its version only.
	f.sealed(t, "srs.txt", []byte("software requirements rev B"))
	if v, _ := f.svc.Version(as(alice), f.dossier.ID, "srs.txt", 2); v.State.Approved || len(v.State.Signoffs) != 0 {
		t.Errorf("version 2 inherits sign-offs: %+v", v.State)
	}
}

func fieldPointers2(_ vault.Version, err error) []string { return fieldPointers(err) }

func TestCompleteness(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	rep, err := f.svc.Completeness(as(alice), f.dossier.ID)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, s := range rep.Sections {
		ids = append(ids, s.ID)
	}
	// MDR Annex II and III without the sections that have subsections,
	// and Annex IV for high-risk AI.
	if !slices.Contains(ids, "MDR-II-1.1") || slices.Contains(ids, "MDR-II-1") || !slices.Contains(ids, "AIA-IV-5") || slices.Contains(ids, "IVDR-II-4") {
		t.Errorf("got sections %v", ids)
	}
	if rep.Complete || rep.Missing != len(rep.Sections) {
		t.Errorf("empty dossier: got complete %v, %d missing of %d", rep.Complete, rep.Missing, len(rep.Sections))
	}
	section := func(rep *vault.Completeness, id string) vault.SectionReport {
		for _, s := range rep.Sections {
			if s.ID == id {
				return s
			}
		}
		t.Fatalf("no section %s", id)
		return vault.SectionReport{}
	}
	r := f.sealed(t, "clinical/cer.txt", []byte("clinical evaluation")) // MDR-II-6.1
	rep, _ = f.svc.Completeness(as(alice), f.dossier.ID)
	if s := section(rep, "MDR-II-6.1"); s.Status != vault.SectionUnapproved || len(s.Evidence) != 1 {
		t.Errorf("sealed, unapproved: got %+v", s)
	}
	if _, err := f.svc.SignOff(as(signedIn(bob, c.now())), f.dossier.ID, vault.SignoffInput{Path: "clinical/cer.txt", Version: 1, SHA256: r.Subject.Digest["sha256"], Meaning: "approved"}); err != nil {
		t.Fatal(err)
	}
	rep, _ = f.svc.Completeness(as(alice), f.dossier.ID)
	if s := section(rep, "MDR-II-6.1"); s.Status != vault.SectionComplete || rep.Missing != len(rep.Sections)-1 {
		t.Errorf("approved: got %+v, %d missing", s, rep.Missing)
	}
	// Evidence filed under a section with subsections does not say which
	// it covers: it completes neither, and is listed apart.
	parent := document("tests/vv-summary.txt", []byte("V&V summary"))
	parent.Section = "MDR-II-6"
	tk, err := f.svc.StartUpload(as(alice), f.dossier.ID, parent)
	if err != nil {
		t.Fatal(err)
	}
	f.put(t, tk, []byte("V&V summary"))
	pr, err := f.svc.Complete(as(alice), tk.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SignOff(as(signedIn(bob, c.now())), f.dossier.ID, vault.SignoffInput{Path: "tests/vv-summary.txt", Version: 1, SHA256: pr.Subject.Digest["sha256"], Meaning: "approved"}); err != nil {
		t.Fatal(err)
	}
	rep, _ = f.svc.Completeness(as(alice), f.dossier.ID)
	if s := section(rep, "MDR-II-6.2"); s.Status != vault.SectionMissing || len(rep.Other) != 1 || rep.Other[0].Section != "MDR-II-6" {
		t.Errorf("a document filed under MDR-II-6: got 6.2 %+v, unfiled %+v", s, rep.Other)
	}
	// Obsolete evidence leaves the section missing again.
	if _, err := f.svc.SetStatus(as(alice), f.dossier.ID, vault.StatusInput{Path: "clinical/cer.txt", Status: "obsolete", Reason: "superseded by CER v2"}); err != nil {
		t.Fatal(err)
	}
	rep, _ = f.svc.Completeness(as(alice), f.dossier.ID)
	if s := section(rep, "MDR-II-6.1"); s.Status != vault.SectionMissing {
		t.Errorf("obsolete: got %+v, want missing", s)
	}
}

func TestSubmissions(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	f.sealed(t, "a.txt", []byte("a1"))
	f.sealed(t, "b.txt", []byte("b1"))
	for _, tc := range []struct {
		in      vault.SubmissionInput
		pointer string
	}{
		{vault.SubmissionInput{Date: c.date()}, "/notifiedBody"},
		{vault.SubmissionInput{NotifiedBody: "0197", Date: c.now().AddDate(0, 0, 1).Format(time.DateOnly)}, "/date"},
		{vault.SubmissionInput{NotifiedBody: "0197", Date: c.date(), Paths: []string{"a.txt", "zzz.txt"}}, "/paths/1"},
		// Sent before the bytes were sealed: refused.
		{vault.SubmissionInput{NotifiedBody: "0197", Date: c.now().AddDate(0, 0, -1).Format(time.DateOnly)}, "/date"},
	} {
		if _, err := f.svc.Submit(as(alice), f.dossier.ID, tc.in); !slices.Contains(fieldPointers(err), tc.pointer) {
			t.Errorf("Submit(%+v): got %v, want a problem at %s", tc.in, err, tc.pointer)
		}
	}
	s1, err := f.svc.Submit(as(alice), f.dossier.ID, vault.SubmissionInput{NotifiedBody: "0197", Date: c.date(), Note: "initial conformity assessment"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s1.Documents) != 2 || s1.Record == nil || s1.Record.Log == nil {
		t.Fatalf("got submission %+v", s1)
	}
	// The event's subjects are the submitted files.
	_, st, err := receipt.Parse(s1.Record.Envelope)
	if err != nil || len(st.Subject) != 2 || st.Subject[0].Name != "a.txt" || st.Subject[0].Digest["sha256"] != s1.Documents[0].SHA256 {
		t.Errorf("got statement %+v (%v)", st, err)
	}

	c.add(24 * time.Hour)
	f.sealed(t, "a.txt", []byte("a2"))
	f.sealed(t, "c.txt", []byte("c1"))
	if _, err := f.svc.SetStatus(as(alice), f.dossier.ID, vault.StatusInput{Path: "b.txt", Status: "withdrawn", Reason: "no longer applies"}); err != nil {
		t.Fatal(err)
	}
	ch, err := f.svc.SubmissionChanges(as(alice), f.dossier.ID, s1.ID, vault.CurrentDocuments)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Changed) != 1 || ch.Changed[0].Path != "a.txt" || ch.Changed[0].To.Version != 2 || len(ch.Removed) != 1 || ch.Removed[0].Path != "b.txt" ||
		len(ch.Added) != 1 || ch.Added[0].Path != "c.txt" || ch.Unchanged != 0 {
		t.Errorf("got changes %+v", ch)
	}
	s2, err := f.svc.Submit(as(alice), f.dossier.ID, vault.SubmissionInput{NotifiedBody: "0197", Date: c.date()})
	if err != nil {
		t.Fatal(err)
	}
	if ch, _ := f.svc.SubmissionChanges(as(alice), f.dossier.ID, s2.ID, vault.CurrentDocuments); len(ch.Added)+len(ch.Removed)+len(ch.Changed) != 0 || ch.Unchanged != 2 {
		t.Errorf("nothing changed since: got %+v", ch)
	}
	if _, err := f.svc.SubmissionChanges(as(alice), f.dossier.ID, "evt_nope", s2.ID); !slices.Contains(fieldPointers(err), "/from") {
		t.Errorf("unknown submission: got %v", err)
	}
	got, err := f.svc.SubmissionOf(as(alice), f.dossier.ID, s1.ID)
	if err != nil || got.Record == nil || got.Record.Log.Index != s1.LogIndex || len(got.Documents) != 2 {
		t.Errorf("read back: got %+v (%v)", got, err)
	}
}

// An operator with bucket access can plant, hide or copy lifecycle records;
// none of it changes what the vault shows, and the audit names it.
func TestLifecycleTampering(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	r := f.sealed(t, "a.txt", []byte("a"))
	h, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Reason: "investigation"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SignOff(as(signedIn(bob, c.now())), f.dossier.ID, vault.SignoffInput{Path: "a.txt", Version: 1, SHA256: r.Subject.Digest["sha256"], Meaning: "approved"}); err != nil {
		t.Fatal(err)
	}
	holdKey := "vault/acme/lifecycle/" + f.dossier.ID + "/" + h.ID + ".json"
	data, ok := f.store.Latest(holdKey)
	if !ok {
		t.Fatalf("no record at %s", holdKey)
	}
	// Hidden under a delete marker: the hold still stands.
	f.store.Hide(holdKey)
	// A release the vault never signed, planted beside it.
	forged := strings.Replace(string(data), h.ID, "evt_aaaaaaaaaaaaaaaaaaaaaaaaaa", 1)
	f.store.Overwrite("vault/acme/lifecycle/"+f.dossier.ID+"/evt_aaaaaaaaaaaaaaaaaaaaaaaaaa.json", []byte(forged))
	// A sign-off copied to another dossier.
	d2, err := f.svc.CreateDossier(as(alice), dossierInput(udiB, false))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.svc.DossierState(as(alice), f.dossier.ID)
	so := st.Signoffs[0]
	sodata, _ := f.store.Latest("vault/acme/lifecycle/" + f.dossier.ID + "/" + so.ID + ".json")
	f.store.Overwrite("vault/acme/lifecycle/"+d2.ID+"/"+so.ID+".json", sodata)

	st, err = f.svc.DossierState(as(alice), f.dossier.ID)
	if err != nil || len(st.LegalHolds) != 1 || st.LegalHolds[0].ID != h.ID || len(st.Events) != 2 {
		t.Errorf("after tampering: got holds %+v, %d events (%v); want the one hold, two events", st.LegalHolds, len(st.Events), err)
	}
	st2, _ := f.svc.DossierState(as(alice), d2.ID)
	if len(st2.Signoffs) != 0 {
		t.Errorf("a copied sign-off counts in another dossier: %+v", st2.Signoffs)
	}
	rep, err := f.svc.Audit(as(bob))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(rep.Problems, "\n")
	for _, want := range []string{holdKey, "evt_aaaaaaaaaaaaaaaaaaaaaaaaaa", d2.ID + "/" + so.ID} {
		if !strings.Contains(text, want) {
			t.Errorf("audit does not name %s:\n%s", want, text)
		}
	}
}

func TestScheduleRunsEveryTenant(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	d2, err := f.svc.CreateDossier(as(mallory), dossierInput(udiB, true))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.Tenants(context.Background()); !slices.Equal(got, []string{"acme", "evil"}) {
		t.Errorf("got tenants %v, want acme and evil", got)
	}
	evilAdmin := vault.Identity{Tenant: "evil", Subject: "eve@evil.example", Role: vault.RoleAdmin}
	for _, m := range []struct {
		id      vault.Identity
		dossier string
	}{{bob, f.dossier.ID}, {evilAdmin, d2.ID}} {
		if _, err := f.svc.SetMarket(as(m.id), m.dossier, vault.MarketInput{FirstPlaced: c.date()}); err != nil {
			t.Fatal(err)
		}
	}
	if run, err := f.svc.RunSchedule(context.Background()); err != nil || len(run.Extended) != 0 {
		t.Errorf("right after: got %+v (%v), want nothing due", run, err)
	}
	c.years(1)
	run, err := f.svc.RunSchedule(context.Background())
	if err != nil || len(run.Extended) != 2 {
		t.Fatalf("a year on: got %+v (%v), want both tenants extended", run, err)
	}
	for _, e := range run.Extended {
		years := map[string]int{"acme": 10, "evil": 15}[e.Tenant]
		if got, want := e.Dossiers[0].Extension.Until, c.now().Add(vault.ExtendAhead).AddDate(years, 0, 0); !got.Equal(want) {
			t.Errorf("%s: extended to %v, want %v", e.Tenant, got, want)
		}
	}
}

// A hold set while a version is being sealed (logged after the seal read
// the dossier's state, listing the chain before the seal's entry exists)
// still reaches the version.
func TestHoldSetWhileSealing(t *testing.T) {
	f := setup(t, vault.Config{})
	f.sealed(t, "a.txt", []byte("a1"))
	var once sync.Once
	remove := f.store.Inject(func(ctx context.Context, c memstore.Call) error {
		if c.Op == "Create" && strings.HasPrefix(c.Key, "vault/acme/versions/") && strings.HasSuffix(c.Key, "0000000002.json") {
			once.Do(func() {
				if _, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Reason: "inquiry"}); err != nil {
					t.Error(err)
				}
			})
		}
		return nil
	})
	r := f.sealed(t, "a.txt", []byte("a2"))
	remove()
	info, err := f.store.Stat(context.Background(), r.Predicate.Storage.Key, r.Predicate.Storage.VersionID)
	if err != nil || !info.LegalHold {
		t.Errorf("version 2, sealed while the hold was set: legal hold %v (%v), want on", info.LegalHold, err)
	}
	v, _ := f.svc.Version(as(alice), f.dossier.ID, "a.txt", 2)
	if len(v.State.LegalHolds) != 1 {
		t.Errorf("version 2 shows %d holds, want 1", len(v.State.LegalHolds))
	}
}

// A seal that stopped after its commit, before the legal hold, is held by
// the retry.
func TestRetryHoldsWhatACrashLeftUnheld(t *testing.T) {
	f := setup(t, vault.Config{})
	f.sealed(t, "a.txt", []byte("a1"))
	if _, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Reason: "inquiry"}); err != nil {
		t.Fatal(err)
	}
	body := []byte("a2")
	tk, err := f.svc.StartUpload(as(alice), f.dossier.ID, document("a.txt", body))
	if err != nil {
		t.Fatal(err)
	}
	f.put(t, tk, body)
	remove := f.store.Inject(memstore.Fail("Hold", "evidence/", nil))
	if _, err := f.svc.Complete(as(alice), tk.UploadID); err == nil {
		t.Fatal("complete succeeded though the hold failed")
	}
	remove()
	r, err := f.svc.Complete(as(alice), tk.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := f.store.Stat(context.Background(), r.Predicate.Storage.Key, r.Predicate.Storage.VersionID); err != nil || !info.LegalHold {
		t.Errorf("after the retry: legal hold %v (%v), want on", info.LegalHold, err)
	}
}

// A run that storage refused in part does not count as reached: the
// dossier stays due, and a later run (a day on) extends what was left.
func TestFailedExtensionIsRetried(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	r := f.sealed(t, "a.txt", []byte("a"))
	var once sync.Once
	remove := f.store.Inject(func(ctx context.Context, call memstore.Call) error {
		var err error
		if call.Op == "Retain" && strings.HasPrefix(call.Key, "evidence/") {
			once.Do(func() { err = memstore.ErrInjected })
		}
		return err
	})
	st, err := f.svc.SetMarket(as(bob), f.dossier.ID, vault.MarketInput{FirstPlaced: c.date()})
	remove()
	if err != nil || st.LastExtension == nil || st.LastExtension.Extension.Failed != 1 || !st.RetainUntil.IsZero() {
		t.Fatalf("a run with one refusal: got %+v (%v), want failed 1 and no retainUntil", st.LastExtension, err)
	}
	if run, err := f.svc.ExtendRetention(context.Background(), "acme"); err != nil || len(run.Dossiers) != 0 {
		t.Errorf("right after a refused run: got %+v (%v), want nothing (a day's backoff)", run, err)
	}
	c.add(25 * time.Hour)
	run, err := f.svc.ExtendRetention(context.Background(), "acme")
	if err != nil || len(run.Dossiers) != 1 || run.Dossiers[0].Extension.Failed != 0 {
		t.Fatalf("a day on: got %+v (%v), want the dossier extended", run, err)
	}
	info, _ := f.store.Stat(context.Background(), r.Predicate.Storage.Key, r.Predicate.Storage.VersionID)
	if want := c.now().Add(vault.ExtendAhead).AddDate(10, 0, 0); info.RetainUntil.Before(want) {
		t.Errorf("the evidence is locked until %v, want at least %v", info.RetainUntil, want)
	}
}

// A record storage will not serve, planted among a dossier's lifecycle
// records, stops nothing.
func TestUnreadablePlantedRecord(t *testing.T) {
	f := setup(t, vault.Config{})
	f.sealed(t, "a.txt", []byte("a"))
	planted := "vault/acme/lifecycle/" + f.dossier.ID + "/evt_aaaaaaaaaaaaaaaaaaaaaaaaaa.json"
	f.store.Overwrite(planted, []byte("{}"))
	defer f.store.Inject(memstore.Fail("GetVersion", planted, nil))()
	if _, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Reason: "inquiry"}); err != nil {
		t.Errorf("hold beside an unreadable record: %v", err)
	}
	f.sealed(t, "a.txt", []byte("a2"))
	if _, err := f.svc.SetMarket(as(bob), f.dossier.ID, vault.MarketInput{FirstPlaced: "2026-01-05"}); err != nil {
		t.Errorf("market status beside an unreadable record: %v", err)
	}
	if st, err := f.svc.DossierState(as(alice), f.dossier.ID); err != nil || len(st.LegalHolds) != 1 || st.LastExtension == nil {
		t.Errorf("state: got %+v (%v)", st, err)
	}
}

// A hold whose setting stopped part-way is completed by the schedule.
func TestScheduleCompletesAHoldSetPartWay(t *testing.T) {
	f := setup(t, vault.Config{})
	ra := f.sealed(t, "a.txt", []byte("a"))
	rb := f.sealed(t, "b.txt", []byte("b"))
	remove := f.store.Inject(memstore.Fail("Hold", "evidence/acme/"+f.dossier.ID+"/b.txt", nil))
	if _, err := f.svc.SetHold(as(bob), f.dossier.ID, vault.HoldInput{Reason: "inquiry"}); err == nil {
		t.Fatal("SetHold succeeded though storage refused a hold")
	}
	remove()
	run, err := f.svc.RunSchedule(context.Background())
	if err != nil || run.Held != 1 {
		t.Fatalf("schedule: got %+v (%v), want one version held", run, err)
	}
	for _, r := range []*vault.Receipt{ra, rb} {
		if info, _ := f.store.Stat(context.Background(), r.Predicate.Storage.Key, r.Predicate.Storage.VersionID); !info.LegalHold {
			t.Errorf("%s: not held after the schedule", r.Predicate.Document.Path)
		}
	}
	if run, _ := f.svc.RunSchedule(context.Background()); run.Held != 0 {
		t.Errorf("a second run held %d more, want 0", run.Held)
	}
}

// The whole of the last day counts wherever the last device was placed:
// the Union's outermost regions lie as far west as UTC-4.
func TestTheLastDayEndsInTheLatestTimeZone(t *testing.T) {
	c := newClock()
	f := setup(t, vault.Config{Now: c.now})
	r := f.sealed(t, "a.txt", []byte("a1"))
	if _, err := f.svc.SetMarket(as(bob), f.dossier.ID, vault.MarketInput{FirstPlaced: "2026-03-02"}); err != nil {
		t.Fatal(err)
	}
	c.years(4)
	if _, err := f.svc.SetMarket(as(bob), f.dossier.ID, vault.MarketInput{FirstPlaced: "2026-03-02", LastPlaced: "2030-03-01"}); err != nil {
		t.Fatal(err)
	}
	c.years(7)
	if _, err := f.svc.RunSchedule(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, zone := range []*time.Location{time.FixedZone("AST", -4*3600), time.FixedZone("UTC-12", -12*3600)} {
		placed := time.Date(2030, 3, 1, 23, 59, 0, 0, zone)
		info, err := f.store.Stat(context.Background(), r.Predicate.Storage.Key, r.Predicate.Storage.VersionID)
		if err != nil {
			t.Fatal(err)
		}
		if need := placed.AddDate(10, 0, 0); info.RetainUntil.Before(need) {
			t.Errorf("%s: locked until %s, %s short of ten years after %s", zone, info.RetainUntil.UTC().Format(time.RFC3339), need.Sub(info.RetainUntil), placed.Format(time.RFC3339))
		}
	}
}
