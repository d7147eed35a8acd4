package regulation_test

import (
	"fmt"
	"testing"

	"github.com/evidencevault/vault/internal/regulation"
)

func TestClasses(t *testing.T) {
	tests := []struct {
		reg                                    regulation.Regulation
		class                                  string
		has, selfCertified, implantableAllowed bool
	}{
		{regulation.MDR, "I", true, true, false},
		{regulation.MDR, "Is", true, false, false},
		{regulation.MDR, "IIa", true, false, true},
		{regulation.MDR, "III", true, false, true},
		{regulation.MDR, "A", false, false, false},
		{regulation.IVDR, "A", true, true, false},
		{regulation.IVDR, "D", true, false, false},
		{regulation.IVDR, "III", false, false, false},
		{"FDA", "II", false, false, false},
	}
	for _, tt := range tests {
		if got := tt.reg.HasClass(tt.class); got != tt.has {
			t.Errorf("%s %s: HasClass got %v, want %v", tt.reg, tt.class, got, tt.has)
		}
		if got := tt.reg.SelfCertified(tt.class); got != tt.selfCertified {
			t.Errorf("%s %s: SelfCertified got %v, want %v", tt.reg, tt.class, got, tt.selfCertified)
		}
		if got := tt.reg.ImplantableClass(tt.class); got != tt.implantableAllowed {
			t.Errorf("%s %s: ImplantableClass got %v, want %v", tt.reg, tt.class, got, tt.implantableAllowed)
		}
	}
	if got := regulation.RetentionYearsFor(true); got != 15 {
		t.Errorf("implantable retention: got %d, want 15", got)
	}
}

func TestSections(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range regulation.Sections {
		if seen[s.ID] {
			t.Errorf("section %s listed twice", s.ID)
		}
		seen[s.ID] = true
		if reg := s.Regulation(); reg != "MDR" && reg != "IVDR" && reg != regulation.AIAct {
			t.Errorf("section %s belongs to %q", s.ID, reg)
		}
		for _, k := range s.Kinds {
			if !k.Known() {
				t.Errorf("section %s holds unknown kind %s", s.ID, k)
			}
		}
	}
	if s, ok := regulation.SectionByID("AIA-IV-5"); !ok || !s.Holds(regulation.KindRiskManagement) || s.Holds(regulation.KindClinicalEvidence) {
		t.Errorf("AIA-IV-5: got %+v, %v", s, ok)
	}
}

func ExampleCheckBasicUDIDI() {
	fmt.Println(regulation.CheckBasicUDIDI("1987654Ad4X4bL5ttr2310c2K"))
	fmt.Println(regulation.CheckBasicUDIDI("1987654Ad4X4bL5ttr2310c2X"))
	// Output:
	// <nil>
	// check characters "2X" do not match the model number; expected "2K"
}
