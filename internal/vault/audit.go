package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
)

// AuditReport is the outcome of an audit of one tenant's log and the
// receipts it holds.
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

// Audit walks the caller's tenant's whole log (docs/ledger.md). Only
// admins may run it: it reads every receipt of the tenant.
func (s *Service) Audit(ctx context.Context, trusted ...[]byte) (*AuditReport, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if id.Role != RoleAdmin {
		return nil, errorf(CodeForbidden, "role %s may not audit the log", id.Role)
	}
	return AuditLog(ctx, s.records, s.cfg.Bucket, id.Tenant, trusted...)
}

// AuditLog audits a tenant's log with read access to storage and the
// published keys only, no signing key: what cmd/vault-audit runs. The
// ledger checks the log itself; this adds what its entries mean: each is a
// receipt signed by a published key, stored as a bundle whose statement
// and proof are the log's, and no stored receipt is missing from the log.
func AuditLog(ctx context.Context, records Records, bucket, tenant string, trusted ...[]byte) (*AuditReport, error) {
	keys, err := publishedKeys(ctx, records)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	checks := ledger.Checks{
		Entry: func(ctx context.Context, e ledger.AuditEntry) []string {
			ids[e.ID] = true
			return auditSignature(ctx, e, keys)
		},
		Kept: func(ctx context.Context, e ledger.AuditEntry) []string {
			return auditReceipt(ctx, records, tenant, e, keys)
		},
	}
	rep, err := newLedger(records, nil, Config{Bucket: bucket, Now: time.Now}).Audit(ctx, tenant, checks, trusted...)
	if err != nil {
		return nil, err
	}
	out := &AuditReport{Origin: rep.Origin, Size: rep.Size, Commits: rep.Commits, Checkpoints: rep.Checkpoints,
		Receipts: len(ids), Problems: rep.Problems}
	stored, err := records.List(ctx, receiptsPrefix(tenant))
	if err != nil {
		return nil, fmt.Errorf("vault: audit: %w", err)
	}
	for _, k := range stored {
		if id := strings.TrimSuffix(strings.TrimPrefix(k, receiptsPrefix(tenant)), ".json"); !ids[id] {
			out.Problems = append(out.Problems, fmt.Sprintf("receipt %s is not in the log", id))
		}
	}
	return out, nil
}

// auditSignature checks a log entry's envelope: a receipt signed by a
// published key.
func auditSignature(ctx context.Context, e ledger.AuditEntry, keys []receipt.Key) []string {
	var env receipt.Envelope
	if err := json.Unmarshal(e.Record, &env); err != nil {
		return []string{fmt.Sprintf("entry %d (%s) is unreadable: %v", e.Index, e.ID, err)}
	}
	if _, _, err := receipt.Verify(ctx, &env, keys); err != nil {
		return []string{fmt.Sprintf("entry %d (%s): receipt signature does not verify: %v", e.Index, e.ID, err)}
	}
	return nil
}

// auditReceipt checks the stored receipt of a log entry against it.
func auditReceipt(ctx context.Context, records Records, tenant string, e ledger.AuditEntry, keys []receipt.Key) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	data, err := records.Get(ctx, receiptKey(tenant, e.ID))
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
	if _, err := ledger.VerifyProof(got, b.Log, receipt.PublicKeys(keys)); err != nil {
		bad("receipt %s (entry %d): log proof: %v", e.ID, e.Index, err)
	}
	return problems
}
