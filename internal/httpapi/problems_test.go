package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/vault"
)

// TestEveryProblemInOneAnswer: each bad field of the query and the body is
// named once, at its own pointer, in one answer, and a field sent with the
// wrong type does not make its siblings look missing.
func TestEveryProblemInOneAnswer(t *testing.T) {
	a := newMemAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	d := a.createDossier(t)
	uploads := "/v1/dossiers/" + d + "/uploads"
	noTitle := docBody("a.txt", []byte("hello\n"))
	delete(noTitle, "title")
	wrongTitle := docBody("a.txt", []byte("hello\n"))
	wrongTitle["title"] = 5
	fraction := docBody("a.txt", []byte("hello\n"))
	fraction["file"].(map[string]any)["size"] = 1.5
	month := time.Now().AddDate(0, 1, 0)
	tests := []struct {
		name, path string
		body       any
		status     int
		want       []string // pointer: the start of its detail
	}{
		{"a bad query and a missing title", uploads + "?newVersion=yes", noTitle, http.StatusBadRequest,
			[]string{"/newVersion: must be true or false", "/title: is required"}},
		{"a bad query and a title of the wrong type", uploads + "?newVersion=yes", wrongTitle, http.StatusBadRequest,
			[]string{"/newVersion: must be true or false", "/title: must be a JSON string"}},
		{"a fraction of a byte", uploads, fraction, http.StatusBadRequest,
			[]string{"/file/size: must be a whole number"}},
		{"an array for the body", uploads, `[]`, http.StatusBadRequest,
			[]string{": must be a JSON object"}},
		{"an e-mail of the wrong type", "/v1/grants", map[string]any{
			"grantee": map[string]any{"email": 1}, "dossiers": []string{vault.AllDossiers}, "until": month}, http.StatusBadRequest,
			[]string{"/grantee/email: must be a JSON string"}},
		{"no grantee at all", "/v1/grants", map[string]any{
			"grantee": map[string]any{}, "dossiers": []string{vault.AllDossiers}, "until": month}, http.StatusUnprocessableEntity,
			[]string{"/grantee/email: is required", "/grantee/subject: is required"}},
		{"a number for a date", "/v1/grants", map[string]any{
			"grantee": map[string]any{"email": "n@nb.example"}, "dossiers": []string{vault.AllDossiers}, "until": 5}, http.StatusBadRequest,
			[]string{"/until: must be an RFC 3339 date-time string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.call(t, "POST", tt.path, tok, tt.body)
			if r.status != tt.status {
				t.Fatalf("got %d %s, want %d", r.status, r.body, tt.status)
			}
			p := r.problem(t)
			var got []string
			for _, f := range p.Errors {
				got = append(got, f.Pointer+": "+f.Detail)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d entries %q, want %d %q", len(got), got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("entry %d: got %q, want it to start %q", i, got[i], w)
				}
			}
			if slices.ContainsFunc(p.Errors, func(f vault.FieldError) bool { return strings.Contains(f.Detail, "<nil>") }) {
				t.Errorf("a detail says <nil>: %q", got)
			}
		})
	}
}
