package tamper_test

// A commit a retired key signed, planted where none of the log's starts
// (inside a batched commit): the log's entries are read along its chain.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/vault"
)

// TestGapCommit: commits batched, then K0's commit planted at a
// position inside one the log wrote (a key the log never wrote).
func TestGapCommit(t *testing.T) {
	tg := newTarget(t)
	svc := tg.restart()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := tg.trySeal(svc, fmt.Sprintf("batch-%d.txt", i), []byte(fmt.Sprintf("batch %d\n", i))); err != nil {
				t.Errorf("seal: %v", err)
			}
		}()
	}
	wg.Wait()
	svc.Flush(vault.NewContext(context.Background(), uploader))
	var gapStart, gapEnd int64 = -1, -1
	for _, k := range tg.keys(fmt.Sprintf("ledger/%s/log/", tenant)) {
		var c rawCommit
		json.Unmarshal(tg.get(k), &c)
		t.Logf("commit %d..%d", c.Start, c.Size)
		if c.Size-c.Start >= 2 && gapStart < 0 {
			gapStart, gapEnd = c.Start+1, c.Size
		}
	}
	if gapStart < 0 {
		t.Fatal("eight concurrent seals made no commit of two entries or more: nothing to plant inside")
	}
	k0 := tg.signer
	k1 := tg.rotate(t)
	svc = tg.restartWith(k1, nil)
	r := gapEnd
	hashes := tg.logHashes(t, svc, r)
	env, leaf := tg.forgedEnvelope(t, k0, "rcp_forgedforgedforgedforged")
	hashes[r-1] = ledger.LeafHash(leaf)
	root, _ := ledger.TreeHash(hashes)
	signed, err := ledger.SignCheckpoint(context.Background(), k0, ledger.Checkpoint{Origin: vault.LogOrigin(tg.bucket, tenant), Size: r, Hash: root})
	if err != nil {
		t.Fatal(err)
	}
	var entries []json.RawMessage
	es, _ := svc.LogEntries(vault.NewContext(context.Background(), uploader), gapStart, r, "")
	for _, x := range es.Entries[:len(es.Entries)-1] {
		b, _ := json.Marshal(map[string]any{"id": x.ID, "envelope": x.Envelope})
		entries = append(entries, b)
	}
	e, _ := json.Marshal(map[string]any{"id": "rcp_forgedforgedforgedforged", "envelope": env})
	entries = append(entries, e)
	body, _ := json.Marshal(rawCommit{Start: gapStart, Size: r, Time: time.Now().UTC(), Entries: entries, Checkpoint: string(signed)})
	key := commitObject(gapStart)
	tg.put(key, body)
	tg.restartWith(k1, nil)
	code, out := tg.raw(t, "GET", fmt.Sprintf("/v1/log/entries?start=%d&end=%d", gapStart, r+3), nil)
	t.Logf("GET entries: %d %.300s", code, out)
	if strings.Contains(out, "rcp_forgedforgedforgedforged") {
		t.Errorf("GET /v1/log/entries serves K0's commit planted at %s, a position inside a commit of the log", key)
	}
	code, out = tg.raw(t, "GET", "/v1/log/entries?start=0&end=1000", nil)
	t.Logf("GET entries 0..: %d forged=%v", code, strings.Contains(out, "rcp_forged"))
	c, o, ee := tg.evault("export", tg.dossier.ID, "--out", t.TempDir()+"/b")
	t.Logf("export: %d %s%s", c, o, ee)
	if c != 0 {
		t.Errorf("export: exit %d", c)
	}
	tg.checkReaders(t, "gap")
	rep := tg.auditPins(t, "pin K0", k0.Key())
	if !mentions(rep, key) {
		t.Errorf("audit does not name %s", key)
	}
}
