// Package regulation is the catalogue of rules a device's technical
// documentation follows, as data: the EU regulations a device is placed on
// the market under (MDR, Regulation (EU) 2017/745; IVDR, Regulation (EU)
// 2017/746), their risk classes (Annex VIII of each), the sections of the
// technical documentation (MDR and IVDR Annex II and III, AI Act,
// Regulation (EU) 2024/1689, Annex IV) with the kinds of evidence each
// holds, the identifiers dossiers carry (the GS1 Basic UDI-DI, the notified
// body number) and how long documentation is kept (MDR Article 10(8)).
//
// The package is pure: no I/O, no clock, nothing of the vault. The vault's
// validation and docs/metadata.md are built on it.
package regulation

import "slices"

// Regulation is the EU regulation a device is placed on the market under.
type Regulation string

const (
	MDR  Regulation = "MDR"  // Regulation (EU) 2017/745 on medical devices
	IVDR Regulation = "IVDR" // Regulation (EU) 2017/746 on in vitro diagnostic medical devices
)

// AIAct names the AI Act (Regulation (EU) 2024/1689) in section ids; it
// applies on top of the MDR or IVDR to high-risk AI systems.
const AIAct = "AIA"

// riskClasses lists the classes each regulation defines: MDR Annex VIII
// (with the Is, Im, Ir subclasses of class I) and IVDR Annex VIII.
var riskClasses = map[Regulation][]string{
	MDR:  {"I", "Is", "Im", "Ir", "IIa", "IIb", "III"},
	IVDR: {"A", "B", "C", "D"},
}

// Known reports whether r is a regulation of this catalogue.
func (r Regulation) Known() bool { _, ok := riskClasses[r]; return ok }

// RiskClasses returns the classes r defines, lowest first.
func (r Regulation) RiskClasses() []string { return slices.Clone(riskClasses[r]) }

// HasClass reports whether class is one of r's risk classes.
func (r Regulation) HasClass(class string) bool { return slices.Contains(riskClasses[r], class) }

// SelfCertified reports whether devices of class are certified by their
// manufacturer alone, without a notified body: MDR class I, IVDR class A.
func (r Regulation) SelfCertified(class string) bool {
	return (r == MDR && class == "I") || (r == IVDR && class == "A")
}

// ImplantableClass reports whether an implantable device may be of class:
// implantables are MDR devices of class IIa, IIb or III.
func (r Regulation) ImplantableClass(class string) bool {
	return r == MDR && slices.Contains([]string{"IIa", "IIb", "III"}, class)
}

// Retention periods: MDR Article 10(8) keeps the technical documentation
// for at least 10 years after the last device is placed on the market, 15
// for implantables.
const (
	RetentionYears            = 10
	RetentionYearsImplantable = 15
)

// RetentionYearsFor returns how long a device's documentation is kept.
func RetentionYearsFor(implantable bool) int {
	if implantable {
		return RetentionYearsImplantable
	}
	return RetentionYears
}
