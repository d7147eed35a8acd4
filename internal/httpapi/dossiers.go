package httpapi

import (
	"net/http"
	"strconv"

	"github.com/evidencevault/vault/internal/vault"
)

func (s *Server) createDossier(w http.ResponseWriter, r *http.Request) error {
	var in vault.DossierInput
	if err := decodeJSON(w, r, maxMetadataBody, &in); err != nil {
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
	ds, err := s.v.ListDossiers(r.Context())
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []vault.Dossier{}
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"dossiers": ds})
	return nil
}

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
	vs, err := s.v.Documents(r.Context(), dossier)
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []vault.Version{}
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"dossier": dossier, "documents": vs})
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
	vs, err := s.v.Versions(r.Context(), dossier, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"dossier": dossier, "path": p, "versions": vs})
	return nil
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) error {
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		if version, err = strconv.Atoi(v); err != nil || version < 1 {
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
