package httpapi

import (
	"math"
	"net/http"

	"github.com/evidencevault/vault/internal/vault"
)

func (s *Server) createDossier(w http.ResponseWriter, r *http.Request) error {
	var in vault.DossierInput
	if err := decodeChecked(w, r, &in, func(broken []string) []vault.FieldError { return vault.CheckDossier(in, broken...) }); err != nil {
		return err
	}
	d, err := s.v.CreateDossier(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/dossiers/"+d.ID)
	writeJSON(w, http.StatusCreated, "application/json", d)
	return nil
}

func (s *Server) listDossiers(w http.ResponseWriter, r *http.Request) error {
	list := listName(r, "dossiers")
	page, err := pageParams(r, list)
	if err != nil {
		return err
	}
	ds, next, err := s.v.DossiersPage(r.Context(), page)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []vault.Dossier{}
	}
	writeJSON(w, http.StatusOK, "application/json", dossierList{ds, nextCursor(list, next)})
	return nil
}

// The lists' bodies: a page of items, and the cursor of the next page when
// there is one.
type (
	dossierList struct {
		Dossiers []vault.Dossier `json:"dossiers"`
		Next     string          `json:"next,omitempty"`
	}
	documentList struct {
		Dossier   string          `json:"dossier"`
		Documents []vault.Version `json:"documents"`
		Next      string          `json:"next,omitempty"`
	}
	versionList struct {
		Dossier  string          `json:"dossier"`
		Path     string          `json:"path"`
		Versions []vault.Version `json:"versions"`
		Next     string          `json:"next,omitempty"`
	}
)

func (s *Server) getDossier(w http.ResponseWriter, r *http.Request) error {
	d, err := s.v.Dossier(r.Context(), r.PathValue("dossier"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", d)
	return nil
}

func (s *Server) documents(w http.ResponseWriter, r *http.Request) error {
	dossier := r.PathValue("dossier")
	list := listName(r, "documents", dossier)
	page, err := pageParams(r, list)
	if err != nil {
		return err
	}
	vs, next, err := s.v.DocumentsPage(r.Context(), dossier, page)
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []vault.Version{}
	}
	writeJSON(w, http.StatusOK, "application/json", documentList{dossier, vs, nextCursor(list, next)})
	return nil
}

// pathParam reads the required path query parameter that names a document.
func pathParam(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", &requestError{kind: badQuery, detail: "name the document with ?path=",
			fields: []vault.FieldError{{Pointer: "/path", Detail: "is required"}}}
	}
	return p, nil
}

func (s *Server) versions(w http.ResponseWriter, r *http.Request) error {
	dossier := r.PathValue("dossier")
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	list := listName(r, "versions", dossier, p)
	page, err := pageParams(r, list)
	if err != nil {
		return err
	}
	// A versions cursor holds a count of versions.
	if _, err := number(page.After); page.After != "" && err != nil {
		fields := []vault.FieldError{{Pointer: "/cursor", Detail: "is not a cursor of this list: pass the \"next\" of its previous page unchanged"}}
		return &requestError{kind: badQuery, detail: queryDetail(fields), fields: fields}
	}
	vs, next, err := s.v.VersionsPage(r.Context(), dossier, p, page)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", versionList{dossier, p, vs, nextCursor(list, next)})
	return nil
}

// version serves one sealed version's record. Its bytes never change,
// but its state does (superseded, held, signed off), so caches revalidate
// it every time: no-cache, with its ETag.
func (s *Server) version(w http.ResponseWriter, r *http.Request) error {
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	n, err := positive(r.PathValue("version"), "/version", "version")
	if err != nil {
		return err
	}
	v, err := s.v.Version(r.Context(), r.PathValue("dossier"), p, int(n))
	if err != nil {
		return err
	}
	body, err := marshalJSON(v)
	if err != nil {
		return err
	}
	return writeTagged(w, r, "application/json", body, revalidatedCache)
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) error {
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := number(v)
		if version = int(n); err != nil || n < 1 || n > math.MaxInt32 {
			return &requestError{kind: badQuery, detail: "version must be a version number, 1 or more",
				fields: []vault.FieldError{{Pointer: "/version", Detail: "must be a whole number from 1"}}}
		}
	}
	d, err := s.v.Download(r.Context(), r.PathValue("dossier"), p, version)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{
		"version": d.Version, "download": d.Download, "receipt": d.Receipt.Bundle(),
	})
	return nil
}
