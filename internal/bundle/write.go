package bundle

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
)

//go:embed VERIFY.md.tmpl
var verifyTemplate string

var verifyDoc = template.Must(template.New("verify").Parse(verifyTemplate))

// Writer writes a bundle into a new directory or ZIP file.
type Writer struct {
	dir  string
	zf   *os.File
	zw   *zip.Writer
	sums map[string]string
}

// Create starts a bundle at out: a ZIP file if out ends in .zip, else a
// directory, which must not exist yet or be empty.
func Create(out string) (*Writer, error) {
	w := &Writer{sums: map[string]string{}}
	if strings.EqualFold(filepath.Ext(out), ".zip") {
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return nil, fmt.Errorf("bundle: %w", err)
		}
		w.zf, w.zw = f, zip.NewWriter(f)
		return w, nil
	}
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("bundle: %s exists and is not empty", out)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	w.dir = out
	return w, nil
}

// Add writes one file and records its SHA-256.
func (w *Writer) Add(name string, r io.Reader) (sha string, n int64, err error) {
	if !validName(name) {
		return "", 0, fmt.Errorf("bundle: bad entry name %q", name)
	}
	var dst io.Writer
	var f *os.File
	if w.zw != nil {
		if dst, err = w.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store}); err != nil {
			return "", 0, fmt.Errorf("bundle: %w", err)
		}
	} else {
		p := filepath.Join(w.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", 0, fmt.Errorf("bundle: %w", err)
		}
		if f, err = os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
			return "", 0, fmt.Errorf("bundle: %w", err)
		}
		defer f.Close()
		dst = f
	}
	h := sha256.New()
	if n, err = io.CopyBuffer(io.MultiWriter(dst, h), r, make([]byte, 1<<20)); err != nil {
		return "", 0, fmt.Errorf("bundle: write %s: %w", name, err)
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return "", 0, fmt.Errorf("bundle: write %s: %w", name, err)
		}
	}
	sha = hex.EncodeToString(h.Sum(nil))
	w.sums[name] = sha
	return sha, n, nil
}

// Close writes VERIFY.md, the manifest and SHA256SUMS, and finishes the
// bundle.
func (w *Writer) Close(m Manifest) error {
	m.Format = Format
	var doc bytes.Buffer
	if err := verifyDoc.Execute(&doc, m); err != nil {
		return fmt.Errorf("bundle: VERIFY.md: %w", err)
	}
	if _, _, err := w.Add(VerifyFile, &doc); err != nil {
		return err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("bundle: manifest: %w", err)
	}
	if _, _, err := w.Add(ManifestFile, bytes.NewReader(append(data, '\n'))); err != nil {
		return err
	}
	var sums bytes.Buffer
	for _, name := range slices.Sorted(maps.Keys(w.sums)) {
		fmt.Fprintf(&sums, "%s  %s\n", w.sums[name], name)
	}
	delete(w.sums, SumsFile)
	if _, _, err := w.Add(SumsFile, &sums); err != nil {
		return err
	}
	if w.zw != nil {
		return errors.Join(w.zw.Close(), w.zf.Close())
	}
	return nil
}

// Abort removes what was written.
func (w *Writer) Abort() {
	if w.zw != nil {
		w.zf.Close()
		os.Remove(w.zf.Name())
		return
	}
	os.RemoveAll(w.dir)
}

// validName accepts slash-separated relative names without . or ..
// segments: what a vault document path yields.
func validName(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") {
		return false
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
