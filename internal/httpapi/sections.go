package httpapi

import (
	"net/http"

	"github.com/evidencevault/vault/internal/regulation"
)

// sectionList is GET /v1/sections: the regulation's sections a document
// may name and the kinds of evidence, so that forms and the portal offer
// what validation accepts, from the one table validation uses.
type sectionList struct {
	Sections []sectionItem `json:"sections"`
	Kinds    []kindItem    `json:"kinds"`
}

type sectionItem struct {
	ID         string            `json:"id"`
	Title      string            `json:"title"`
	Regulation string            `json:"regulation"`
	Kinds      []regulation.Kind `json:"kinds"`
}

type kindItem struct {
	Kind         regulation.Kind `json:"kind"`
	NeedsSection bool            `json:"needsSection"`
}

func (s *Server) sections(w http.ResponseWriter, r *http.Request) error {
	out := sectionList{Sections: []sectionItem{}, Kinds: []kindItem{}}
	for _, sec := range regulation.Sections {
		out.Sections = append(out.Sections, sectionItem{ID: sec.ID, Title: sec.Title, Regulation: sec.Regulation(), Kinds: sec.Kinds})
	}
	for _, k := range regulation.Kinds() {
		out.Kinds = append(out.Kinds, kindItem{Kind: k, NeedsSection: k.NeedsSection()})
	}
	// The table changes only with a release of the vault.
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, "application/json", out)
	return nil
}
