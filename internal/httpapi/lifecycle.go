package httpapi

import (
	"context"
	_ "embed"
	"html/template"
	"mime"
	"net/http"
	"strings"

	"github.com/evidencevault/vault/internal/vault"
)

// maxSubmissionBody fits a submission naming 10,000 paths.
const maxSubmissionBody = 4 << 20

// decodeInput decodes a body of at most limit bytes and checks it with
// the vault's rules, listing every bad field at once.
func decodeInput(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	return decodeLimited(w, r, limit, v, func(broken []string) []vault.FieldError { return vault.CheckInput(v, broken...) })
}

func (s *Server) dossierState(w http.ResponseWriter, r *http.Request) error {
	st, err := s.v.DossierState(r.Context(), r.PathValue("dossier"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", st)
	return nil
}

// dossierInput serves a route that takes a JSON body of In for the
// dossier in the path and answers status with what do returns.
func dossierInput[In, Out any](status int, do func(context.Context, string, In) (Out, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in In
		if err := decodeInput(w, r, maxMetadataBody, &in); err != nil {
			return err
		}
		out, err := do(r.Context(), r.PathValue("dossier"), in)
		if err != nil {
			return err
		}
		writeJSON(w, status, "application/json", out)
		return nil
	}
}

func (s *Server) setMarket(w http.ResponseWriter, r *http.Request) error {
	return dossierInput(http.StatusOK, s.v.SetMarket)(w, r)
}

func (s *Server) setHold(w http.ResponseWriter, r *http.Request) error {
	return dossierInput(http.StatusCreated, s.v.SetHold)(w, r)
}

func (s *Server) releaseHold(w http.ResponseWriter, r *http.Request) error {
	return dossierInput(http.StatusOK, func(ctx context.Context, dossier string, in vault.ReleaseInput) (*vault.DossierState, error) {
		return s.v.ReleaseHold(ctx, dossier, r.PathValue("hold"), in)
	})(w, r)
}

func (s *Server) setStatus(w http.ResponseWriter, r *http.Request) error {
	return dossierInput(http.StatusOK, s.v.SetStatus)(w, r)
}

func (s *Server) signOff(w http.ResponseWriter, r *http.Request) error {
	return dossierInput(http.StatusCreated, s.v.SignOff)(w, r)
}

func (s *Server) setPolicy(w http.ResponseWriter, r *http.Request) error {
	return dossierInput(http.StatusOK, s.v.SetPolicy)(w, r)
}

//go:embed report/completeness.html.tmpl
var completenessHTML string

var completenessPage = template.Must(template.New("completeness").Funcs(template.FuncMap{
	"short": func(s string) string { return s[:min(12, len(s))] },
}).Parse(completenessHTML))

// completeness answers JSON, or with ?format=html (or a browser's Accept
// that prefers HTML) a printable report.
func (s *Server) completeness(w http.ResponseWriter, r *http.Request) error {
	format := r.URL.Query().Get("format")
	switch format {
	case "", "json", "html":
	default:
		return &requestError{kind: badQuery, detail: "format must be json or html", fields: []vault.FieldError{{Pointer: "/format", Detail: "must be json or html"}}}
	}
	c, err := s.v.Completeness(r.Context(), r.PathValue("dossier"))
	if err != nil {
		return err
	}
	if format == "html" || format == "" && prefersHTML(r.Header.Get("Accept")) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return completenessPage.Execute(w, c)
	}
	writeJSON(w, http.StatusOK, "application/json", c)
	return nil
}

// prefersHTML reports whether an Accept header names text/html before any
// JSON type.
func prefersHTML(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch {
		case mt == "text/html":
			return true
		case mt == "application/json" || strings.HasSuffix(mt, "+json"):
			return false
		}
	}
	return false
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) error {
	var in vault.SubmissionInput
	if err := decodeInput(w, r, maxSubmissionBody, &in); err != nil {
		return err
	}
	sub, err := s.v.Submit(r.Context(), r.PathValue("dossier"), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/dossiers/"+r.PathValue("dossier")+"/submissions/"+sub.ID)
	writeJSON(w, http.StatusCreated, "application/json", sub)
	return nil
}

type submissionList struct {
	Dossier     string                   `json:"dossier"`
	Submissions []vault.SubmissionRecord `json:"submissions"`
}

func (s *Server) submissions(w http.ResponseWriter, r *http.Request) error {
	subs, err := s.v.Submissions(r.Context(), r.PathValue("dossier"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", submissionList{r.PathValue("dossier"), subs})
	return nil
}

func (s *Server) submission(w http.ResponseWriter, r *http.Request) error {
	sub, err := s.v.SubmissionOf(r.Context(), r.PathValue("dossier"), r.PathValue("submission"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", sub)
	return nil
}

// submissionChanges compares a submission with a later one (?to=ID) or
// with today's current documents (?to=current, the default).
func (s *Server) submissionChanges(w http.ResponseWriter, r *http.Request) error {
	to := r.URL.Query().Get("to")
	if to == "" {
		to = vault.CurrentDocuments
	}
	c, err := s.v.SubmissionChanges(r.Context(), r.PathValue("dossier"), r.PathValue("submission"), to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", c)
	return nil
}

// recordExport logs the snapshot a bundle about to be made proves itself
// complete against.
func (s *Server) recordExport(w http.ResponseWriter, r *http.Request) error {
	ev, err := s.v.RecordExport(r.Context(), r.PathValue("dossier"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, "application/json", ev)
	return nil
}
