package regulation

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ValidNotifiedBody reports whether s is a notified body's number in the
// European Commission's NANDO database: four digits, such as 0197.
func ValidNotifiedBody(s string) bool {
	if len(s) != 4 {
		return false
	}
	for i := range 4 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
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
