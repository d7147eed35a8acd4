package tamper_test

// A head hint a retired key signed inside its own span, and cold starts
// under concurrent requests with checkpoints and hints planted.

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

// sealNoRecord is trySeal without touching tg.added (safe from goroutines).
func sealNoRecord(tg *target, svc *vault.Service, path string, body []byte) error {
	ctx := vault.NewContext(context.Background(), uploader)
	tk, err := svc.StartUpload(ctx, tg.dossier.ID, document(path, body))
	if err != nil {
		return err
	}
	if err := testenv.Send(tk.Upload, bytes.NewReader(body), int64(len(body))); err != nil {
		return err
	}
	_, err = svc.Complete(ctx, tk.UploadID)
	return err
}

// TestHeadHintInSpan (retired key K0 + bucket): after K0 -> K1,
// K0's holder writes a head hint whose checkpoint K0 signs at a size
// inside K0's span (r, the log's size before the rotation), over a
// made-up tree. SignersAt allows K0 at size r, so loadHead takes it as the
// head; reading the real commit at r then needs tiles authenticated
// against the made-up root.
func TestHeadHintInSpan(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	r := tg.logSize(t)
	k1 := tg.rotate(t)
	s := tg.sizeWith(t, k1)
	t.Logf("r=%d s=%d", r, s)
	origin := vault.LogOrigin(tg.bucket, tenant)
	fake, _ := madeUpTree(t, k0, origin, fillers(r), 0)
	object := "ledger/" + tenant + "/head.json"
	tg.put(object, mustJSON(map[string]any{"start": r - 1, "size": r, "checkpoint": fake}))
	for _, prev := range []bool{false, true} {
		label := fmt.Sprintf("prev=%v", prev)
		if prev {
			tg.restartWith(k1, k0)
		} else {
			tg.restartWith(k1, nil)
		}
		for _, path := range []string{"/v1/log/checkpoint", fmt.Sprintf("/v1/log/checkpoints/%d", s),
			fmt.Sprintf("/v1/log/proofs/inclusion?index=0&size=%d", s), fmt.Sprintf("/v1/log/proofs/consistency?from=1&to=%d", s),
			"/v1/log/keys", fmt.Sprintf("/v1/log/entries?start=0&end=%d", s),
			"/v1/dossiers/" + tg.dossier.ID + "/documents", "/v1/dossiers/" + tg.dossier.ID + "/download?path=" + reportPath} {
			code, body := tg.raw(t, "GET", path, nil)
			t.Logf("%s: GET %s: %d %.300s", label, path, code, body)
			if code >= 500 {
				t.Errorf("%s: GET %s: %d %.300s", label, path, code, body)
			}
			if strings.Contains(body, strings.Split(fake, "\n")[2]) {
				t.Errorf("%s: GET %s serves K0's made-up checkpoint", label, path)
			}
		}
		var svc *vault.Service
		if prev {
			svc = tg.restartWith(k1, k0)
		} else {
			svc = tg.restartWith(k1, nil)
		}
		if err := tg.trySeal(svc, fmt.Sprintf("after-hint-%v.txt", prev), []byte("after the hint\n")); err != nil {
			t.Errorf("%s: seal after a retired-key head hint inside its span: %v", label, err)
		}
		c, out, errOut := tg.evault("log", "check")
		t.Logf("%s: log check: %d %s%s", label, c, out, errOut)
		if c != 0 {
			t.Errorf("%s: log check: %d %s%s", label, c, out, errOut)
		}
	}
	rep := tg.auditPins(t, "pin K0", k0.Key())
	if !mentions(rep, object) {
		t.Errorf("audit does not name %s", object)
	}
}

// TestColdStartConcurrent (bucket + retired key): planted objects
// everywhere the ledger looks, then a cold process hit by concurrent
// requests on every route; none may hang or answer 500.
func TestColdStartConcurrent(t *testing.T) {
	tg := newTarget(t)
	k0 := tg.signer
	k1 := tg.rotate(t)
	s := tg.sizeWith(t, k1)
	origin := vault.LogOrigin(tg.bucket, tenant)
	plant, _ := madeUpTree(t, k0, origin, fillers(s+1), 0)
	tg.put(cpObject(s+1), []byte(plant))
	tg.put(cpObject(s), []byte("junk\n"))
	tg.put("ledger/"+tenant+"/head.json", []byte("junk"))
	for round := 0; round < 3; round++ {
		svc := tg.restartWith(k1, k0)
		paths := []string{"/v1/log/checkpoint", fmt.Sprintf("/v1/log/checkpoints/%d", s),
			fmt.Sprintf("/v1/log/proofs/inclusion?index=0&size=%d", s), fmt.Sprintf("/v1/log/proofs/consistency?from=1&to=%d", s),
			"/v1/log/keys", "/v1/keys", fmt.Sprintf("/v1/log/entries?start=0&end=%d", s),
			"/v1/dossiers/" + tg.dossier.ID + "/documents", "/v1/dossiers/" + tg.dossier.ID + "/download?path=" + reportPath}
		var wg sync.WaitGroup
		done := make(chan struct{})
		for i := 0; i < 3; i++ {
			for _, p := range paths {
				wg.Add(1)
				go func() {
					defer wg.Done()
					code, body := tg.raw(t, "GET", p, nil)
					if code >= 500 {
						t.Errorf("round %d: GET %s: %d %.300s", round, p, code, body)
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := sealNoRecord(tg, svc, fmt.Sprintf("cold-%d-%d.txt", round, i), []byte(fmt.Sprintf("cold %d %d\n", round, i))); err != nil {
					t.Errorf("round %d: seal: %v", round, err)
				}
			}()
		}
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(90 * time.Second):
			t.Fatalf("round %d: requests hang on a cold start", round)
		}
		_ = context.Background()
	}
	rep := tg.auditPins(t, "pin K1", k1.Key())
	if !mentions(rep, cpObject(s+1)) || !mentions(rep, cpObject(s)) {
		t.Errorf("audit does not name the planted checkpoints")
	}
}
