package regulation

import (
	"slices"
	"strings"
)

// Kind is what a piece of evidence is.
type Kind string

const (
	KindTechnicalDocumentation      Kind = "technical-documentation"
	KindClinicalEvidence            Kind = "clinical-evidence"
	KindTestReport                  Kind = "test-report"
	KindRiskManagement              Kind = "risk-management"
	KindPostMarketSurveillance      Kind = "post-market-surveillance"
	KindAIActTechnicalDocumentation Kind = "ai-act-technical-documentation"
	KindDeclarationOfConformity     Kind = "declaration-of-conformity"
	KindCertificate                 Kind = "certificate"
	KindOther                       Kind = "other"
)

// kinds maps every kind to whether documents of it must name the section
// they belong to (declarations, certificates and others may).
var kinds = map[Kind]bool{
	KindTechnicalDocumentation:      true,
	KindClinicalEvidence:            true,
	KindTestReport:                  true,
	KindRiskManagement:              true,
	KindPostMarketSurveillance:      true,
	KindAIActTechnicalDocumentation: true,
	KindDeclarationOfConformity:     false,
	KindCertificate:                 false,
	KindOther:                       false,
}

// Known reports whether k is a kind of this catalogue.
func (k Kind) Known() bool { _, ok := kinds[k]; return ok }

// NeedsSection reports whether documents of kind k must name their section.
func (k Kind) NeedsSection() bool { return kinds[k] }

// Kinds returns every kind, in alphabetical order.
func Kinds() []Kind {
	out := make([]Kind, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Section is a part of the technical documentation a document belongs to:
// MDR or IVDR Annex II (technical documentation) and Annex III
// (post-market surveillance), or AI Act Annex IV.
type Section struct {
	ID    string
	Title string
	// Kinds lists the document kinds that may belong here.
	Kinds []Kind
}

// Regulation returns the regulation a section belongs to: "MDR", "IVDR" or
// AIAct.
func (s Section) Regulation() string {
	reg, _, _ := strings.Cut(s.ID, "-")
	return reg
}

// Holds reports whether documents of kind k may belong to s.
func (s Section) Holds(k Kind) bool { return slices.Contains(s.Kinds, k) }

var (
	tdOnly   = []Kind{KindTechnicalDocumentation, KindOther}
	tdTests  = []Kind{KindTechnicalDocumentation, KindTestReport, KindOther}
	tdRisk   = []Kind{KindTechnicalDocumentation, KindRiskManagement, KindOther}
	pms      = []Kind{KindPostMarketSurveillance, KindOther}
	clinical = []Kind{KindTechnicalDocumentation, KindClinicalEvidence, KindTestReport, KindOther}
)

// Sections lists every section a document may name, in annex order.
var Sections = []Section{
	{"MDR-II-1", "Device description and specification, including variants and accessories", tdOnly},
	{"MDR-II-1.1", "Device description and specification", tdOnly},
	{"MDR-II-1.2", "Reference to previous and similar generations of the device", tdOnly},
	{"MDR-II-2", "Information to be supplied by the manufacturer", tdOnly},
	{"MDR-II-3", "Design and manufacturing information", tdOnly},
	{"MDR-II-4", "General safety and performance requirements", tdOnly},
	{"MDR-II-5", "Benefit-risk analysis and risk management", tdRisk},
	{"MDR-II-6", "Product verification and validation", tdTests},
	{"MDR-II-6.1", "Pre-clinical and clinical data", clinical},
	{"MDR-II-6.2", "Additional information required in specific cases", tdTests},
	{"MDR-III-1.1", "Post-market surveillance plan", pms},
	{"MDR-III-1.2", "PSUR and post-market surveillance report", pms},

	{"IVDR-II-1", "Device description and specification, including variants and accessories", tdOnly},
	{"IVDR-II-1.1", "Device description and specification", tdOnly},
	{"IVDR-II-1.2", "Reference to previous and similar generations of the device", tdOnly},
	{"IVDR-II-2", "Information to be supplied by the manufacturer", tdOnly},
	{"IVDR-II-3", "Design and manufacturing information", tdOnly},
	{"IVDR-II-4", "General safety and performance requirements", tdOnly},
	{"IVDR-II-5", "Benefit-risk analysis and risk management", tdRisk},
	{"IVDR-II-6", "Product verification and validation", tdTests},
	{"IVDR-II-6.1", "Information on analytical performance of the device", tdTests},
	{"IVDR-II-6.2", "Information on clinical performance and clinical evidence; performance evaluation report", clinical},
	{"IVDR-II-6.3", "Stability (excluding sample stability)", tdTests},
	{"IVDR-II-6.4", "Software verification and validation", tdTests},
	{"IVDR-II-6.5", "Information required in specific cases", tdTests},
	{"IVDR-III-1.1", "Post-market surveillance plan", pms},
	{"IVDR-III-1.2", "PSUR and post-market surveillance report", pms},

	{"AIA-IV-1", "General description of the AI system", aiKinds(KindTechnicalDocumentation)},
	{"AIA-IV-2", "Detailed description of the elements of the AI system and of its development process", aiKinds(KindTechnicalDocumentation, KindTestReport)},
	{"AIA-IV-3", "Monitoring, functioning and control of the AI system", aiKinds(KindTechnicalDocumentation)},
	{"AIA-IV-4", "Appropriateness of the performance metrics", aiKinds(KindTechnicalDocumentation, KindTestReport)},
	{"AIA-IV-5", "Risk management system (Article 9)", aiKinds(KindRiskManagement)},
	{"AIA-IV-6", "Relevant changes made through the lifecycle", aiKinds(KindTechnicalDocumentation)},
	{"AIA-IV-7", "Harmonised standards and other specifications applied", aiKinds(KindTechnicalDocumentation)},
	{"AIA-IV-8", "Copy of the EU declaration of conformity (Article 47)", aiKinds(KindDeclarationOfConformity)},
	{"AIA-IV-9", "Post-market monitoring system and plan (Article 72)", aiKinds(KindPostMarketSurveillance)},
}

func aiKinds(k ...Kind) []Kind {
	return append([]Kind{KindAIActTechnicalDocumentation, KindOther}, k...)
}

// SectionByID returns the section named id.
func SectionByID(id string) (Section, bool) {
	for _, s := range Sections {
		if s.ID == id {
			return s, true
		}
	}
	return Section{}, false
}
