package vault

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/evidencevault/vault/internal/regulation"
	"golang.org/x/text/unicode/norm"
)

func TestCheckPath(t *testing.T) {
	ok := []string{
		"design/architecture.pdf",
		"test-reports/EMC/IEC 60601-1-2 report.pdf",
		"Prüfberichte/Stabilität.xlsx",
		"clinical/CER (rev. C).docx",
		"a",
	}
	for _, p := range ok {
		if err := CheckPath(p); err != nil {
			t.Errorf("CheckPath(%q) = %v, want nil", p, err)
		}
	}
	bad := []struct{ path, want string }{
		{"", "must not be empty"},
		{"/etc/passwd", "relative"},
		{"../secrets.pdf", "must not be . or .."},
		{"reports/../../x.pdf", "must not be . or .."},
		{"reports/./x.pdf", "must not be . or .."},
		{"reports//x.pdf", "must not be empty"},
		{"reports/", "must not be empty"},
		{"reports\\x.pdf", `must not contain any of / \`},
		{"C:/x.pdf", `must not contain any of / \`},
		{"report\x00.pdf", "control or invisible"},
		{"report\n.pdf", "control or invisible"},
		{"report\x7f.pdf", "control or invisible"},
		{"re\u200bport.pdf", "control or invisible"},  // zero-width space
		{"report\u202e.fdp", "control or invisible"},  // right-to-left override
		{"report\u00a0x.pdf", "control or invisible"}, // no-break space
		{"\ufeffreport.pdf", "control or invisible"},  // byte order mark
		{"Pru\u0308fbericht.pdf", "NFC"},              // decomposed ü, as macOS writes it
		{" report.pdf", "space"},
		{"report.pdf.", "must not end with a dot"},
		{"CON.pdf", "reserved device name"},
		{"bad\xffutf8", "UTF-8"},
		{strings.Repeat("a", 256), "at most 255 bytes"},
		{strings.Repeat("abcdefgh/", 57) + "x", "at most 512 bytes"},
		{strings.Repeat("a/", 16) + "x", "at most 16 segments"},
	}
	for _, tt := range bad {
		err := CheckPath(tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckPath(%q) = %v, want an error saying %q", tt.path, err, tt.want)
		}
	}
}

func FuzzCheckPath(f *testing.F) {
	for _, s := range []string{"a/b.pdf", "../x", "a//b", "Pru\u0308f", "x\u202e", "CON", "a/./b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if CheckPath(p) != nil {
			return
		}
		// Whatever is accepted is safe to use as a relative file path.
		if !utf8.ValidString(p) || !norm.NFC.IsNormalString(p) || len(p) > MaxPathBytes {
			t.Fatalf("accepted %q: not bounded NFC UTF-8", p)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "\\\x00") {
				t.Fatalf("accepted %q: unsafe segment %q", p, seg)
			}
		}
	})
}

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

func validDossier() DossierInput {
	return DossierInput{
		Name: "CardioScan AI", BasicUDIDI: "1987654Ad4X4bL5ttr2310c2K", Regulation: regulation.MDR, RiskClass: "IIa",
		Implantable: no(), HighRiskAI: yes(), NotifiedBody: "0197",
	}
}

func TestDossierValidation(t *testing.T) {
	if fields := check(validDossier()); fields != nil {
		t.Fatalf("valid dossier: got %v", fields)
	}
	tests := []struct {
		name   string
		change func(*DossierInput)
		want   map[string]string // pointer -> part of the message
	}{
		{"name missing", func(d *DossierInput) { d.Name = "" }, map[string]string{"/name": "is required"}},
		{"udi check pair", func(d *DossierInput) { d.BasicUDIDI = "1987654Ad4X4bL5ttr2310c2X" }, map[string]string{"/basicUdiDi": `expected "2K"`}},
		{"regulation", func(d *DossierInput) { d.Regulation = "FDA" }, map[string]string{"/regulation": "must be one of MDR, IVDR"}},
		{"class of the other regulation", func(d *DossierInput) { d.RiskClass = "C" }, map[string]string{"/riskClass": "must be a MDR risk class: I, Is, Im, Ir, IIa, IIb, III"}},
		{"IVDR class", func(d *DossierInput) { d.Regulation, d.RiskClass = regulation.IVDR, "IIb" }, map[string]string{"/riskClass": "IVDR risk class: A, B, C, D"}},
		{"implantable missing", func(d *DossierInput) { d.Implantable = nil }, map[string]string{"/implantable": "is required"}},
		{"implantable class I", func(d *DossierInput) { d.RiskClass, d.Implantable = "I", yes() }, map[string]string{"/implantable": "class IIa, IIb or III"}},
		{"implantable IVD", func(d *DossierInput) { d.Regulation, d.RiskClass, d.Implantable = regulation.IVDR, "D", yes() }, map[string]string{"/implantable": "MDR devices"}},
		{"high-risk AI missing", func(d *DossierInput) { d.HighRiskAI = nil }, map[string]string{"/highRiskAi": "is required"}},
		{"notified body format", func(d *DossierInput) { d.NotifiedBody = "197" }, map[string]string{"/notifiedBody": "4-digit"}},
		{"notified body needed", func(d *DossierInput) { d.NotifiedBody = "" }, map[string]string{"/notifiedBody": "required for class IIa"}},
		{"all at once", func(d *DossierInput) { *d = DossierInput{Regulation: "X"} }, map[string]string{
			"/name": "required", "/basicUdiDi": "required", "/regulation": "one of", "/riskClass": "required",
			"/implantable": "required", "/highRiskAi": "required",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDossier()
			tt.change(&d)
			assertFields(t, check(d), tt.want)
		})
	}
	selfCertified := validDossier()
	selfCertified.RiskClass, selfCertified.NotifiedBody = "I", ""
	if fields := check(selfCertified); fields != nil {
		t.Errorf("class I without notified body: got %v, want valid", fields)
	}
}

func validDocument() Document {
	return Document{
		Path: "test-reports/software-validation.pdf", Title: "Software validation report", Kind: regulation.KindTestReport,
		Section: "MDR-II-6.1", Revision: "B", Language: "en", EffectiveDate: "2026-10-31",
		Standards: []string{"IEC 62304:2006+A1:2015", "EN ISO 14971:2019+A11:2021"}, Author: "QA team",
		File: File{Name: "software-validation.pdf", Size: 1024,
			SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ContentType: "application/pdf"},
	}
}

func TestDocumentValidation(t *testing.T) {
	if fields := check(validDocument()); fields != nil {
		t.Fatalf("valid document: got %v", fields)
	}
	tests := []struct {
		name   string
		change func(*Document)
		want   map[string]string
	}{
		{"traversal", func(d *Document) { d.Path = "../../etc/passwd" }, map[string]string{"/path": "must not be . or .."}},
		{"control character in path", func(d *Document) { d.Path = "a/b\x07.pdf" }, map[string]string{"/path": "control or invisible"}},
		{"title with newline", func(d *Document) { d.Title = "Report\nInjected: yes" }, map[string]string{"/title": "control"}},
		{"kind", func(d *Document) { d.Kind = "memo" }, map[string]string{"/kind": "must be one of"}},
		{"unknown section", func(d *Document) { d.Section = "MDR-II-9" }, map[string]string{"/section": "not a known section"}},
		{"section of another kind", func(d *Document) { d.Section = "MDR-III-1.1" }, map[string]string{"/section": "does not hold test-report documents"}},
		{"section missing", func(d *Document) { d.Section = "" }, map[string]string{"/section": "must name the Annex II, III or IV section"}},
		{"certificate with a section", func(d *Document) { d.Kind = regulation.KindCertificate }, map[string]string{"/section": "does not hold certificate documents"}},
		{"revision", func(d *Document) { d.Revision = "" }, map[string]string{"/revision": "is required"}},
		{"language", func(d *Document) { d.Language = "english" }, map[string]string{"/language": "ISO 639-1"}},
		{"language not a code", func(d *Document) { d.Language = "xx" }, map[string]string{"/language": "ISO 639-1"}},
		{"date", func(d *Document) { d.EffectiveDate = "31.10.2026" }, map[string]string{"/effectiveDate": "YYYY-MM-DD"}},
		{"impossible date", func(d *Document) { d.EffectiveDate = "2026-02-30" }, map[string]string{"/effectiveDate": "YYYY-MM-DD"}},
		{"standard", func(d *Document) { d.Standards = []string{"IEC 62304:2006+A1:2015", "ISO14971"} }, map[string]string{"/standards/1": "designation"}},
		{"author", func(d *Document) { d.Author = "" }, map[string]string{"/author": "is required"}},
		{"file name with a slash", func(d *Document) { d.File.Name = "a/b.pdf" }, map[string]string{"/file/name": "must not contain any of /"}},
		{"empty file", func(d *Document) { d.File.Size = 0 }, map[string]string{"/file/size": "at least 1 byte"}},
		{"file too large", func(d *Document) { d.File.Size = MaxObjectSize + 1 }, map[string]string{"/file/size": "at most"}},
		{"sha256 short", func(d *Document) { d.File.SHA256 = "abc" }, map[string]string{"/file/sha256": "64 hexadecimal"}},
		{"content type", func(d *Document) { d.File.ContentType = "application/x-msdownload" }, map[string]string{"/file/contentType": "accepted media types"}},
		{"extension and type disagree", func(d *Document) { d.File.ContentType = "image/png" }, map[string]string{"/file/contentType": "extension .pdf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDocument()
			tt.change(&d)
			d.normalize()
			assertFields(t, check(d), tt.want)
		})
	}
}

func TestDocumentNormalizesUpperCaseDigest(t *testing.T) {
	d := validDocument()
	d.File.SHA256 = strings.ToUpper(d.File.SHA256)
	d.normalize()
	if fields := check(d); fields != nil {
		t.Errorf("upper-case digest: got %v, want accepted after normalizing", fields)
	}
}

func TestFitsDossier(t *testing.T) {
	d := Dossier{ID: "dos_x", Regulation: regulation.MDR, HighRiskAI: false}
	doc := validDocument()
	doc.Kind, doc.Section = regulation.KindAIActTechnicalDocumentation, "AIA-IV-2"
	assertFields(t, fitsDossier(doc, d), map[string]string{"/section": "not a high-risk AI system", "/kind": "high-risk AI system"})
	doc = validDocument()
	doc.Section = "IVDR-II-6.1"
	assertFields(t, fitsDossier(doc, d), map[string]string{"/section": "belongs to the IVDR"})
	if got := fitsDossier(validDocument(), d); got != nil {
		t.Errorf("MDR section in an MDR dossier: got %v", got)
	}
}

func TestStandardDesignations(t *testing.T) {
	for _, s := range []string{
		"IEC 62304:2006+A1:2015", "ISO 14971:2019", "EN ISO 13485:2016+A11:2021", "ISO/IEC 42001:2023",
		"IEC 60601-1-2:2014+A1:2020", "ISO/TR 24971:2020", "IEC/TR 80002-1:2009", "ANSI/AAMI ES60601-1:2005",
		"ISO/IEC TR 24027:2021", "IEC 62304:2006/AMD1:2015", "ISO/IEC 27001:2022/Amd 1:2024", "ASTM F2503-20",
		"CLSI EP05-A3", "MDCG 2020-1", "ISO 13485",
	} {
		if !standardPattern().MatchString(s) {
			t.Errorf("standard %q refused", s)
		}
	}
	for _, s := range []string{"ISO14971", "iso 14971", "ISO 14971:19", "62304", "ISO 14971; DROP TABLE"} {
		if standardPattern().MatchString(s) {
			t.Errorf("%q accepted as a standard", s)
		}
	}
}

func TestCanRead(t *testing.T) {
	auditor := Identity{Tenant: "demo", Subject: "a", Role: RoleAuditor, Dossiers: []string{"dos_a"}}
	all := Identity{Tenant: "demo", Subject: "a", Role: RoleAuditor, Dossiers: []string{AllDossiers}}
	uploader := Identity{Tenant: "demo", Subject: "u", Role: RoleUploader}
	tests := []struct {
		id              Identity
		tenant, dossier string
		want            bool
	}{
		{auditor, "demo", "dos_a", true},
		{auditor, "demo", "dos_b", false},
		{all, "demo", "dos_b", true},
		{all, "other", "dos_b", false},
		{uploader, "demo", "dos_b", true},
		{uploader, "other", "dos_b", false},
	}
	for _, tt := range tests {
		if got := tt.id.CanRead(tt.tenant, tt.dossier); got != tt.want {
			t.Errorf("%s %v CanRead(%s, %s) = %v, want %v", tt.id.Role, tt.id.Dossiers, tt.tenant, tt.dossier, got, tt.want)
		}
	}
}

// assertFields checks that exactly the wanted pointers failed, each with a
// message containing the wanted text.
func assertFields(t *testing.T, got []FieldError, want map[string]string) {
	t.Helper()
	seen := map[string]bool{}
	for _, f := range got {
		seen[f.Pointer] = true
		w, ok := want[f.Pointer]
		if !ok {
			t.Errorf("unexpected error at %s: %s", f.Pointer, f.Detail)
			continue
		}
		if !strings.Contains(f.Detail, w) {
			t.Errorf("%s: got %q, want it to say %q", f.Pointer, f.Detail, w)
		}
	}
	for p := range want {
		if !seen[p] {
			t.Errorf("no error at %s; got %v", p, got)
		}
	}
}
