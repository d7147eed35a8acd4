package evault_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evidencevault/vault/internal/evault"
	"github.com/evidencevault/vault/internal/vault"
)

type knownFileJSON struct {
	Logs map[string]map[string]any `json:"logs"`
}

func (e *cliEnv) known(t *testing.T) knownFileJSON {
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

// A member whose own tenant's log was first met with --tenant gets it bound
// as the own tenant by the first command without it: another tenant's log
// answered later is refused.
func TestOwnTenantMetFirstWithTenantFlagIsBound(t *testing.T) {
	e := newCLIEnv(t)
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

// A member moved from acme to beta is told how to recover, and the
// documented recovery (remove the entry) leaves the new own tenant bound.
func TestMovedMemberRecovers(t *testing.T) {
	e := newCLIEnv(t)
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

// A multipart upload recorded by an older evault (state without its
// document), run again the next day with the default date, starts again
// and verifies.
func TestResumeFromOlderStateStartsAgain(t *testing.T) {
	e := newCLIEnv(t)
	state := t.TempDir()
	tok, args, _ := e.interruptedUpload(t, state)
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
	code, out, errOut := e.run(t, tok, args...)
	t.Logf("day 2 (resumed, older state): exit %d\n%s%s", code, out, errOut)
	if code != 0 {
		t.Errorf("a genuine upload resumed from an older evault's state: got exit %d, want 0", code)
	}
}

// "sealed" is printed only of a receipt that verified: one sealed with
// another title than sent fails sealed_as_sent, exits 4, and is not said
// to be sealed.
func TestSealedIsSaidOnlyOnceVerified(t *testing.T) {
	e := newCLIEnv(t)
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
	code, out, errOut := e.run(t, tok, append([]string{"upload", "--dossier", d.ID, "--path", "tests/a.txt", a}, cliMeta...)...)
	t.Logf("exit %d\nstdout:\n%sstderr:\n%s", code, out, errOut)
	if code != evault.ExitVerify {
		t.Fatalf("tampered title: exit %d, want %d", code, evault.ExitVerify)
	}
	if strings.Contains(out, "sealed tests/a.txt") {
		t.Errorf("stdout says the upload was sealed, then the receipt fails verification:\n%s", out)
	}
}
