package httpapi

import (
	"net/http"
	"time"

	"github.com/evidencevault/vault/internal/vault"
)

// TenantHeader names the tenant a request acts in: an auditor's choice
// among the tenants that granted them access. Members may leave it out.
const TenantHeader = "Vault-Tenant"

// WithSignIn publishes how clients sign in.
func WithSignIn(si vault.SignIn) Option { return func(s *Server) { s.signIn = &si } }

func (s *Server) authConfig(w http.ResponseWriter, r *http.Request) error {
	if s.signIn == nil {
		return &vault.Error{Code: vault.CodeNotFound, Message: "this vault publishes no sign-in configuration; ask its operator for a token"}
	}
	writeJSON(w, http.StatusOK, "application/json", s.signIn)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	me, err := s.v.WhoAmI(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", me)
	return nil
}

type grantList struct {
	Grants []vault.Grant `json:"grants"`
}

func (s *Server) createGrant(w http.ResponseWriter, r *http.Request) error {
	var in vault.GrantInput
	if err := decodeChecked(w, r, &in, func(broken []string) []vault.FieldError { return vault.CheckInput(in, broken...) }); err != nil {
		return err
	}
	g, err := s.v.CreateGrant(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/grants/"+g.ID)
	writeJSON(w, http.StatusCreated, "application/json", g)
	return nil
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) error {
	gs, err := s.v.Grants(r.Context())
	if err != nil {
		return err
	}
	if gs == nil {
		gs = []vault.Grant{}
	}
	writeJSON(w, http.StatusOK, "application/json", grantList{gs})
	return nil
}

func (s *Server) getGrant(w http.ResponseWriter, r *http.Request) error {
	g, err := s.v.Grant(r.Context(), r.PathValue("grant"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", g)
	return nil
}

func (s *Server) revokeGrant(w http.ResponseWriter, r *http.Request) error {
	g, err := s.v.RevokeGrant(r.Context(), r.PathValue("grant"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", g)
	return nil
}

type accessList struct {
	Events []vault.AccessEvent `json:"events"`
	Next   string              `json:"next,omitempty"`
}

// accessTrail serves GET /v1/access?since=D&until=D[&dossier=][&limit&cursor]:
// days in UTC, the last 30 by default.
func (s *Server) accessTrail(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	list := listName(r, "access", q.Get("since"), q.Get("until"), q.Get("dossier"))
	page, err := pageParams(r, list)
	if err != nil {
		return err
	}
	until, since := time.Now().UTC(), time.Now().UTC().AddDate(0, 0, -29) // 30 days, today's among them
	var fields []vault.FieldError
	for name, t := range map[string]*time.Time{"since": &since, "until": &until} {
		if v := q.Get(name); v != "" {
			d, err := vault.ParseDay(v)
			if err != nil {
				fields = append(fields, vault.FieldError{Pointer: "/" + name, Detail: err.Error()})
			}
			*t = d
		}
	}
	if fields != nil {
		return &requestError{kind: badQuery, detail: queryDetail(fields), fields: fields}
	}
	events, next, err := s.v.AccessTrail(r.Context(), vault.AccessQuery{Since: since, Until: until, Dossier: q.Get("dossier"), Page: page})
	if err != nil {
		return err
	}
	if events == nil {
		events = []vault.AccessEvent{}
	}
	writeJSON(w, http.StatusOK, "application/json", accessList{events, nextCursor(list, next)})
	return nil
}
