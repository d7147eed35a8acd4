package evault_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/evault"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/vault"
)

func (e *revEnv) sealOne(t *testing.T, tn string) {
	ctx, d := e.dossier(t, tn)
	body := []byte("report " + tn)
	tk, err := e.svc.StartUpload(ctx, d.ID, vault.Document{Path: "tests/a.txt", Title: "Report", Kind: regulation.KindTestReport, Section: "MDR-II-6.1", Revision: "A",
		Language: "en", EffectiveDate: "2026-11-01", Author: "QA", File: vault.File{Name: "a.txt", Size: int64(len(body)), SHA256: sum256(body), ContentType: "text/plain"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.b.Send(tk.Upload, body); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Complete(ctx, tk.UploadID); err != nil {
		t.Fatal(err)
	}
}

type knownFileJSON struct {
	Logs map[string]map[string]any `json:"logs"`
}

func (e *revEnv) known(t *testing.T) knownFileJSON {
	data, err := os.ReadFile(filepath.Join(e.cfg, "evault", "known_vaults.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f knownFileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// R1: a member whose own tenant's log was first met with --tenant (their
// own tenant named) never gets it bound as the own tenant: plain commands
// later accept, and pin as "home", another tenant's log.
func TestOwnTenantMetFirstWithTenantFlagIsBound(t *testing.T) {
	e := newRev(t)
	e.sealOne(t, "acme")
	e.sealOne(t, "acme-2")
	alice := vault.Identity{Tenant: "acme", Subject: "alice@acme.example", Role: vault.RoleAdmin}
	impostor := e.iss.Token(t, vault.Identity{Tenant: "acme-2", Subject: "x@acme.example", Role: vault.RoleAdmin})
	tok := e.iss.Token(t, alice)
	for _, args := range [][]string{{"log", "check", "--tenant", "acme"}, {"log", "check"}} {
		code, out, errOut := e.run(t, tok, args...)
		t.Logf("%v: exit %d\n%s%s", args, code, out, errOut)
		if code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
	}
	t.Logf("known_vaults.json after a plain log check: %v", e.known(t).Logs["evidencevault.dev/ledger/evidence/acme"]["home"])
	e.front.Store(func(w http.ResponseWriter, r *http.Request, h http.Handler) {
		r.Header.Set("Authorization", "Bearer "+impostor)
		h.ServeHTTP(w, r)
	})
	code, out, errOut := e.run(t, tok, "log", "check")
	t.Logf("swapped: log check: exit %d\n%s%s", code, out, errOut)
	if code != evault.ExitVerify {
		t.Errorf("the own tenant (met first with --tenant acme, then without) answered with acme-2's log: got exit %d, want %d", code, evault.ExitVerify)
	}
}

// R2: a member legitimately moved from acme to beta: the refusal must say
// how to recover, and the documented recovery (remove the entry) must
// leave the new own tenant bound.
func TestMovedMemberRecovers(t *testing.T) {
	e := newRev(t)
	e.sealOne(t, "acme")
	e.sealOne(t, "beta")
	before := e.iss.Token(t, vault.Identity{Tenant: "acme", Subject: "alice@example.com", Role: vault.RoleAdmin})
	after := e.iss.Token(t, vault.Identity{Tenant: "beta", Subject: "alice@example.com", Role: vault.RoleAdmin})
	if code, out, errOut := e.run(t, before, "log", "check"); code != 0 {
		t.Fatalf("acme: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := e.run(t, after, "log", "check")
	t.Logf("moved to beta: log check: exit %d\n%s%s", code, out, errOut)
	if !strings.Contains(errOut, "remove") {
		t.Errorf("the refusal of a moved member's new own tenant names no way to recover but --tenant:\n%s", errOut)
	}
	// Following the message: --tenant beta, then plain again.
	code, out, errOut = e.run(t, after, "log", "check", "--tenant", "beta")
	t.Logf("--tenant beta: exit %d\n%s%s", code, out, errOut)
	if code != 0 {
		t.Errorf("--tenant beta: exit %d, want 0", code)
	}
	// Removing acme's entry (docs/cli.md's recovery).
	path := filepath.Join(e.cfg, "evault", "known_vaults.json")
	f := e.known(t)
	delete(f.Logs, "evidencevault.dev/ledger/evidence/acme")
	data, _ := json.Marshal(f)
	os.WriteFile(path, data, 0o600)
	code, out, errOut = e.run(t, after, "log", "check")
	t.Logf("acme's entry removed: exit %d\n%s%s", code, out, errOut)
	if home, _ := e.known(t).Logs["evidencevault.dev/ledger/evidence/beta"]["home"].(bool); code != 0 || !home {
		t.Errorf("after removing acme's entry: exit %d, beta pinned home: %v (want 0, true: otherwise the own tenant is bound to nothing)", code, home)
	}
}

// R3: a multipart upload started by an older evault (state without
// "document") on one day, resumed the next with the default date, is a
// genuine upload; it must not fail verification.
func TestResumeFromOlderStateStartsAgain(t *testing.T) {
	e := newRev(t)
	_, d := e.dossier(t, "acme")
	tok := e.iss.Token(t, vault.Identity{Tenant: "acme", Subject: "alice@acme.example", Role: vault.RoleAdmin})
	dir, state := t.TempDir(), t.TempDir()
	big := make([]byte, 11<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	file := filepath.Join(dir, "big.txt")
	os.WriteFile(file, big, 0o644)
	yesterday := time.Now().UTC().Add(-24 * time.Hour).Format("2006-01-02")
	var parts atomic.Int64
	e.tr.failPart = func(r *http.Request) bool { return strings.Contains(r.URL.RawQuery, "token") && parts.Add(1) > 1 }
	args := append([]string{"upload", file, "--dossier", d.ID, "--path", "tests/big.txt", "--multipart-threshold", "1048576", "--part-size", "5242880", "--parallel", "1", "--state-dir", state, "--content-type", "text/plain"}, revMeta...)
	code, out, errOut := e.run(t, tok, append(args, "--effective-date", yesterday)...)
	t.Logf("day 1 (interrupted): exit %d\n%s%s", code, out, errOut)
	e.tr.failPart = nil
	// As an older evault would have written it: no document.
	ents, _ := os.ReadDir(state)
	for _, ent := range ents {
		p := filepath.Join(state, ent.Name())
		data, _ := os.ReadFile(p)
		var m map[string]any
		if json.Unmarshal(data, &m) == nil {
			delete(m, "document")
			data, _ = json.Marshal(m)
			os.WriteFile(p, data, 0o600)
		}
	}
	code, out, errOut = e.run(t, tok, args...)
	t.Logf("day 2 (resumed, older state): exit %d\n%s%s", code, out, errOut)
	if code != 0 {
		t.Errorf("a genuine upload resumed from an older evault's state: got exit %d, want 0", code)
	}
}

// R4: text output says "sealed" of a receipt before it is verified; the
// receipt then fails (sealed_as_sent) and the command exits 4 after
// having printed it as sealed.
func TestSealedIsSaidOnlyOnceVerified(t *testing.T) {
	e := newRev(t)
	_, d := e.dossier(t, "acme")
	tok := e.iss.Token(t, vault.Identity{Tenant: "acme", Subject: "alice@acme.example", Role: vault.RoleAdmin})
	dir := t.TempDir()
	a := write(t, filepath.Join(dir, "a.txt"), "report a\n")
	// The vault seals another title than the one sent.
	e.front.Store(func(w http.ResponseWriter, r *http.Request, h http.Handler) {
		if r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/uploads") {
			body, _ := io.ReadAll(r.Body)
			body = bytes.Replace(body, []byte(`"title":"a"`), []byte(`"title":"b"`), 1)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		h.ServeHTTP(w, r)
	})
	code, out, errOut := e.run(t, tok, append([]string{"upload", "--dossier", d.ID, "--path", "tests/a.txt", a}, revMeta...)...)
	t.Logf("exit %d\nstdout:\n%sstderr:\n%s", code, out, errOut)
	if code != evault.ExitVerify {
		t.Fatalf("tampered title: exit %d, want %d", code, evault.ExitVerify)
	}
	if strings.Contains(out, "sealed tests/a.txt") {
		t.Errorf("stdout says the upload was sealed, then the receipt fails verification:\n%s", out)
	}
}
