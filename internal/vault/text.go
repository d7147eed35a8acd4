package vault

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

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

// standardPattern matches designations such as IEC 62304:2006+A1:2015,
// EN ISO 14971:2019+A11:2021, ISO/IEC TR 24027:2021 or
// ANSI/AAMI ES60601-1:2005/Amd 2:2021: issuing bodies, a number with parts,
// an optional year, and amendments or corrigenda.
var standardPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Z]{2,6}(?:/[A-Z]{2,6})*(?: [A-Z]{2,6}(?:/[A-Z]{2,6})*)* [A-Z]{0,3}[0-9][0-9A-Z]*(?:[.-][0-9A-Z]+)*(?::[0-9]{4}(?:-[0-9]{2})?)?(?:[+/](?:A|AC|Amd|AMD|Cor|COR) ?[0-9]{0,2}:[0-9]{4})*$`)
})

// Bounds of an effective date: one before 1900 or more than ten years ahead
// is a typing mistake (0001-01-01, 2062 for 2026), not a document's date.
const (
	earliestDate = "1900-01-01"
	datesAhead   = 10
)

// checkDate checks a calendar date written YYYY-MM-DD against its bounds,
// as of now.
func checkDate(s string, now time.Time) error {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || d.Format(time.DateOnly) != s {
		return errors.New("must be a calendar date written YYYY-MM-DD, such as 2026-03-31")
	}
	latest := now.UTC().AddDate(datesAhead, 0, 0).Format(time.DateOnly)
	if s < earliestDate || s > latest {
		return fmt.Errorf("must be from %s to %s (ten years ahead)", earliestDate, latest)
	}
	return nil
}
