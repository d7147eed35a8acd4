package evault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/evidencevault/vault/internal/strictjson"
	"github.com/evidencevault/vault/internal/vault"
	"go.yaml.in/yaml/v3"
)

// evidenceManifest is evidence.yaml: the metadata of each file of a folder.
//
//	dossier: dos_f62rtken3pg7wzh3     # optional; --dossier wins
//	defaults:                         # for every file that does not set its own
//	  language: en
//	  revision: A
//	files:
//	  - file: reports/sv.pdf          # relative to the folder
//	    path: test-reports/software-validation.pdf   # in the dossier; default: file
//	    title: Software validation report
//	    kind: test-report
//	    section: MDR-II-6.1
//	    effectiveDate: "2026-11-01"
//	    standards: ["IEC 62304:2006+A1:2015"]
//	    author: QA
type evidenceManifest struct {
	Dossier  string      `yaml:"dossier"`
	Defaults yaml.Node   `yaml:"defaults"`
	Files    []yaml.Node `yaml:"files"`
}

// planned is one file of an upload with its metadata.
type planned struct {
	file string
	doc  vault.Document
	// todayByDefault: the effective date was not given and is today's,
	// unless the document's latest version has these bytes (uploadOne).
	todayByDefault bool
	// fields are the problems found before anything was sent.
	fields []vault.FieldError
}

// readManifest reads a manifest and returns each file's metadata; fields a
// document cannot have are reported per file, as JSON pointers.
func readManifest(dir, path string) (string, []planned, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, exit(ExitInvalid, "manifest: %v", err)
	}
	return parseManifest(dir, path, data)
}

// parseManifest parses manifest bytes read from path.
func parseManifest(dir, path string, data []byte) (string, []planned, error) {
	var m evidenceManifest
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return "", nil, exit(ExitInvalid, "manifest %s: %v", path, err)
	}
	if len(m.Files) == 0 {
		return "", nil, exit(ExitInvalid, "manifest %s lists no files", path)
	}
	budget := maxManifestNodes // for the whole manifest, aliases and all
	defaults, err := members(&m.Defaults, &budget)
	if err != nil {
		return "", nil, exit(ExitInvalid, "manifest %s: defaults: %v", path, err)
	}
	var out []planned
	for i := range m.Files {
		entry, err := members(&m.Files[i], &budget)
		if err != nil {
			return "", nil, exit(ExitInvalid, "manifest %s: files[%d]: %v", path, i, err)
		}
		fields := map[string]any{}
		for k, v := range defaults {
			fields[k] = v
		}
		for k, v := range entry {
			fields[k] = v
		}
		file, _ := fields["file"].(string)
		delete(fields, "file")
		p := planned{file: filepath.Join(dir, filepath.FromSlash(file))}
		if file == "" {
			p.file = fmt.Sprintf("%s: files[%d]", path, i)
			p.fields = append(p.fields, vault.FieldError{Pointer: "/file", Detail: "is required: the file's name in the folder"})
			out = append(out, p)
			continue
		}
		if _, ok := fields["path"]; !ok {
			fields["path"] = file
		}
		doc, problems := documentFrom(fields)
		p.doc, p.fields = doc, problems
		out = append(out, p)
	}
	return m.Dossier, out, nil
}

// members reads a mapping of the manifest as the JSON the API takes. A
// YAML timestamp (2026-11-01, or 2026-11-01T23:30:00-05:00) stays the
// text it was written as: the API, not YAML, reads dates.
func members(n *yaml.Node, budget *int) (map[string]any, error) {
	if n.Kind == 0 || n.ShortTag() == "!!null" {
		return nil, nil // absent
	}
	v, err := plain(n, 0, budget)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("line %d: must be a mapping of document fields", n.Line)
	}
	return m, nil
}

// maxManifestNodes and maxManifestDepth bound what aliases can make of a
// manifest: an alias of itself, or aliases of aliases (billion laughs).
const (
	maxManifestNodes = 100_000
	maxManifestDepth = 32
)

func plain(n *yaml.Node, depth int, budget *int) (any, error) {
	if *budget--; *budget < 0 || depth > maxManifestDepth {
		return nil, fmt.Errorf("line %d: nested or aliased too deeply", n.Line)
	}
	switch n.Kind {
	case yaml.AliasNode:
		return plain(n.Alias, depth+1, budget)
	case yaml.ScalarNode:
		if n.ShortTag() == "!!timestamp" {
			return n.Value, nil
		}
	case yaml.SequenceNode:
		out := []any{}
		for _, c := range n.Content {
			v, err := plain(c, depth+1, budget)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := map[string]any{}
		var merged []map[string]any // from << keys: what the mapping does not set
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, c := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
				v, err := plain(c, depth+1, budget)
				if err != nil {
					return nil, err
				}
				ms, ok := mappings(v)
				if !ok {
					return nil, fmt.Errorf("line %d: << takes a mapping or a list of mappings", k.Line)
				}
				merged = append(merged, ms...)
				continue
			}
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a key must be a plain name", k.Line)
			}
			if _, dup := out[k.Value]; dup {
				return nil, fmt.Errorf("line %d: %s is given twice", k.Line, k.Value)
			}
			v, err := plain(c, depth+1, budget)
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		// YAML's merge: the mapping's own keys win, then earlier merges.
		for _, m := range merged {
			for k, v := range m {
				if _, have := out[k]; !have {
					out[k] = v
				}
			}
		}
		return out, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("line %d: %v", n.Line, err)
	}
	return v, nil
}

// mappings is v as the value of a merge key: one mapping, or a list of them.
func mappings(v any) ([]map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return []map[string]any{x}, true
	case []any:
		var out []map[string]any
		for _, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, false
			}
			out = append(out, m)
		}
		return out, true
	}
	return nil, false
}

// documentFrom turns manifest fields into a Document by way of its JSON
// form, read as the API reads a body (strictjson): names exactly as the
// API's, and every unknown field and wrong type reported, each by its
// pointer.
func documentFrom(fields map[string]any) (vault.Document, []vault.FieldError) {
	data, err := json.Marshal(fields)
	if err != nil {
		return vault.Document{}, []vault.FieldError{{Pointer: "", Detail: err.Error()}}
	}
	var doc vault.Document
	err = strictjson.Unmarshal(data, &doc)
	var se *strictjson.Error
	if err == nil {
		return doc, nil
	}
	if !errors.As(err, &se) {
		return doc, []vault.FieldError{{Pointer: "", Detail: err.Error()}}
	}
	var out []vault.FieldError
	for _, p := range se.Problems {
		detail := p.Detail
		if p.Kind == strictjson.ErrUnknownField {
			detail = "is not a document field"
		}
		out = append(out, vault.FieldError{Pointer: p.Pointer, Detail: detail})
	}
	slices.SortFunc(out, func(a, b vault.FieldError) int { return strings.Compare(a.Pointer, b.Pointer) })
	return doc, out
}
