package vault

import (
	"fmt"
	"maps"
	"path"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/strictjson"
	"github.com/go-playground/validator/v10"
)

// validate holds the domain checks, registered once as custom validators,
// on first use (docs/design.md, cold starts).
var validate = sync.OnceValue(newValidator)

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	// Report fields by their JSON names, so errors become JSON pointers.
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	fields := map[string]func(string) bool{
		"basic_udi_di":   func(s string) bool { return regulation.CheckBasicUDIDI(s) == nil },
		"notified_body":  regulation.ValidNotifiedBody,
		"text":           func(s string) bool { return checkText(s) == nil },
		"doc_path":       func(s string) bool { return CheckPath(s) == nil },
		"file_name":      func(s string) bool { return checkSegment(s) == nil },
		"kind":           func(s string) bool { return regulation.Kind(s).Known() },
		"section":        func(s string) bool { _, ok := regulation.SectionByID(s); return ok },
		"iso639_1":       func(s string) bool { return iso639_1[s] },
		"standard":       func(s string) bool { return standardPattern().MatchString(s) },
		"sha256_hex":     validSHA256,
		"calendar_date":  func(s string) bool { return checkDate(s, time.Now()) == nil },
		"content_type":   func(s string) bool { _, ok := contentTypes[s]; return ok },
		"dossier_or_all": func(s string) bool { return s == AllDossiers || dossierIDPattern.MatchString(s) },
		"email_address":  validEmail,
		"subject":        validSubject,
	}
	for tag, ok := range fields {
		must(v.RegisterValidation(tag, func(fl validator.FieldLevel) bool { return ok(fl.Field().String()) }))
	}
	v.RegisterStructValidation(dossierRules, DossierInput{})
	v.RegisterStructValidation(documentRules, Document{})
	return v
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// dossierRules checks what spans fields: the risk class must exist under the
// regulation, implantables exist only under the MDR in classes IIa and up,
// and only self-certified classes may omit the notified body.
func dossierRules(sl validator.StructLevel) {
	in := sl.Current().Interface().(DossierInput)
	reg, classKnown := in.Regulation, in.Regulation.HasClass(in.RiskClass)
	if reg.Known() && in.RiskClass != "" && !classKnown {
		sl.ReportError(in.RiskClass, "riskClass", "RiskClass", "risk_class", string(reg))
	}
	if in.Implantable != nil && *in.Implantable && classKnown && !reg.ImplantableClass(in.RiskClass) {
		sl.ReportError(in.Implantable, "implantable", "Implantable", "implantable_class", "")
	}
	if classKnown && in.NotifiedBody == "" && !reg.SelfCertified(in.RiskClass) {
		sl.ReportError(in.NotifiedBody, "notifiedBody", "NotifiedBody", "notified_body_required", in.RiskClass)
	}
}

// documentRules checks the section against the kind, and the file name's
// extension against the content type.
func documentRules(sl validator.StructLevel) {
	d := sl.Current().Interface().(Document)
	if d.Section == "" && d.Kind.NeedsSection() {
		sl.ReportError(d.Section, "section", "Section", "section_required", string(d.Kind))
	}
	if s, ok := regulation.SectionByID(d.Section); ok && d.Kind.Known() && !s.Holds(d.Kind) {
		sl.ReportError(d.Section, "section", "Section", "section_kind", string(d.Kind))
	}
	ext := strings.ToLower(path.Ext(d.File.Name))
	if pathExt := strings.ToLower(path.Ext(d.Path)); CheckPath(d.Path) == nil && checkSegment(d.File.Name) == nil && pathExt != ext {
		sl.ReportError(d.File.Name, "file.name", "Name", "path_ext", pathExt)
	}
	if exts, ok := contentTypes[d.File.ContentType]; ok && ext != "" && extensionKnown(ext) && !slices.Contains(exts, ext) {
		sl.ReportError(d.File.ContentType, "file.contentType", "ContentType", "content_type_ext", ext)
	}
}

// check validates v and returns every failing field, or nil. Unreadable
// names members that were sent with the wrong JSON type, and so are unset
// in v: a rule that wants a member unless its sibling is set is not
// judged beside an unreadable sibling, which was sent.
func check(v any, unreadable ...string) []FieldError {
	err := validate().Struct(v)
	if err == nil {
		return nil
	}
	var fields []FieldError
	for _, fe := range err.(validator.ValidationErrors) {
		at := pointer(fe.Namespace())
		if fe.Tag() == "required_without" && holdsAny(at[:strings.LastIndex(at, "/")], unreadable) {
			continue
		}
		fields = append(fields, FieldError{Pointer: at, Detail: message(fe)})
	}
	return fields
}

// holdsAny says whether one of ptrs is a member of the object at parent.
func holdsAny(parent string, ptrs []string) bool {
	for _, p := range ptrs {
		if rest, ok := strings.CutPrefix(p, parent+"/"); ok && !strings.Contains(rest, "/") {
			return true
		}
	}
	return false
}

// pointer turns a validator namespace such as "Document.standards[2]" or
// "Document.file.contentType" into a JSON pointer: /standards/2.
func pointer(namespace string) string {
	_, rest, _ := strings.Cut(namespace, ".")
	var tokens []string
	for part := range strings.SplitSeq(rest, ".") {
		name, index, _ := strings.Cut(part, "[")
		tokens = append(tokens, name)
		if index != "" {
			tokens = append(tokens, strings.TrimSuffix(index, "]"))
		}
	}
	return strictjson.Pointer(tokens...)
}

// message explains one failed check to a person.
func message(fe validator.FieldError) string {
	s, _ := fe.Value().(string)
	switch fe.Tag() {
	case "required":
		if fe.Kind() == reflect.Int64 {
			return "is required: the file's size, at least 1 byte (empty files are not evidence)"
		}
		return "is required"
	case "max":
		if fe.Kind() == reflect.Slice {
			return "must have at most " + fe.Param() + " entries"
		}
		if fe.Kind() == reflect.Int64 {
			return "must be at most " + fe.Param() + " bytes (5 TiB, the largest object S3 keeps)"
		}
		return "must be at most " + fe.Param() + " characters"
	case "min":
		if fe.Kind() == reflect.Slice {
			return "must have at least " + fe.Param() + " entry"
		}
		return "must be at least " + fe.Param() + " byte; empty files are not evidence"
	case "oneof":
		return "must be one of " + strings.Join(strings.Fields(fe.Param()), ", ")
	case "calendar_date":
		return checkDate(s, time.Now()).Error()
	case "basic_udi_di":
		return regulation.CheckBasicUDIDI(s).Error()
	case "notified_body":
		return "must be the notified body's 4-digit number, such as 0197"
	case "text":
		return checkText(s).Error()
	case "doc_path":
		return CheckPath(s).Error()
	case "file_name":
		return checkSegment(s).Error()
	case "kind":
		return "must be one of " + strings.Join(kindNames(), ", ")
	case "section":
		return "is not a known section; use an id such as MDR-II-6.1, IVDR-III-1.1 or AIA-IV-2 (see docs/metadata.md)"
	case "iso639_1":
		return "must be a two-letter ISO 639-1 language code in lower case, such as en or de"
	case "standard":
		return "must be a standard's designation, such as IEC 62304:2006+A1:2015"
	case "sha256_hex":
		return "must be the file's SHA-256 as 64 hexadecimal characters"
	case "content_type":
		return "must be one of the accepted media types: " + strings.Join(slices.Sorted(maps.Keys(contentTypes)), ", ")
	case "risk_class":
		return fmt.Sprintf("must be a %s risk class: %s", fe.Param(), strings.Join(regulation.Regulation(fe.Param()).RiskClasses(), ", "))
	case "implantable_class":
		return "implantable devices are MDR devices of class IIa, IIb or III"
	case "notified_body_required":
		return "is required for class " + fe.Param() + " devices, which a notified body certifies"
	case "section_required":
		return fe.Param() + " documents must name the Annex II, III or IV section they belong to"
	case "section_kind":
		sec, _ := regulation.SectionByID(s)
		return fmt.Sprintf("%s (%s) does not hold %s documents", sec.ID, sec.Title, fe.Param())
	case "path_ext":
		ext := fe.Param()
		if ext == "" {
			ext = "no extension"
		}
		return fmt.Sprintf("must have the extension of the document's path (%s): the path is what the receipt names and the file name an export gives it", ext)
	case "dossier_or_all":
		return "must be a dossier id (dos_…) or * for every dossier of the tenant"
	case "email_address":
		return "must be an e-mail address"
	case "subject":
		return "must be 1 to 256 printable ASCII characters, the auditor's token subject"
	case "required_without":
		return "is required: name the auditor by email or by subject"
	case "excluded_with":
		return "name the auditor by email or by subject, not both"
	case "unique":
		return "must not repeat a dossier"
	case "content_type_ext":
		return fmt.Sprintf("does not match the file name's extension %s", fe.Param())
	}
	return "is invalid (" + fe.Tag() + ")"
}

func kindNames() []string {
	var names []string
	for _, k := range regulation.Kinds() {
		names = append(names, string(k))
	}
	return names
}

// CheckDocument returns the problems of doc alone, without its dossier:
// for reporting them beside a body's type errors, the members of which
// (unreadable: JSON pointers) doc lacks.
func CheckDocument(doc Document, unreadable ...string) []FieldError {
	doc.normalize()
	return check(doc, unreadable...)
}

// CheckDossier returns every problem of a dossier's fields.
func CheckDossier(in DossierInput, unreadable ...string) []FieldError {
	return check(in, unreadable...)
}

// CheckInput checks any of the vault's request bodies (a pointer to one) by
// its validation rules, as the service will: every bad field.
func CheckInput(v any, unreadable ...string) []FieldError { return check(v, unreadable...) }

// ValidateDocument normalizes doc and returns every problem with it, alone
// and as a document of dossier d, one entry per field. Clients call it to
// refuse bad metadata before sending any byte; the service calls it again.
func ValidateDocument(doc *Document, d Dossier) []FieldError {
	doc.normalize()
	return append(check(*doc), fitsDossier(*doc, d)...)
}

// fitsDossier checks a document against its dossier: sections of the
// dossier's regulation only, and AI Act documentation only for high-risk AI
// systems.
func fitsDossier(doc Document, d Dossier) []FieldError {
	var fields []FieldError
	if sec, ok := regulation.SectionByID(doc.Section); ok {
		switch reg := sec.Regulation(); {
		case reg == regulation.AIAct && !d.HighRiskAI:
			fields = append(fields, FieldError{"/section", sec.ID + " is AI Act documentation, but dossier " + d.ID + " is not a high-risk AI system"})
		case reg != regulation.AIAct && reg != string(d.Regulation):
			fields = append(fields, FieldError{"/section", sec.ID + " belongs to the " + reg + ", but dossier " + d.ID + " is under the " + string(d.Regulation)})
		}
	}
	if doc.Kind == regulation.KindAIActTechnicalDocumentation && !d.HighRiskAI {
		fields = append(fields, FieldError{"/kind", "AI Act technical documentation needs a dossier for a high-risk AI system"})
	}
	return fields
}
