package evault

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWhereTheTokenComesFrom checks the documented order: flags, then
// EVAULT_* variables, then the config file, then .local/env.
func TestWhereTheTokenComesFrom(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Host + " " + r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"dossiers":[]}`))
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, ".local"), 0o755)
	os.WriteFile(filepath.Join(dir, ".local", "env"), []byte("VAULT_URL="+srv.URL+"\nVAULT_UPLOADER_TOKEN=local-up\nVAULT_AUDITOR_TOKEN=local-aud\n"), 0o600)
	sub := filepath.Join(dir, "a", "b")
	os.MkdirAll(sub, 0o755)
	cfg := filepath.Join(dir, "config.json")
	os.WriteFile(cfg, []byte(`{"api":"`+srv.URL+`","token":"from-config"}`), 0o600)
	// A config file keeps its token for another API: it is not sent here.
	prod := filepath.Join(dir, "prod.json")
	os.WriteFile(prod, []byte(`{"api":"https://vault.prod.example","token":"prod-token"}`), 0o600)

	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"local env from a subdirectory", nil, nil, "Bearer local-up"},
		{"local env, auditor", nil, []string{"--role", "auditor"}, "Bearer local-aud"},
		{"config file", nil, []string{"--config", cfg}, "Bearer from-config"},
		{"config file of another API, --api", nil, []string{"--config", prod, "--api", srv.URL}, "Bearer local-up"},
		{"config file of another API, EVAULT_API", map[string]string{"EVAULT_API": srv.URL}, []string{"--config", prod}, "Bearer local-up"},
		{"environment", map[string]string{"EVAULT_TOKEN": "from-env"}, []string{"--config", cfg}, "Bearer from-env"},
		{"flag", map[string]string{"EVAULT_TOKEN": "from-env"}, []string{"--token", "from-flag"}, "Bearer from-flag"},
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // not the user's own config
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = ""
			var out, errb bytes.Buffer
			m := &Main{Stdout: &out, Stderr: &errb, Dir: sub, Getenv: func(k string) string { return tt.env[k] }}
			args := append([]string{"dossier", "list"}, tt.args...)
			if code := m.Run(context.Background(), args); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if want := host + " " + tt.want; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// TestConfigTokenWithoutAPI checks a config file's token that names no API
// is refused before anything is sent, even with a .local/env URL at hand.
func TestConfigTokenWithoutAPI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request was sent: %s %s (Authorization %q)", r.Method, r.URL, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, ".local"), 0o755)
	os.WriteFile(filepath.Join(dir, ".local", "env"), []byte("VAULT_URL="+srv.URL+"\n"), 0o600)
	bare := filepath.Join(dir, "bare.json")
	os.WriteFile(bare, []byte(`{"token":"bare-token"}`), 0o600)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, args := range [][]string{{"--config", bare}, {"--config", bare, "--api", srv.URL}} {
		var out, errb bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errb, Dir: dir, Getenv: func(string) string { return "" }}
		code := m.Run(context.Background(), append([]string{"dossier", "list"}, args...))
		if code != ExitUsage {
			t.Errorf("%v: got exit %d, want %d", args, code, ExitUsage)
		}
		if want := "a token needs the api it is for"; !strings.Contains(errb.String(), want) {
			t.Errorf("%v: got %q, want it to say %q", args, errb.String(), want)
		}
	}
}

func TestHelpDocumentsExitCodes(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"get", "--help"}, {"verify-bundle", "--help"}} {
		var out bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &out}
		if code := m.Run(context.Background(), args); code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		if !strings.Contains(out.String(), "Exit codes:") || !strings.Contains(out.String(), "4    verification failed") {
			t.Errorf("%v lacks the exit codes:\n%s", args, out.String())
		}
	}
	var out bytes.Buffer
	if code := (&Main{Stdout: &out, Stderr: &out}).Run(context.Background(), []string{"get"}); code != ExitUsage {
		t.Errorf("get without a path: got exit %d, want %d", code, ExitUsage)
	}
}
