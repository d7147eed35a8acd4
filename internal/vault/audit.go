package vault

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
)

// AuditReport is the outcome of an audit of one tenant's log and of
// everything the vault derives from it.
type AuditReport struct {
	Origin      string   `json:"origin"`
	Size        int64    `json:"size"`
	Commits     int      `json:"commits"`
	Checkpoints int      `json:"checkpoints"`
	Receipts    int      `json:"receipts"`
	Problems    []string `json:"problems"`
}

// OK reports whether the audit found nothing wrong.
func (r *AuditReport) OK() bool { return len(r.Problems) == 0 }

// First names the first inconsistency found, or "".
func (r *AuditReport) First() string {
	if r.OK() {
		return ""
	}
	return r.Problems[0]
}

// WriteText prints the report for people: a summary line, then each
// problem, the first one first.
func (r *AuditReport) WriteText(w io.Writer) error {
	status := "consistent"
	if !r.OK() {
		status = fmt.Sprintf("%d problem(s); first: %s", len(r.Problems), r.First())
	}
	if _, err := fmt.Fprintf(w, "log %s: %d entries, %d commits, %d checkpoints, %d receipts: %s\n",
		r.Origin, r.Size, r.Commits, r.Checkpoints, r.Receipts, status); err != nil {
		return err
	}
	for _, p := range r.Problems {
		if _, err := fmt.Fprintln(w, "  -", p); err != nil {
			return err
		}
	}
	return nil
}

// Audit walks the caller's tenant's whole log and what derives from it
// (docs/ledger.md), trusting the vault's configured keys. Only admins may
// run it: it reads every receipt of the tenant.
func (s *Service) Audit(ctx context.Context, trusted ...[]byte) (*AuditReport, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if id.Role != RoleAdmin {
		return nil, errorf(CodeForbidden, "role %s may not audit the log", id.Role)
	}
	keys, err := s.configured()
	if err != nil {
		return nil, err
	}
	return AuditLog(ctx, Storage{Records: s.records, Objects: s.objects}, s.cfg.Bucket, id.Tenant, keys, trusted...)
}

// AuditLog audits a tenant's log with read access to storage only, no
// signing key: what cmd/vault-audit runs. pinned are keys the auditor
// trusts (obtained apart from the bucket): the log's key history must lead
// to its keys from one of them. trusted are checkpoints the auditor kept.
//
// The ledger checks the log itself; this adds what its entries mean and
// everything the vault derives from them: each entry is a receipt or a key
// event signed as it must be; its record is stored and is the log's; every
// receipt's version is in its document's chain and every chain entry in the
// log, each document's latest version the log's latest; each evidence
// version a receipt names is stored with its SHA-256; and nothing the vault
// writes once holds a version or delete marker the vault did not write.
func AuditLog(ctx context.Context, st Storage, bucket, tenant string, pinned []receipt.Key, trusted ...[]byte) (*AuditReport, error) {
	if len(pinned) == 0 {
		return nil, errors.New("vault: audit: pin a key of the vault's (obtained apart from its bucket): the log's keys are derived from it")
	}
	a := &auditor{st: st, bucket: bucket, tenant: tenant, origin: LogOrigin(bucket, tenant), receipts: map[string]auditedReceipt{}, grantIDs: map[string]bool{}}
	keys := func(context.Context, string) (Trust, error) { return a.trust, nil }
	a.log = newLedger(st.Records, nil, Config{Bucket: bucket, Now: time.Now}, keys, nil, nil)
	if err := a.deriveTrust(ctx, pinned); err != nil {
		return nil, err
	}
	checks := ledger.Checks{Entry: a.entry, Kept: a.kept}
	rep, err := a.log.Audit(ctx, tenant, checks, trusted...)
	if err != nil {
		return nil, err
	}
	a.problems = append(a.problems, rep.Problems...)
	if err := a.derived(ctx); err != nil {
		return nil, err
	}
	return &AuditReport{Origin: rep.Origin, Size: rep.Size, Commits: rep.Commits, Checkpoints: rep.Checkpoints,
		Receipts: len(a.receipts), Problems: a.problems}, nil
}

// auditor is one audit's state.
type auditor struct {
	st             Storage
	log            *ledger.Log
	bucket         string
	tenant, origin string
	trust          Trust
	history        KeyHistory
	problems       []string
	// receipts are the log's receipt entries by receipt id.
	receipts map[string]auditedReceipt
	keyIDs   map[string]bool // keys of the history and the pinned
	eventIDs map[string]bool // entry ids of the history's events
	grantIDs map[string]bool // entry ids of the log's grant and lifecycle events
}

// auditedReceipt is what the audit needs of a receipt entry.
type auditedReceipt struct {
	index int64
	p     ReceiptPredicate
	sha   string
}

// receiptIDs returns the ids of the log's receipts in log order, so that
// problems are listed in the same order every time.
func (a *auditor) receiptIDs() []string {
	ids := slices.Collect(maps.Keys(a.receipts))
	slices.SortFunc(ids, func(x, y string) int { return cmp.Compare(a.receipts[x].index, a.receipts[y].index) })
	return ids
}

func (a *auditor) bad(format string, args ...any) {
	a.problems = append(a.problems, fmt.Sprintf(format, args...))
}

// deriveTrust derives the log's keys from the pinned ones through the key
// history the vault keeps; the walk checks that history against the log.
func (a *auditor) deriveTrust(ctx context.Context, pinned []receipt.Key) error {
	candidates, ignored, err := readKeyHistory(ctx, a.st.Records, a.tenant)
	if err != nil {
		return err
	}
	h, passed, err := selectHistory(ctx, a.origin, candidates, pinned, a.inLog)
	if err != nil {
		return err
	}
	for _, p := range append(ignored, passed...) {
		a.bad("%s; nothing trusts it", p)
	}
	a.history = h
	a.keyIDs, a.eventIDs = map[string]bool{}, map[string]bool{}
	for _, rec := range h {
		if _, st, err := receipt.Parse(rec.Envelope); err == nil {
			var ev KeyEvent
			if st.DecodePredicate(&ev) == nil {
				a.eventIDs[keyEventID(ev.Event, ev.Key.KeyID)] = true
			}
		}
	}
	if len(h) == 0 {
		a.trust = TrustKeys("the keys you pinned (the log records none)", pinned...)
		for _, k := range pinned {
			a.keyIDs[k.ID] = true
		}
		return nil
	}
	var firstErr error
	for _, k := range pinned {
		t, err := h.Trust(ctx, a.origin, k, nil)
		if err == nil {
			a.trust = t
			for _, tk := range t.Keys {
				a.keyIDs[tk.Key.ID] = true
			}
			return nil
		}
		firstErr = errors.Join(firstErr, err)
	}
	a.bad("the log's key history does not lead from any key you pinned: %v", firstErr)
	a.trust = TrustKeys("the keys you pinned", pinned...)
	return nil
}

// inLog reports whether, with the keys history h leads to, the log holds
// leaf at index: how the audit tells a fork's real branch from one a
// retired key's holder made (under the wrong branch, the log's own
// checkpoints do not open).
func (a *auditor) inLog(ctx context.Context, h KeyHistory, index int64, leaf []byte) (bool, error) {
	steps, err := h.verify(ctx, a.origin, nil)
	if err != nil || len(steps) == 0 {
		return false, nil
	}
	t, err := h.Trust(ctx, a.origin, steps[0].key, nil)
	if err != nil {
		return false, nil
	}
	l := newLedger(a.st.Records, nil, Config{Bucket: a.bucket, Now: time.Now}, func(context.Context, string) (Trust, error) { return t, nil }, nil, nil)
	cp, _, err := l.Latest(ctx, a.tenant)
	if err != nil || index >= cp.Size {
		return false, nil
	}
	proof, err := l.InclusionProof(ctx, a.tenant, index, cp.Size)
	if err != nil {
		return false, nil
	}
	return ledger.VerifyInclusion(cp, index, leaf, proof) == nil, nil
}

// entry checks a log entry on its own: a receipt signed by a key the
// history allows at its index, or a key event of the history.
func (a *auditor) entry(ctx context.Context, e ledger.AuditEntry) []string {
	env, st, err := receipt.Parse(e.Record)
	if err != nil {
		return []string{fmt.Sprintf("entry %d (%s) is unreadable: %v", e.Index, e.ID, err)}
	}
	switch st.PredicateType {
	case KeyEventType:
		for _, rec := range a.history {
			if rec.Log.Index == e.Index {
				if got, err := receipt.Payload(mustEnvelope(rec.Envelope)); err != nil || !bytes.Equal(got, e.Leaf) {
					return []string{fmt.Sprintf("entry %d (%s): the key history the vault keeps holds another event there", e.Index, e.ID)}
				}
				return nil
			}
		}
		return []string{fmt.Sprintf("entry %d (%s) is a key event missing from the key history the vault keeps", e.Index, e.ID)}
	case PredicateType:
		if problems := a.signedAt(ctx, env, e, "receipt"); problems != nil {
			return problems
		}
		r, err := receiptOf(env, st)
		if err != nil {
			return []string{fmt.Sprintf("entry %d (%s) is unreadable: %v", e.Index, e.ID, err)}
		}
		if r.Predicate.ReceiptID != e.ID || r.Predicate.Tenant != a.tenant {
			return []string{fmt.Sprintf("entry %d (%s) holds receipt %s of tenant %s", e.Index, e.ID, r.Predicate.ReceiptID, r.Predicate.Tenant)}
		}
		a.receipts[e.ID] = auditedReceipt{index: e.Index, p: r.Predicate, sha: r.Subject.Digest["sha256"]}
		return nil
	case GrantType:
		if problems := a.signedAt(ctx, env, e, "grant"); problems != nil {
			return problems
		}
		var ev GrantEvent
		if err := st.DecodePredicate(&ev); err != nil || grantEntryID(ev.Event, ev.GrantID) != e.ID || ev.Tenant != a.tenant {
			return []string{fmt.Sprintf("entry %d (%s) is not a grant event of this tenant", e.Index, e.ID)}
		}
		a.grantIDs[e.ID] = true
		return nil
	case LifecycleType:
		if problems := a.signedAt(ctx, env, e, "lifecycle event"); problems != nil {
			return problems
		}
		var ev LifecycleEvent
		if err := st.DecodePredicate(&ev); err != nil || lifecycleEntryID(ev.Dossier, ev.ID) != e.ID || ev.Tenant != a.tenant {
			return []string{fmt.Sprintf("entry %d (%s) is not a lifecycle event of this tenant", e.Index, e.ID)}
		}
		a.grantIDs[e.ID] = true
		return nil
	}
	return []string{fmt.Sprintf("entry %d (%s) is a statement of type %q, neither a receipt, a key event, a grant nor a lifecycle event", e.Index, e.ID, st.PredicateType)}
}

// signedAt checks that an entry's envelope is signed by a key the history
// allows at its index.
func (a *auditor) signedAt(ctx context.Context, env *receipt.Envelope, e ledger.AuditEntry, what string) []string {
	key, _, err := receipt.Verify(ctx, env, a.trust.Public())
	switch {
	case err != nil:
		return []string{fmt.Sprintf("entry %d (%s): %s signature does not verify: %v", e.Index, e.ID, what, err)}
	case !a.trust.Allows(key.ID, e.Index):
		return []string{fmt.Sprintf("entry %d (%s) is signed by key %s, which the key history does not allow there", e.Index, e.ID, key.ID)}
	}
	return nil
}

func mustEnvelope(data []byte) *receipt.Envelope {
	var env receipt.Envelope
	json.Unmarshal(data, &env)
	return &env
}

// kept checks the record the vault keeps of an entry against the entry.
func (a *auditor) kept(ctx context.Context, e ledger.AuditEntry) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	key := entryKey(a.tenant, e.ID)
	data, err := a.st.Records.Get(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		bad("receipt %s (entry %d) is missing", e.ID, e.Index)
		return problems
	case err != nil:
		bad("receipt %s (entry %d) is unreadable: %v", e.ID, e.Index, err)
		return problems
	}
	var b Bundle
	if err := json.Unmarshal(data, &b); err != nil || b.Log == nil {
		bad("receipt %s (entry %d) is not a receipt bundle", e.ID, e.Index)
		return problems
	}
	got, err := recordLeaf(b.Envelope)
	if err != nil || !bytes.Equal(got, e.Leaf) {
		bad("receipt %s (entry %d) holds a statement other than the log's entry", e.ID, e.Index)
		return problems
	}
	if b.Log.Index != e.Index {
		bad("receipt %s says index %d; the log has it at %d", e.ID, b.Log.Index, e.Index)
	}
	if _, err := ledger.VerifyProof(got, b.Log, receipt.PublicKeys(a.trust.Public())); err != nil {
		bad("receipt %s (entry %d): log proof: %v", e.ID, e.Index, err)
	}
	return problems
}

// derived checks what the vault derives from the log against it: stored
// records without entries, the version chains, the evidence, and every
// version or delete marker the vault did not write.
func (a *auditor) derived(ctx context.Context) error {
	for prefix, what := range map[string]string{receiptsPrefix(a.tenant): "receipt", keyEventsPrefix(a.tenant): "key event", grantsPrefix(a.tenant): "grant event"} {
		objs, err := a.st.Records.List(ctx, prefix)
		if err != nil {
			return fmt.Errorf("vault: audit: %w", err)
		}
		for _, o := range objs {
			id := strings.TrimSuffix(strings.TrimPrefix(o.Key, prefix), ".json")
			if _, ok := a.receipts[id]; !ok && !a.eventIDs[id] && !a.grantIDs[id] {
				a.bad("%s %s is not in the log", what, id)
			}
		}
	}
	objs, err := a.st.Records.List(ctx, "vault/"+a.tenant+"/lifecycle/")
	if err != nil {
		return fmt.Errorf("vault: audit: %w", err)
	}
	for _, o := range objs {
		if id, ok := lifecycleEntryOfKey(a.tenant, o.Key); !ok || !a.grantIDs[id] {
			a.bad("lifecycle record %s is not in the log", o.Key)
		}
	}
	if err := a.strayKeys(ctx); err != nil {
		return err
	}
	if err := a.chains(ctx); err != nil {
		return err
	}
	if err := a.evidence(ctx); err != nil {
		return err
	}
	return a.writtenOver(ctx)
}

// chains checks every document's version chain against the log: each
// receipt's version is its chain's entry of that number, with the same
// receipt; every chain entry is a receipt of the log; each chain's latest
// entry is the log's latest version of the document.
func (a *auditor) chains(ctx context.Context) error {
	objs, err := a.st.Records.List(ctx, "vault/"+a.tenant+"/versions/")
	if err != nil {
		return fmt.Errorf("vault: audit: %w", err)
	}
	type doc struct{ dossier, path string }
	inChain := map[string]bool{} // receipt ids
	latestChain := map[doc]int{}
	for _, o := range objs {
		rest := strings.TrimPrefix(o.Key, "vault/"+a.tenant+"/versions/")
		dossier, _, _ := strings.Cut(rest, "/")
		path, ok := chainPath(versionsPrefix(a.tenant, dossier), o.Key)
		n, nok := entryNumber(chainPrefix(a.tenant, dossier, path), o.Key)
		if !ok || !nok {
			a.bad("%s is no version chain entry the vault writes", o.Key)
			continue
		}
		orig, ok := o.Original()
		if !ok {
			a.bad("version chain entry %s has no version, only delete markers", o.Key)
			continue
		}
		data, err := a.st.Records.GetVersion(ctx, o.Key, orig.ID)
		if err != nil {
			return fmt.Errorf("vault: audit: %w", err)
		}
		v, err := entryOf(data, o.Key, path, n)
		if err != nil {
			a.bad("%v", err)
			continue
		}
		r, ok := a.receipts[v.ReceiptID]
		switch {
		case !ok:
			a.bad("version chain entry %s (version %d of %q) names receipt %s, which is not in the log", o.Key, n, path, v.ReceiptID)
		case r.p.Dossier.ID != dossier || r.p.Document.Path != path || r.p.Version != n || r.sha != v.SHA256 || r.p.Storage.VersionID != v.VersionID:
			a.bad("version chain entry %s differs from its receipt %s (entry %d of the log)", o.Key, v.ReceiptID, r.index)
		}
		inChain[v.ReceiptID] = true
		if d := (doc{dossier, path}); n > latestChain[d] {
			latestChain[d] = n
		}
	}
	latestLog := map[doc]int{}
	var docs []doc // in the order the log first names them
	for _, id := range a.receiptIDs() {
		r := a.receipts[id]
		d := doc{r.p.Dossier.ID, r.p.Document.Path}
		if _, seen := latestLog[d]; !seen {
			docs = append(docs, d)
		}
		if !inChain[id] {
			a.bad("receipt %s (entry %d, version %d of %q) has no entry in its document's version chain", id, r.index, r.p.Version, r.p.Document.Path)
		}
		latestLog[d] = max(latestLog[d], r.p.Version)
	}
	for _, d := range docs {
		if n := latestLog[d]; latestChain[d] != n {
			a.bad("document %q of dossier %s: its latest version is %d in the log, %d in its chain", d.path, d.dossier, n, latestChain[d])
		}
	}
	return nil
}

// evidence checks that each version a receipt names is stored, with the
// receipt's SHA-256 and size.
func (a *auditor) evidence(ctx context.Context) error {
	for _, id := range a.receiptIDs() {
		r := a.receipts[id]
		info, err := a.st.Objects.Stat(ctx, r.p.Storage.Key, r.p.Storage.VersionID)
		switch {
		case errors.Is(err, ErrNotFound):
			a.bad("evidence %s@%s of receipt %s is not stored", r.p.Storage.Key, r.p.Storage.VersionID, id)
		case err != nil:
			return fmt.Errorf("vault: audit: %w", err)
		case info.SHA256 != "" && info.SHA256 != r.sha || info.Size != r.p.Storage.Size:
			a.bad("evidence %s@%s has SHA-256 %s and %d bytes; receipt %s says %s and %d", r.p.Storage.Key, r.p.Storage.VersionID, info.SHA256, info.Size, id, r.sha, r.p.Storage.Size)
		}
	}
	return nil
}

// writtenOver reports every object the vault writes once that holds
// another version or a delete marker, every delete marker on what it
// writes again (head hints, saved hash states, remembered answers) and on
// evidence, and every
// evidence version no upload through the vault made: the vault never
// writes any of these.
func (a *auditor) writtenOver(ctx context.Context) error {
	named := map[string]bool{} // evidence key@version of the log's receipts
	for _, r := range a.receipts {
		named[r.p.Storage.Key+"@"+r.p.Storage.VersionID] = true
	}
	sessions, err := a.st.Records.List(ctx, "vault/"+a.tenant+"/uploads/")
	if err != nil {
		return fmt.Errorf("vault: audit: %w", err)
	}
	uploads := map[string]bool{}
	for _, o := range sessions {
		if id, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, "vault/"+a.tenant+"/uploads/"), ".json"); ok {
			uploads[id] = true
		}
	}
	for _, prefix := range []string{"vault/" + a.tenant + "/", "ledger/" + a.tenant + "/", EvidencePrefix + a.tenant + "/", keysPrefix} {
		objs, err := a.st.Records.List(ctx, prefix)
		if err != nil {
			return fmt.Errorf("vault: audit: %w", err)
		}
		for _, o := range objs {
			rewritten := strings.HasSuffix(o.Key, "/head.json") || strings.HasSuffix(o.Key, ".sha256-state.json") ||
				strings.HasPrefix(o.Key, "vault/"+a.tenant+"/idempotency/")
			switch {
			case rewritten || strings.HasPrefix(o.Key, EvidencePrefix):
				// Written again by design (hints, progress, a version
				// per upload): only delete markers are someone else's.
				for _, v := range o.Versions {
					if v.DeleteMarker {
						a.bad("%s: a delete marker (%s); the vault never deletes", o.Key, v.ID)
					}
				}
				if !rewritten {
					if err := a.strayEvidence(ctx, o, named, uploads); err != nil {
						return err
					}
				}
			case o.Overwritten():
				a.bad("%s: %d versions and delete markers; the vault writes it once", o.Key, len(o.Versions))
			}
		}
	}
	return nil
}

// strayEvidence reports the versions of an evidence object that no receipt
// names and no upload session of the vault's made.
func (a *auditor) strayEvidence(ctx context.Context, o Object, named, uploads map[string]bool) error {
	for _, v := range o.Versions {
		if v.DeleteMarker || named[o.Key+"@"+v.ID] {
			continue
		}
		info, err := a.st.Objects.Stat(ctx, o.Key, v.ID)
		if err != nil {
			return fmt.Errorf("vault: audit: %w", err)
		}
		id := info.Metadata[uploadIDMeta]
		_, sealed := a.receipts[receiptIDFor(id)]
		switch {
		case !uploads[id]:
			a.bad("%s@%s: a version no upload through the vault made (no receipt names it, and no upload session %q exists)", o.Key, v.ID, id)
		case sealed:
			// An upload is sealed once, and its receipt names its version.
			a.bad("%s@%s: a version of upload %s, which was sealed as another version: a copy someone else made", o.Key, v.ID, id)
		}
	}
	return nil
}

// strayKeys reports keys under keys/ that no tenant's key history names:
// nothing trusts keys/, so a key put there does no harm, but the vault
// copies there only keys it signs with, which every log it signs names.
// (The histories of other tenants are read by name only: a record planted
// there to cover a key is that tenant's audit's to report.)
func (a *auditor) strayKeys(ctx context.Context) error {
	objs, err := a.st.Records.List(ctx, keysPrefix)
	if err != nil || len(objs) == 0 {
		return err
	}
	named := maps.Clone(a.keyIDs)
	records, err := a.st.Records.List(ctx, "vault/")
	if err != nil {
		return fmt.Errorf("vault: audit: %w", err)
	}
	for _, o := range records {
		if _, rest, ok := strings.Cut(o.Key, "/keyevents/key-"); ok {
			_, id, _ := strings.Cut(strings.TrimSuffix(rest, ".json"), "-")
			named[id] = true
		}
	}
	for _, o := range objs {
		if id := strings.TrimSuffix(strings.TrimPrefix(o.Key, keysPrefix), ".pem"); !named[id] {
			a.bad("%s holds key %s, which no log's key history names: someone other than the vault put it there (nothing trusts it)", o.Key, id)
		}
	}
	return nil
}
