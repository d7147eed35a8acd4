package vault

import (
	"os"
	"strings"
	"testing"

	"github.com/evidencevault/vault/internal/regulation"
)

// TestMetadataDocListsEverySection keeps docs/metadata.md in step with the
// sections and kinds the validator accepts.
func TestMetadataDocListsEverySection(t *testing.T) {
	data, err := os.ReadFile("../../docs/metadata.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, s := range regulation.Sections {
		var kinds []string
		for _, k := range s.Kinds {
			kinds = append(kinds, string(k))
		}
		row := "| " + s.ID + " | " + s.Title + " | " + strings.Join(kinds, ", ") + " |"
		if !strings.Contains(doc, row) {
			t.Errorf("docs/metadata.md lacks the row\n%s", row)
		}
	}
	for _, k := range regulation.Kinds() {
		if !strings.Contains(doc, "`"+string(k)+"`") {
			t.Errorf("docs/metadata.md does not name kind %s", k)
		}
	}
	for ct := range contentTypes {
		if !strings.Contains(doc, ct) {
			t.Errorf("docs/metadata.md does not name content type %s", ct)
		}
	}
}
