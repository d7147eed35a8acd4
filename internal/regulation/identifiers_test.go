package regulation

import (
	"strings"
	"testing"
)

func TestCheckBasicUDIDI(t *testing.T) {
	// Vectors from GS1's GMN reference implementation (gs1/gmn-helpers),
	// the first from the GS1 General Specifications.
	valid := []string{
		"1987654Ad4X4bL5ttr2310c2K",
		"12345ANJ",
		"12345678901234567890123NT",
		"12345_ABCDEFGHIJKLMCP",
		"12345_abcdefghijklmN3",
		`12345_!"%&'()*+,-./LC`,
		"12345_0123456789:;<=>?62",
		"00000!HV",
		"99999zzzzzzzzzzzzzzzzzzT2",
		"7907665Bm8v2AB",
	}
	for _, id := range valid {
		if err := CheckBasicUDIDI(id); err != nil {
			t.Errorf("CheckBasicUDIDI(%q) = %v, want nil", id, err)
		}
	}
	invalid := []struct{ id, want string }{
		{"1987654Ad4X4bL5ttr2310cXK", `expected "2K"`},
		{"1987654Ad4X4bL5ttr2310c2X", `expected "2K"`},
		{"X987654Ad4X4bL5ttr2310c2K", "first 5 characters must be digits"},
		{"1987X54Ad4X4bL5ttr2310c2K", "first 5 characters must be digits"},
		{"198765£Ad4X4bL5ttr2310c2K", "character set 82"},
		{"1987654Ad4X4bL5ttr2310cxK", "character set 32"},
		{"12345XX", "too short"},
		{"123456789012345678901234XX", "too long"},
		{"", "too short"},
	}
	for _, tt := range invalid {
		err := CheckBasicUDIDI(tt.id)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckBasicUDIDI(%q) = %v, want an error saying %q", tt.id, err, tt.want)
		}
	}
}

func TestGMNCheckPair(t *testing.T) {
	tests := []struct{ body, want string }{
		{"1987654Ad4X4bL5ttr2310c", "2K"},
		{"12345A", "NJ"},
		{"12345678901234567890123", "NT"},
	}
	for _, tt := range tests {
		if got := gmnCheckPair(tt.body); got != tt.want {
			t.Errorf("gmnCheckPair(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func FuzzCheckBasicUDIDI(f *testing.F) {
	f.Add("1987654Ad4X4bL5ttr2310c2K")
	f.Add("12345ANJ")
	f.Fuzz(func(t *testing.T, id string) {
		if CheckBasicUDIDI(id) != nil {
			return
		}
		if len(id) < 8 || len(id) > 25 || gmnCheckPair(id[:len(id)-2]) != id[len(id)-2:] {
			t.Fatalf("accepted %q", id)
		}
	})
}
