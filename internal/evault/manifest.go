package evault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
	Dossier  string           `yaml:"dossier"`
	Defaults map[string]any   `yaml:"defaults"`
	Files    []map[string]any `yaml:"files"`
}

// planned is one file of an upload with its metadata.
type planned struct {
	file string
	doc  vault.Document
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
	var out []planned
	for i, entry := range m.Files {
		fields := map[string]any{}
		for k, v := range m.Defaults {
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

// documentFrom turns manifest fields into a Document by way of its JSON
// form, so that names and types are the API's; unknown fields are errors.
func documentFrom(fields map[string]any) (vault.Document, []vault.FieldError) {
	for k, v := range fields {
		// YAML reads 2026-11-01 as a date; the API wants the text.
		if s, ok := v.(interface{ Format(string) string }); ok {
			fields[k] = s.Format("2006-01-02")
		}
	}
	data, err := json.Marshal(fields)
	if err != nil {
		return vault.Document{}, []vault.FieldError{{Pointer: "", Detail: err.Error()}}
	}
	var doc vault.Document
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		detail := err.Error()
		if name, ok := strings.CutPrefix(detail, "json: unknown field "); ok {
			return doc, []vault.FieldError{{Pointer: "/" + strings.Trim(name, `"`), Detail: "is not a document field"}}
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return doc, []vault.FieldError{{Pointer: "/" + strings.ReplaceAll(te.Field, ".", "/"), Detail: "must be a " + te.Type.String()}}
		}
		return doc, []vault.FieldError{{Pointer: "", Detail: detail}}
	}
	return doc, nil
}
