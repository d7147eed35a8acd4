package bundle

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/strictjson"
	"github.com/evidencevault/vault/internal/vault"
)

// checkLifecycle checks the bundle's lifecycle events (each signed by the
// key of its place and proven against the checkpoint), and that what the
// manifest says of each document, and of the submission it exports, is
// what those events say.
func checkLifecycle(ctx context.Context, fsys fs.FS, r *Report, m Manifest, trust vault.Trust, cp ledger.Checkpoint) {
	if m.Lifecycle == "" {
		if m.Submission != "" || len(m.LeftOut) > 0 || slices.ContainsFunc(m.Documents, func(d Document) bool {
			return d.Approved || len(d.Signoffs) > 0 || d.LegalHold || d.Status != ""
		}) {
			r.add(ManifestFile, false, "the manifest names statuses, holds, sign-offs, a submission or left-out documents but carries no %s to prove them", LifecycleFile)
			return
		}
		r.Lifecycle = "none: the bundle proves no status, legal hold or sign-off of its documents, nor that it holds every document"
		r.add(ManifestFile, !trust.Policy.RequireComplete, "%s", r.Lifecycle)
		return
	}
	var events []Event
	data, err := fs.ReadFile(fsys, m.Lifecycle)
	if err == nil && m.Lifecycle != LifecycleFile {
		err = fmt.Errorf("the manifest names %s, not %s", m.Lifecycle, LifecycleFile)
	}
	if err == nil {
		err = strictjson.Unmarshal(data, &events)
	}
	if !r.add(LifecycleFile, err == nil, "%s", describe(err, "")) {
		return
	}
	var logged []vault.LoggedEvent
	for _, e := range events {
		ev, err := vault.OpenLifecycle(ctx, e.Envelope, e.Index, trust)
		if err == nil && ev.Dossier != m.Dossier.ID {
			err = fmt.Errorf("an event of dossier %s", ev.Dossier)
		}
		if err == nil {
			var leaf []byte
			var env receipt.Envelope
			if err = json.Unmarshal(e.Envelope, &env); err == nil {
				if leaf, err = receipt.Payload(&env); err == nil {
					err = ledger.VerifyInclusion(cp, e.Index, leaf, e.Inclusion)
				}
			}
		}
		if len(logged) > 0 && e.Index <= logged[len(logged)-1].LogIndex {
			err = fmt.Errorf("entry %d out of log order", e.Index)
		}
		if err == nil && ev.Previous != nil && !slices.ContainsFunc(logged, func(x vault.LoggedEvent) bool { return x.ID == ev.Previous.ID && x.LogIndex == ev.Previous.LogIndex }) {
			err = fmt.Errorf("entry %d follows event %s at entry %d, which the bundle leaves out", e.Index, ev.Previous.ID, ev.Previous.LogIndex)
		}
		if !r.add(LifecycleFile, err == nil, "%s", describe(err, fmt.Sprintf("entry %d: %s %s, in the log under %s", e.Index, ev.Event, ev.ID, CheckpointFile))) {
			return
		}
		logged = append(logged, ev)
	}
	st := vault.Fold(m.Dossier.ID, logged)
	r.Lifecycle = fmt.Sprintf("%d events, none left out between them", len(logged))
	if n := len(logged); n > 0 {
		r.Lifecycle += fmt.Sprintf(", the last at entry %d: a later event (one the bundle's maker cut) only the vault's log shows", logged[n-1].LogIndex)
	}
	latest, ok := checkSnapshot(r, m, logged, trust.Policy.RequireComplete)
	if !ok {
		return
	}
	for _, d := range m.Documents {
		data, err := fs.ReadFile(fsys, d.Receipt)
		var b vault.Bundle
		var rc *vault.Receipt
		if err == nil {
			if err = json.Unmarshal(data, &b); err == nil {
				rc, err = vault.OpenReceipt(b.Envelope)
			}
		}
		if err != nil {
			continue // the receipt's own check names it
		}
		newest := d.Version
		if latest != nil {
			newest = latest[d.Path]
		}
		want := st.StateOfReceipt(rc.Predicate, d.SHA256, newest)
		got, _ := json.Marshal(d.Signoffs)
		events, _ := json.Marshal(want.Signoffs)
		if len(d.Signoffs) == 0 {
			got = []byte("[]")
		}
		switch {
		case d.Status != want.Status && (latest != nil || d.Status != vault.StatusSuperseded):
			r.add(d.Path, false, "the manifest says %s; the lifecycle events say %s", d.Status, want.Status)
		case d.Approved != want.Approved || string(got) != string(events):
			r.add(d.Path, false, "the manifest's sign-offs (%s, approved %v) are not the lifecycle events' (%s, approved %v)", got, d.Approved, events, want.Approved)
		case d.LegalHold != (len(want.LegalHolds) > 0):
			r.add(d.Path, false, "the manifest says legal hold %v; the lifecycle events say %v", d.LegalHold, len(want.LegalHolds) > 0)
		default:
			r.add(d.Path, true, "%s, %d sign-off(s), approved %v, as the lifecycle events say", d.Status, len(want.Signoffs), want.Approved)
		}
	}
	for _, p := range m.LeftOut {
		mark, ok := st.Statuses[p]
		switch {
		case !ok || mark.Status != vault.StatusObsolete && mark.Status != vault.StatusWithdrawn:
			r.add(ManifestFile, false, "the manifest leaves out %s as obsolete or withdrawn; the lifecycle events do not mark it so", p)
		case latest != nil && latest[p] != mark.Version:
			// A version sealed after the mark makes the document current.
			r.add(ManifestFile, false, "the manifest leaves out %s as %s; the lifecycle events mark version %d so, and the snapshot's latest is version %d", p, mark.Status, mark.Version, latest[p])
		}
	}
	if m.Submission == "" {
		return
	}
	i := slices.IndexFunc(st.Submissions, func(s vault.SubmissionRecord) bool { return s.ID == m.Submission })
	if i < 0 {
		r.add(LifecycleFile, false, "no submission %s among the lifecycle events", m.Submission)
		return
	}
	sub := st.Submissions[i]
	var got, want []string
	for _, d := range m.Documents {
		got = append(got, fmt.Sprintf("%s@%d %s %s", d.Path, d.Version, d.SHA256, d.ReceiptID))
	}
	for _, f := range sub.Documents {
		want = append(want, fmt.Sprintf("%s@%d %s %s", f.Path, f.Version, f.SHA256, f.ReceiptID))
	}
	slices.Sort(got)
	slices.Sort(want)
	if slices.Equal(got, want) {
		r.add(ManifestFile, true, "the documents are exactly submission %s to notified body %s on %s (%d)", sub.ID, sub.NotifiedBody, sub.Date, len(want))
	} else {
		r.add(ManifestFile, false, "the documents %v are not submission %s's %v", got, sub.ID, want)
	}
}

// checkSnapshot checks the export snapshot the manifest names: the last
// export event among the bundle's events, listing exactly the bundle's
// documents (and those left out) unless the bundle is a submission's. It
// returns each document's latest version as the snapshot says, nil when
// the bundle names none; ok is false when a check failed.
func checkSnapshot(r *Report, m Manifest, logged []vault.LoggedEvent, require bool) (map[string]int, bool) {
	if m.Snapshot == "" {
		r.Lifecycle += "; no export snapshot: the bundle does not prove it holds every document"
		if require {
			r.add(ManifestFile, false, "the bundle names no export snapshot: it does not prove it holds the whole dossier")
			return nil, false
		}
		return nil, true
	}
	var snap *vault.LoggedEvent
	for i := range logged {
		if e := &logged[i]; e.Event == vault.EventExported && e.Export != nil {
			if e.ID != m.Snapshot && snap != nil {
				r.add(LifecycleFile, false, "export event %s at entry %d is later than the snapshot %s the manifest names", e.ID, e.LogIndex, m.Snapshot)
				return nil, false
			}
			if e.ID == m.Snapshot {
				snap = e
			}
		}
	}
	if snap == nil {
		r.add(LifecycleFile, false, "no export event %s among the lifecycle events", m.Snapshot)
		return nil, false
	}
	latest := map[string]int{}
	for _, f := range snap.Export.Documents {
		latest[f.Path] = f.Version
	}
	if m.Submission == "" {
		var got, want []string
		for _, d := range m.Documents {
			got = append(got, fmt.Sprintf("%s@%d %s %s", d.Path, d.Version, d.SHA256, d.ReceiptID))
		}
		for _, f := range snap.Export.Documents {
			if !slices.Contains(m.LeftOut, f.Path) {
				want = append(want, fmt.Sprintf("%s@%d %s %s", f.Path, f.Version, f.SHA256, f.ReceiptID))
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			r.add(ManifestFile, false, "the documents %v are not those export event %s lists (less those left out): %v", got, snap.ID, want)
			return nil, false
		}
	}
	r.Lifecycle += fmt.Sprintf("; the whole dossier as its export event %s at entry %d (%s, by %s) lists it", snap.ID, snap.LogIndex, snap.At.Format("2006-01-02 15:04:05Z"), snap.By.Subject)
	r.add(LifecycleFile, true, "export snapshot %s at entry %d: %d documents", snap.ID, snap.LogIndex, len(snap.Export.Documents))
	return latest, true
}
