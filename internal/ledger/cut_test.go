package ledger_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/evidencevault/vault/internal/ledger"
	"golang.org/x/mod/sumdb/tlog"
)

// span4 is a rotation whose retired key signed sizes 1 to 4.
type span4 struct{ rotation }

func (r span4) cfg(ids bool) ledger.Config {
	c := r.config()
	pub := func(s keySigner) *ecdsa.PublicKey { return &s.key.PublicKey }
	c.SignersAt = func(_ context.Context, _ string, size int64) ([]*ecdsa.PublicKey, error) {
		if size <= 4 {
			return []*ecdsa.PublicKey{pub(r.retired)}, nil
		}
		return []*ecdsa.PublicKey{pub(r.current)}, nil
	}
	if ids {
		c.ID = idOf
	}
	return c
}

func (r span4) log(s ledger.Signer) *ledger.Log {
	if s == nil {
		return ledger.New(r.store, nil, r.cfg(false))
	}
	return ledger.New(r.store, s, r.cfg(false))
}
func (r span4) withIDs() *ledger.Log { return ledger.New(r.store, r.current, r.cfg(true)) }

// groupedRotation seals e0..e3 with the retired key, with one commit of
// several entries ([2,4)), then e4 and e5 with the current key.
func groupedRotation(t *testing.T) (span4, int) {
	t.Helper()
	r := span4{rotation{store: newMemStore(), retired: newKeySigner(t), current: newKeySigner(t)}}
	grouped(t, r.store, r.retired, 4)
	multi := -1
	for p := 0; p < 4; {
		n := int(commitAt(t, r.store, p)["size"].(float64))
		if n-p > 1 {
			multi = p
		}
		p = n
	}
	if multi < 0 {
		t.Fatal("precondition: no commit of several entries")
	}
	for i := 4; i < 6; i++ {
		l := r.log(r.current)
		if _, err := l.Append(context.Background(), tenant, entry(fmt.Sprint("e", i), fmt.Sprint("leaf ", i)), 0); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		l.Flush(context.Background())
	}
	return r, multi
}

// TestCutCommitLeadsNowhere: the retired key's holder cuts the log's
// commit of several entries to its first, backdated beneath it: the cut
// holds the log's tree, but nothing of the log's starts where it ends. A
// cold start without a hint must take the log's own commit (the one from
// which the log's commits reach the current key's checkpoint), so that no
// entry is hidden and the log grows.
func TestCutCommitLeadsNowhere(t *testing.T) {
	ctx := context.Background()
	r, m := groupedRotation(t)
	want, _, err := r.log(r.current).Latest(ctx, tenant)
	if err != nil || want.Size != 6 {
		t.Fatalf("precondition: latest %+v, %v", want, err)
	}
	r.store.backdate(commitKey(m), cut(t, r.rotation, m))

	t.Run("cold start, hint lost", func(t *testing.T) {
		r.store.overwrite("ledger/acme/head.json", []byte("{}"))
		cold := r.withIDs()
		if got, _, err := cold.Latest(ctx, tenant); err != nil || got != want {
			t.Errorf("latest: got %+v, %v; want the log's %+v", got, err, want)
		}
		if es, err := cold.Entries(ctx, tenant, 0, 6); err != nil || len(es) != 6 {
			t.Errorf("entries: got %d, %v; want the log's 6", len(es), err)
		}
		if a, err := cold.Append(ctx, tenant, entry("e6", "leaf 6"), 0); err != nil || a.Index != 6 {
			t.Errorf("append: got %+v, %v; want index 6", a, err)
		}
	})
	t.Run("cold start, hint kept", func(t *testing.T) {
		r2, m := groupedRotation(t)
		r2.store.backdate(commitKey(m), cut(t, r2.rotation, m))
		cold := r2.withIDs()
		if es, err := cold.Entries(ctx, tenant, 0, 6); err != nil || len(es) != 6 {
			t.Errorf("entries: got %d, %v; want the log's 6", len(es), err)
		}
		for name, l := range map[string]*ledger.Log{"the vault": cold, "an auditor": r2.log(nil)} {
			rep, err := l.Audit(ctx, tenant, ledger.Checks{})
			if err != nil {
				t.Errorf("%s's audit: %v", name, err)
				continue
			}
			if !slices.ContainsFunc(rep.Problems, func(p string) bool { return strings.Contains(p, commitKey(m)) }) {
				t.Errorf("%s's audit: got %q, want a problem naming %s", name, rep.Problems, commitKey(m))
			}
		}
	})
}

// cut returns the log's commit at start cut to its first entry, signed by
// the retired key over the log's own tree of that size.
func cut(t *testing.T, r rotation, start int) []byte {
	t.Helper()
	var hashes []tlog.Hash
	for p := 0; p <= start; {
		c := commitAt(t, r.store, p)
		for _, e := range c["entries"].([]any) {
			leaf, _ := leafOf(json.RawMessage(mustJSON(e.(map[string]any)["envelope"])))
			hashes = append(hashes, ledger.LeafHash(leaf))
		}
		p = int(c["size"].(float64))
	}
	hashes = hashes[:start+1]
	root, err := ledger.TreeHash(hashes)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := ledger.SignCheckpoint(context.Background(), r.retired, ledger.Checkpoint{Origin: "example.org/log/" + tenant, Size: int64(start + 1), Hash: root})
	if err != nil {
		t.Fatal(err)
	}
	c := commitAt(t, r.store, start)
	c["entries"] = c["entries"].([]any)[:1]
	c["size"] = start + 1
	c["checkpoint"] = string(signed)
	return mustJSON(c)
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }
