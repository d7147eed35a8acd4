package vault

import (
	"fmt"
	"maps"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"golang.org/x/text/unicode/norm"
)

// validate holds the domain checks, registered once as custom validators.
// (Built on first use: a Lambda cold start that validates nothing, such as
// GET /v1/keys or a seal, does not pay for it.)
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
		"basic_udi_di":  func(s string) bool { return CheckBasicUDIDI(s) == nil },
		"notified_body": notifiedBodyPattern.MatchString,
		"text":          func(s string) bool { return checkText(s) == nil },
		"doc_path":      func(s string) bool { return CheckPath(s) == nil },
		"file_name":     func(s string) bool { return checkSegment(s) == nil },
		"kind":          func(s string) bool { return allKinds[Kind(s)] },
		"section":       func(s string) bool { _, ok := section(s); return ok },
		"iso639_1":      func(s string) bool { return iso639_1[s] },
		"standard":      func(s string) bool { return standardPattern().MatchString(s) },
		"sha256_hex":    validSHA256,
		"content_type":  func(s string) bool { _, ok := contentTypes[s]; return ok },
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

var (
	notifiedBodyPattern = regexp.MustCompile(`^[0-9]{4}$`)
	// standardPattern matches designations such as IEC 62304:2006+A1:2015,
	// EN ISO 14971:2019+A11:2021, ISO/IEC TR 24027:2021 or
	// ANSI/AAMI ES60601-1:2005/Amd 2:2021: issuing bodies, a number with
	// parts, an optional year, and amendments or corrigenda.
	standardPattern = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[A-Z]{2,6}(?:/[A-Z]{2,6})*(?: [A-Z]{2,6}(?:/[A-Z]{2,6})*)* [A-Z]{0,3}[0-9][0-9A-Z]*(?:[.-][0-9A-Z]+)*(?::[0-9]{4}(?:-[0-9]{2})?)?(?:[+/](?:A|AC|Amd|AMD|Cor|COR) ?[0-9]{0,2}:[0-9]{4})*$`)
	})
)

// dossierRules checks what spans fields: the risk class must exist under the
// regulation, implantables exist only under the MDR in classes IIa and up,
// and only self-certified classes may omit the notified body.
func dossierRules(sl validator.StructLevel) {
	in := sl.Current().Interface().(DossierInput)
	classes, known := riskClasses[in.Regulation]
	if known && in.RiskClass != "" && !slices.Contains(classes, in.RiskClass) {
		sl.ReportError(in.RiskClass, "riskClass", "RiskClass", "risk_class", string(in.Regulation))
	}
	if in.Implantable != nil && *in.Implantable && known && slices.Contains(classes, in.RiskClass) &&
		(in.Regulation != MDR || !slices.Contains([]string{"IIa", "IIb", "III"}, in.RiskClass)) {
		sl.ReportError(in.Implantable, "implantable", "Implantable", "implantable_class", "")
	}
	selfCertified := (in.Regulation == MDR && in.RiskClass == "I") || (in.Regulation == IVDR && in.RiskClass == "A")
	if known && in.NotifiedBody == "" && !selfCertified && slices.Contains(classes, in.RiskClass) {
		sl.ReportError(in.NotifiedBody, "notifiedBody", "NotifiedBody", "notified_body_required", in.RiskClass)
	}
}

// documentRules checks the section against the kind, and the file name's
// extension against the content type.
func documentRules(sl validator.StructLevel) {
	d := sl.Current().Interface().(Document)
	if d.Section == "" && kindsNeedingSection[d.Kind] {
		sl.ReportError(d.Section, "section", "Section", "section_required", string(d.Kind))
	}
	if s, ok := section(d.Section); ok && allKinds[d.Kind] && !slices.Contains(s.Kinds, d.Kind) {
		sl.ReportError(d.Section, "section", "Section", "section_kind", string(d.Kind))
	}
	ext := strings.ToLower(path.Ext(d.File.Name))
	if exts, ok := contentTypes[d.File.ContentType]; ok && ext != "" && extensionKnown(ext) && !slices.Contains(exts, ext) {
		sl.ReportError(d.File.ContentType, "file.contentType", "ContentType", "content_type_ext", ext)
	}
}

func extensionKnown(ext string) bool {
	for _, exts := range contentTypes {
		if slices.Contains(exts, ext) {
			return true
		}
	}
	return false
}

// check validates v and returns every failing field, or nil.
func check(v any) []FieldError {
	err := validate().Struct(v)
	if err == nil {
		return nil
	}
	var fields []FieldError
	for _, fe := range err.(validator.ValidationErrors) {
		fields = append(fields, FieldError{Pointer: pointer(fe.Namespace()), Detail: message(fe)})
	}
	return fields
}

// pointer turns a validator namespace such as "Document.standards[2]" or
// "Document.file.contentType" into a JSON pointer: /standards/2.
func pointer(namespace string) string {
	_, rest, _ := strings.Cut(namespace, ".")
	var b strings.Builder
	for part := range strings.SplitSeq(rest, ".") {
		name, index, _ := strings.Cut(part, "[")
		b.WriteString("/" + escapePointer(name))
		if index != "" {
			b.WriteString("/" + strings.TrimSuffix(index, "]"))
		}
	}
	return b.String()
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// message explains one failed check to a person.
func message(fe validator.FieldError) string {
	s, _ := fe.Value().(string)
	switch fe.Tag() {
	case "required":
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
		return "must be at least " + fe.Param() + " byte; empty files are not evidence"
	case "oneof":
		return "must be one of " + strings.Join(strings.Fields(fe.Param()), ", ")
	case "datetime":
		return "must be a calendar date written YYYY-MM-DD"
	case "basic_udi_di":
		return CheckBasicUDIDI(s).Error()
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
		return fmt.Sprintf("must be a %s risk class: %s", fe.Param(), strings.Join(riskClasses[Regulation(fe.Param())], ", "))
	case "implantable_class":
		return "implantable devices are MDR devices of class IIa, IIb or III"
	case "notified_body_required":
		return "is required for class " + fe.Param() + " devices, which a notified body certifies"
	case "section_required":
		return fe.Param() + " documents must name the Annex II, III or IV section they belong to"
	case "section_kind":
		sec, _ := section(s)
		return fmt.Sprintf("%s (%s) does not hold %s documents", sec.ID, sec.Title, fe.Param())
	case "content_type_ext":
		return fmt.Sprintf("does not match the file name's extension %s", fe.Param())
	}
	return "is invalid (" + fe.Tag() + ")"
}

func kindNames() []string {
	names := make([]string, 0, len(allKinds))
	for k := range allKinds {
		names = append(names, string(k))
	}
	slices.Sort(names)
	return names
}

// Path limits keep a document's object key, and its path inside an export
// bundle, well inside S3's 1,024-byte keys and common file systems.
const (
	MaxPathBytes    = 512
	MaxSegmentBytes = 255
	MaxPathDepth    = 16
)

// CheckPath reports why p is not a safe document path: relative, with
// '/'-separated segments that are each a safe file name, in Unicode NFC.
func CheckPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("must not be empty")
	case len(p) > MaxPathBytes:
		return fmt.Errorf("must be at most %d bytes long, is %d", MaxPathBytes, len(p))
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("must be relative to the dossier: remove the leading /")
	}
	segments := strings.Split(p, "/")
	if len(segments) > MaxPathDepth {
		return fmt.Errorf("must have at most %d segments, has %d", MaxPathDepth, len(segments))
	}
	for i, seg := range segments {
		if err := checkSegment(seg); err != nil {
			return fmt.Errorf("segment %d: %w", i+1, err)
		}
	}
	return nil
}

// windowsReserved are device names Windows will not create as files; an
// auditor unpacking an export bundle there would lose the document.
var windowsReserved = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?$`)
})

// checkSegment reports why s is not a safe file or folder name.
func checkSegment(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("must not be empty (no // and no trailing /)")
	case s == "." || s == "..":
		return fmt.Errorf("must not be . or .., paths may not leave their folder")
	case len(s) > MaxSegmentBytes:
		return fmt.Errorf("must be at most %d bytes long", MaxSegmentBytes)
	case strings.ContainsAny(s, `/\:*?"<>|`):
		return fmt.Errorf(`must not contain any of / \ : * ? " < > |`)
	case strings.HasSuffix(s, ".") || strings.HasSuffix(s, " "):
		return fmt.Errorf("must not end with a dot or a space")
	case windowsReserved().MatchString(s):
		return fmt.Errorf("%q is a reserved device name on Windows", s)
	}
	return checkText(s)
}

// checkText reports why s is not clean text: valid UTF-8 in NFC, without
// control, format (invisible) or unassigned characters, without spaces other
// than U+0020, and without surrounding spaces.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("must be valid UTF-8")
	}
	for i, r := range s {
		if invisible(r) {
			return fmt.Errorf("must not contain control or invisible characters: %U at byte %d", r, i)
		}
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("must not begin or end with a space")
	}
	if !norm.NFC.IsNormalString(s) {
		return fmt.Errorf("must be in Unicode NFC (composed) form; normalize it before sending")
	}
	return nil
}

func invisible(r rune) bool {
	if r == ' ' {
		return false
	}
	if !unicode.IsGraphic(r) || unicode.Is(unicode.Zs, r) {
		return true // controls, format characters, unassigned; odd spaces
	}
	switch {
	case r == 0x034F, r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0: // grapheme joiner, Hangul fillers
		return true
	case 0xFE00 <= r && r <= 0xFE0F, 0xE0100 <= r && r <= 0xE01EF: // variation selectors
		return true
	}
	return false
}

// CheckBasicUDIDI reports why id is not a GS1 Global Model Number used as a
// Basic UDI-DI: a GS1 Company Prefix (at least 5 digits here, as GS1's
// reference implementation requires), a model reference from GS1's character
// set 82, and a check character pair, 25 characters at most (GS1 General
// Specifications 3.6.13 and 7.9.5).
func CheckBasicUDIDI(id string) error {
	switch n := utf8.RuneCountInString(id); {
	case n < 8:
		return fmt.Errorf("is too short for a GS1 Basic UDI-DI (Global Model Number): at least 8 characters")
	case n > 25:
		return fmt.Errorf("is too long for a GS1 Basic UDI-DI (Global Model Number): at most 25 characters")
	}
	for i, r := range []rune(id) {
		if r > 0x7f || strings.IndexByte(cset82, byte(r)) < 0 {
			return fmt.Errorf("character %d (%q) is not in GS1's character set 82", i+1, r)
		}
	}
	for i := range 5 {
		if id[i] < '0' || id[i] > '9' {
			return fmt.Errorf("must start with the GS1 Company Prefix: the first 5 characters must be digits")
		}
	}
	body, pair := id[:len(id)-2], id[len(id)-2:]
	for i := 0; i < 2; i++ {
		if strings.IndexByte(cset32, pair[i]) < 0 {
			return fmt.Errorf("check character %d (%q) is not in GS1's character set 32", len(body)+i+1, pair[i])
		}
	}
	if want := gmnCheckPair(body); pair != want {
		return fmt.Errorf("check characters %q do not match the model number; expected %q", pair, want)
	}
	return nil
}

const (
	cset82 = `!"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`
	cset32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
)

// gmnWeights are the first 23 primes, largest first; the last character of a
// model number is weighted 2 (GS1 General Specifications 7.9.5).
var gmnWeights = [...]int{83, 79, 73, 71, 67, 61, 59, 53, 47, 43, 41, 37, 31, 29, 23, 19, 17, 13, 11, 7, 5, 3, 2}

// gmnCheckPair computes the check character pair of a GMN without it: the
// weighted sum of character values modulo 1021, split into two 5-bit values.
func gmnCheckPair(body string) string {
	offset := len(gmnWeights) - len(body)
	sum := 0
	for i := 0; i < len(body); i++ {
		sum += strings.IndexByte(cset82, body[i]) * gmnWeights[offset+i]
	}
	sum %= 1021
	return string([]byte{cset32[sum/32], cset32[sum%32]})
}

// iso639_1 holds the two-letter codes of ISO 639-1.
var iso639_1 = func() map[string]bool {
	const codes = "aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy " +
		"da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz " +
		"ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv " +
		"mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu " +
		"rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty " +
		"ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"
	m := map[string]bool{}
	for _, c := range strings.Fields(codes) {
		m[c] = true
	}
	return m
}()

// retentionYears is how long a dossier's evidence stays locked.
func retentionYears(implantable bool) int {
	if implantable {
		return RetentionYearsImplantable
	}
	return RetentionYears
}

// ContentTypeFor returns the accepted media type for a file name's
// extension, or "" if the extension is not one the vault knows. (.xml has
// two; application/xml is given.)
func ContentTypeFor(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if ext == "" {
		return ""
	}
	for _, ct := range slices.Sorted(maps.Keys(contentTypes)) {
		if slices.Contains(contentTypes[ct], ext) {
			return ct
		}
	}
	return ""
}
