package evault

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseManifest(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		paths    []string
		pointers []string // of the first entry's problems
		err      string
	}{
		{"defaults and path", "defaults:\n  author: QA\nfiles:\n  - file: a/b.pdf\n    title: B\n", []string{"a/b.pdf"}, nil, ""},
		{"own path", "files:\n  - file: b.pdf\n    path: reports/b.pdf\n", []string{"reports/b.pdf"}, nil, ""},
		{"date as YAML date", "files:\n  - file: b.pdf\n    effectiveDate: 2026-11-01\n", []string{"b.pdf"}, nil, ""},
		{"unknown field", "files:\n  - file: b.pdf\n    colour: red\n", []string{""}, []string{"/colour"}, ""},
		{"wrong type", "files:\n  - file: b.pdf\n    standards: ISO 13485\n", []string{""}, []string{"/standards"}, ""},
		{"no file", "files:\n  - title: B\n", []string{""}, []string{"/file"}, ""},
		{"unknown top-level key", "dossiers: x\nfiles: []\n", nil, nil, "field dossiers not found"},
		{"no files", "dossier: dos_x\n", nil, nil, "lists no files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, plan, err := parseManifest("dir", "evidence.yaml", []byte(tt.yaml))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(plan) != len(tt.paths) {
				t.Fatalf("got %d entries, want %d", len(plan), len(tt.paths))
			}
			var got []string
			for _, f := range plan[0].fields {
				got = append(got, f.Pointer)
			}
			if strings.Join(got, ",") != strings.Join(tt.pointers, ",") {
				t.Errorf("got problems at %v, want %v", got, tt.pointers)
			}
			if tt.pointers == nil && plan[0].doc.Path != tt.paths[0] {
				t.Errorf("got path %q, want %q", plan[0].doc.Path, tt.paths[0])
			}
		})
	}
}

// FuzzParseManifest: evidence.yaml comes from users' folders; no input may
// crash the CLI, and every entry either has metadata or names its problems.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte("defaults:\n  author: QA\nfiles:\n  - file: a.pdf\n    title: A\n    effectiveDate: 2026-11-01\n"))
	f.Add([]byte("files:\n  - file: [1, 2]\n    path: {a: b}\n"))
	f.Add([]byte("files: &a\n  - *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, plan, err := parseManifest("dir", "evidence.yaml", data)
		if err != nil {
			return
		}
		for _, p := range plan {
			if p.file == "" {
				t.Errorf("an entry without a file name: %+v", p)
			}
		}
	})
}

// The manifest is read as the API reads a body: names exactly, every
// problem listed, and what YAML takes for a timestamp kept as written.
func TestManifestIsStrict(t *testing.T) {
	tests := []struct {
		name, yaml string
		pointers   []string
		title      string
	}{
		{"a case variant of title", "defaults:\n  title: From defaults\nfiles:\n  - file: b.txt\n    Title: From entry\n", []string{"/Title"}, ""},
		{"two unknown fields", "files:\n  - file: b.txt\n    colour: red\n    shape: round\n", []string{"/colour", "/shape"}, ""},
		{"two wrong types", "files:\n  - file: b.txt\n    standards: ISO 13485\n    title: [a]\n", []string{"/standards", "/title"}, ""},
		{"a timestamp as a title", "files:\n  - file: b.txt\n    title: 2026-11-01T23:30:00-05:00\n", nil, "2026-11-01T23:30:00-05:00"},
		{"a date as a title", "files:\n  - file: b.txt\n    title: 2026-11-01\n", nil, "2026-11-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, plan, err := parseManifest("dir", "evidence.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range plan[0].fields {
				got = append(got, f.Pointer)
			}
			if strings.Join(got, " ") != strings.Join(tt.pointers, " ") {
				t.Errorf("got problems at %v, want %v", got, tt.pointers)
			}
			if tt.title != "" && plan[0].doc.Title != tt.title {
				t.Errorf("got title %q, want %q", plan[0].doc.Title, tt.title)
			}
		})
	}
	for _, bad := range []string{"files:\n  - file: b.txt\n    title: A\n    title: B\n", "defaults: [1]\nfiles:\n  - file: b.txt\n"} {
		if _, _, err := parseManifest("dir", "evidence.yaml", []byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// A merge key (<<) brings an anchored entry's fields, the entry's own
// winning; and aliases cannot make a small manifest huge: one budget of
// nodes bounds the whole manifest, not each entry.
func TestManifestMergesAndBoundsAliases(t *testing.T) {
	m := "files:\n  - &first\n    file: a.txt\n    title: A\n    kind: test-report\n    section: MDR-II-6.1\n  - <<: *first\n    file: b.txt\n    title: B\n"
	_, plan, err := parseManifest("dir", "evidence.yaml", []byte(m))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 2 || plan[1].doc.Kind != "test-report" || plan[1].doc.Title != "B" || plan[1].doc.Path != "b.txt" {
		t.Errorf("got %+v, want b.txt with A's kind and its own title", plan)
	}
	var b strings.Builder
	b.WriteString("files:\n  - file: a.txt\n    standards: &big [")
	b.WriteString(strings.Repeat("x,", 9000) + "x]\n")
	for i := range 100 {
		fmt.Fprintf(&b, "  - {file: f%d.txt, standards: *big}\n", i)
	}
	if _, _, err := parseManifest("dir", "evidence.yaml", []byte(b.String())); err == nil || !strings.Contains(err.Error(), "too deeply") {
		t.Errorf("a %d-byte manifest that aliases 900,000 nodes: got %v, want refused", b.Len(), err)
	}
}
