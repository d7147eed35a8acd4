package vault

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/evidencevault/vault/internal/regulation"
)

// Completeness is a dossier's view of the whole: each section of MDR or
// IVDR Annex II and III that applies (and AI Act Annex IV for high-risk
// AI) with its current, approved evidence, or marked missing.
type Completeness struct {
	Dossier  Dossier           `json:"dossier"`
	At       time.Time         `json:"at"`
	Complete bool              `json:"complete"`
	Missing  int               `json:"missing"`
	Pending  int               `json:"unapproved"`
	Sections []SectionReport   `json:"sections"`
	Policy   ApprovalPolicy    `json:"approvalPolicy"`
	Other    []SectionEvidence `json:"unfiled"`
}

// Section states in a completeness report.
const (
	SectionComplete   = "complete"
	SectionUnapproved = "unapproved" // current evidence, none approved yet
	SectionMissing    = "missing"
)

// SectionReport is one section's evidence.
type SectionReport struct {
	ID       string            `json:"id"`
	Title    string            `json:"title"`
	Status   string            `json:"status"`
	Evidence []SectionEvidence `json:"evidence"`
}

// SectionEvidence is one current document filed in a section.
type SectionEvidence struct {
	Path     string `json:"path"`
	Title    string `json:"title"`
	Version  int    `json:"version"`
	SHA256   string `json:"sha256"`
	Approved bool   `json:"approved"`
	// Section is where the document is filed.
	Section string `json:"section,omitempty"`
}

// applicableSections lists the sections a dossier must cover: those of
// its regulation, and the AI Act's for high-risk AI, each without
// subsections (a section with subsections is covered through them, and
// evidence filed under it is listed as unfiled: it does not say which
// subsection it covers).
func applicableSections(d Dossier) []regulation.Section {
	var out []regulation.Section
	for _, s := range regulation.Sections {
		reg := s.Regulation()
		if reg != string(d.Regulation) && !(d.HighRiskAI && reg == regulation.AIAct) {
			continue
		}
		if slices.ContainsFunc(regulation.Sections, func(o regulation.Section) bool { return strings.HasPrefix(o.ID, s.ID+".") }) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// Completeness reports which sections of the dossier have current,
// approved evidence.
func (s *Service) Completeness(ctx context.Context, dossier string) (*Completeness, error) {
	d, err := s.Dossier(ctx, dossier)
	if err != nil {
		return nil, err
	}
	docs, err := s.sealedDocuments(ctx, d.Tenant, dossier)
	if err != nil {
		return nil, err
	}
	st, err := s.DossierState(ctx, dossier)
	if err != nil {
		return nil, err
	}
	c := &Completeness{Dossier: d, At: s.now(), Policy: st.Policy, Sections: []SectionReport{}, Other: []SectionEvidence{}}
	var current []Version
	for _, v := range docs {
		if v.State != nil && v.State.Status == StatusCurrent {
			current = append(current, v)
		}
	}
	used := map[string]bool{}
	for _, sec := range applicableSections(d) {
		r := SectionReport{ID: sec.ID, Title: sec.Title, Status: SectionMissing, Evidence: []SectionEvidence{}}
		for _, v := range current {
			// Only evidence filed in the section itself counts: one
			// filed under MDR-II-6 does not say whether it is the
			// clinical data of 6.1 or the specific cases of 6.2.
			if v.Document.Section != sec.ID {
				continue
			}
			used[v.Document.Path] = true
			r.Evidence = append(r.Evidence, evidenceOf(v))
			if v.State.Approved {
				r.Status = SectionComplete
			} else if r.Status == SectionMissing {
				r.Status = SectionUnapproved
			}
		}
		switch r.Status {
		case SectionMissing:
			c.Missing++
		case SectionUnapproved:
			c.Pending++
		}
		c.Sections = append(c.Sections, r)
	}
	for _, v := range current {
		if !used[v.Document.Path] {
			c.Other = append(c.Other, evidenceOf(v))
		}
	}
	c.Complete = c.Missing == 0 && c.Pending == 0
	return c, nil
}

func evidenceOf(v Version) SectionEvidence {
	return SectionEvidence{Path: v.Document.Path, Title: v.Document.Title, Version: v.Version, SHA256: v.SHA256,
		Approved: v.State.Approved, Section: v.Document.Section}
}
