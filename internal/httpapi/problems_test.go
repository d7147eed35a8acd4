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

// TestCursorOfAnotherList: a cursor names the list it came from; on any
// other list (another dossier, path, tenant or filter) it is refused, not
// taken as a place to start.
func TestCursorOfAnotherList(t *testing.T) {
	a := newMemAPI(t, vault.Config{})
	tok := a.token(t, uploader)
	d := a.createDossier(t)
	second := dossierBody()
	second["basicUdiDi"] = "12345ANJ" // another device
	var other vault.Dossier
	if r := a.call(t, "POST", "/v1/dossiers", tok, second); r.status != http.StatusCreated {
		t.Fatalf("second dossier: %d %s", r.status, r.body)
	} else {
		r.json(t, &other)
	}
	for _, p := range []string{"a.txt", "b.txt"} {
		a.upload(t, d, p, []byte("first "+p+"\n"))
		a.upload(t, d, p, []byte("second "+p+"\n"))
	}
	next := func(path string) string {
		var pg struct{ Next string }
		if r := a.call(t, "GET", path, tok, nil); r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		} else {
			r.json(t, &pg)
		}
		if pg.Next == "" {
			t.Fatalf("%s: no next page", path)
		}
		return pg.Next
	}
	for _, p := range []string{"a.txt", "b.txt"} { // two downloads for the trail
		if r := a.call(t, "GET", "/v1/dossiers/"+d+"/download?path="+p, tok, nil); r.status != http.StatusOK {
			t.Fatalf("download: %d %s", r.status, r.body)
		}
	}
	docs := next("/v1/dossiers/" + d + "/documents?limit=1")
	versions := next("/v1/dossiers/" + d + "/versions?path=a.txt&limit=1")
	trail := next("/v1/access?limit=1&dossier=" + d)
	strangerTok := a.token(t, stranger)
	var theirs vault.Dossier
	a.call(t, "POST", "/v1/dossiers", strangerTok, dossierBody()).json(t, &theirs)
	tests := []struct {
		name, token, path string
		want              int
	}{
		{"the same list", tok, "/v1/dossiers/" + d + "/documents?limit=1&cursor=" + docs, http.StatusOK},
		{"another dossier", tok, "/v1/dossiers/" + other.ID + "/documents?cursor=" + docs, http.StatusBadRequest},
		{"another tenant's dossier", strangerTok, "/v1/dossiers/" + theirs.ID + "/documents?cursor=" + docs, http.StatusBadRequest},
		{"the same versions", tok, "/v1/dossiers/" + d + "/versions?path=a.txt&cursor=" + versions, http.StatusOK},
		{"another path's versions", tok, "/v1/dossiers/" + d + "/versions?path=b.txt&cursor=" + versions, http.StatusBadRequest},
		{"another kind of list", tok, "/v1/dossiers?cursor=" + docs, http.StatusBadRequest},
		{"the trail of another filter", tok, "/v1/access?cursor=" + trail, http.StatusBadRequest},
		{"the same trail", tok, "/v1/access?limit=1&dossier=" + d + "&cursor=" + trail, http.StatusOK},
	}
	for _, tt := range tests {
		if r := a.call(t, "GET", tt.path, tt.token, nil); r.status != tt.want {
			t.Errorf("%s: got %d %s, want %d", tt.name, r.status, r.body, tt.want)
		}
	}
}
