package bundle

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/strictjson"
	"github.com/evidencevault/vault/internal/vault"
)

// Item is the outcome of checking one file of a bundle.
type Item struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Report is every item Verify checked, in order.
type Report struct {
	Dossier string `json:"dossier,omitempty"`
	// Trusted says where the keys the bundle was checked with come from.
	Trusted   string `json:"trusted,omitempty"`
	Documents int    `json:"documents"`
	// Lifecycle says what the bundle proves of its documents' statuses,
	// holds and sign-offs: the proven events it carries, up to which
	// entry, or that it carries none.
	Lifecycle string `json:"lifecycle,omitempty"`
	Items     []Item `json:"items"`
}

// OK reports whether every item passed.
func (r *Report) OK() bool { return r.First() == nil }

// First returns the first item that failed, or nil.
func (r *Report) First() *Item {
	for i := range r.Items {
		if !r.Items[i].OK {
			return &r.Items[i]
		}
	}
	return nil
}

func (r *Report) add(name string, ok bool, format string, args ...any) bool {
	r.Items = append(r.Items, Item{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	return ok
}

// Verify checks a bundle offline: SHA256SUMS and the manifest, the keys
// and their history, the checkpoint's signature, each document against its
// receipt (digest, size, signature by the key of its place in the log,
// dossier, path, version, inclusion in the checkpoint), and that every file
// is listed and intact. pinned are the keys the verifier pinned: the log's
// key history must lead from one of them. Without, the history's own
// genesis key is used, which proves only that the bundle is consistent
// with itself. known, when the verifier has it, is what it already trusts
// of the log (its pin: each key's span): the bundle's history must agree
// with it. It stops at the first failure of the manifest, keys or
// checkpoint, since nothing after can be checked.
//
// policy is what the verifier requires beyond the keys: each receipt's
// timestamps must verify under its authorities, and the checkpoint must be
// cosigned by its witnesses.
func Verify(ctx context.Context, fsys fs.FS, pinned []receipt.Key, known *Known, policy vault.Policy) *Report {
	fsys = &hashedFS{FS: fsys, sums: map[string]string{}}
	r := &Report{}
	sums, ok := readSums(fsys, r)
	if !ok {
		return r
	}
	var m Manifest
	data, err := fs.ReadFile(fsys, ManifestFile)
	if err == nil {
		err = strictjson.Unmarshal(data, &m)
	}
	if !r.add(ManifestFile, err == nil && m.Format == Format, "%s", describe(err, "format "+m.Format)) {
		return r
	}
	r.Dossier, r.Documents = m.Dossier.ID, len(m.Documents)

	var carried []receipt.Key
	for _, name := range m.Keys {
		data, err := fs.ReadFile(fsys, name)
		var k receipt.Key
		if err == nil {
			k, err = receipt.ParsePublicKey(data)
		}
		if err == nil && name != KeyName(k.ID) {
			err = fmt.Errorf("holds key %s", k.ID)
		}
		if !r.add(name, err == nil, "%s", describe(err, "ECDSA P-256 public key")) {
			return r
		}
		carried = append(carried, k)
	}
	var history vault.KeyHistory
	if m.KeyHistory != "" {
		var kl vault.KeyLog
		data, err := fs.ReadFile(fsys, m.KeyHistory)
		if err == nil {
			err = strictjson.Unmarshal(data, &kl)
		}
		if err == nil && m.KeyHistory != KeyHistoryFile {
			err = fmt.Errorf("the manifest names %s, not %s", m.KeyHistory, KeyHistoryFile)
		}
		if !r.add(KeyHistoryFile, err == nil, "%s", describe(err, fmt.Sprintf("%d key events", len(kl.Events)))) {
			return r
		}
		history = kl.Events
	}
	if pinned == nil && known == nil && history == nil {
		// A bundle from before keys were logged: its own keys.
		pinned = carried
	}
	cpText, err := fs.ReadFile(fsys, CheckpointFile)
	var cp ledger.Checkpoint
	var trust vault.Trust
	switch {
	case err != nil:
	case history == nil && known != nil && len(known.Trust.Keys) > 0:
		// Bundles carry the key history since logs record one: without
		// it, a bundle cannot say which key signed when, and any key the
		// log ever had (a retired one too) would do.
		err = fmt.Errorf("the bundle carries no key history, but log %s records one (%s): it cannot show which key signed when", m.Log.Origin, known.Trust.Basis)
	default:
		trust, cp, err = vault.TrustLog(ctx, m.Log.Origin, cpText, history, pinned...)
		if err == nil && known != nil {
			err = known.agrees(m.Log.Origin, trust, cp)
		}
	}
	if err == nil && cp.Size != m.Log.Size {
		err = fmt.Errorf("checkpoint is of size %d, the manifest says %d", cp.Size, m.Log.Size)
	}
	if !r.add(CheckpointFile, err == nil, "%s", describe(err, fmt.Sprintf("signed checkpoint of %s at size %d; trusted: %s", cp.Origin, cp.Size, trust.Basis))) {
		return r
	}
	r.Trusted = trust.Basis
	trust.Policy = policy
	if policy.Witnesses != nil {
		names, err := policy.Witnesses.Check(cpText)
		if !r.add(CheckpointFile, err == nil, "%s", describe(err, "cosigned by "+strings.Join(names, ", "))) {
			return r
		}
	}
	for _, d := range m.Documents {
		checkDocument(ctx, fsys, r, m, d, trust, cpText)
	}
	checkLifecycle(ctx, fsys, r, m, trust, cp)
	checkSums(fsys, r, sums)
	return r
}

// Known is what a verifier already trusts of a bundle's log: its pin.
type Known struct {
	// Trust is each key of the log with its span, as last verified.
	Trust vault.Trust
	// Checkpoint is the newest checkpoint verified (a signed note).
	Checkpoint []byte
}

// agrees checks a bundle's keys and checkpoint against what the verifier
// knows, as far as the bundle's log reaches: each known key signs the
// same span of entries (a key introduced at entry n is the log's key from
// n, a key retired at n signs nothing from n), and a checkpoint of the
// size the verifier kept has the same tree. Otherwise the bundle's history
// is not the log's: someone holding a retired key made it.
func (k *Known) agrees(origin string, got vault.Trust, cp ledger.Checkpoint) error {
	for _, tk := range k.Trust.Keys {
		if tk.From < cp.Size && (!got.Allows(tk.Key.ID, tk.From) || tk.From > 0 && got.Allows(tk.Key.ID, tk.From-1)) {
			return fmt.Errorf("the bundle's key history does not make key %s the log's key from entry %d, as the history you pinned does (%s)", tk.Key.ID, tk.From, k.Trust.Basis)
		}
		if tk.Until >= 0 && tk.Until < cp.Size && got.Allows(tk.Key.ID, tk.Until) {
			return fmt.Errorf("the bundle's key history does not retire key %s at entry %d, as the history you pinned does (%s)", tk.Key.ID, tk.Until, k.Trust.Basis)
		}
	}
	if len(k.Checkpoint) > 0 {
		kept, err := vault.OpenTrusted(origin, k.Checkpoint, k.Trust)
		if err == nil && kept.Size == cp.Size && kept.Hash != cp.Hash {
			return fmt.Errorf("the bundle's checkpoint of size %d is not the one you kept at that size: two histories of one log", cp.Size)
		}
	}
	return nil
}

// ReadManifest reads a bundle's manifest, unverified: what Verify checks.
func ReadManifest(fsys fs.FS) (*Manifest, error) {
	data, err := fs.ReadFile(fsys, ManifestFile)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("bundle: %s: %w", ManifestFile, err)
	}
	return &m, nil
}

func describe(err error, ok string) string {
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "missing"
		}
		return err.Error()
	}
	return ok
}

// checkDocument checks one document's file and receipt.
func checkDocument(ctx context.Context, fsys fs.FS, r *Report, m Manifest, d Document, trust vault.Trust, cpText []byte) {
	if d.File != FileName(d.Path) || d.Receipt != ReceiptName(d.Path) {
		r.add(d.File, false, "the manifest places document %s at %s and %s", d.Path, d.File, d.Receipt)
		return
	}
	sum, size, err := hashFile(fsys, d.File)
	switch {
	case err != nil:
		r.add(d.File, false, "%s", describe(err, ""))
	case sum != d.SHA256 || size != d.Size:
		r.add(d.File, false, "SHA-256 %s and %d bytes; the manifest says %s and %d", sum, size, d.SHA256, d.Size)
	default:
		r.add(d.File, true, "SHA-256 %s, %d bytes", sum, size)
	}
	data, err := fs.ReadFile(fsys, d.Receipt)
	if err != nil {
		r.add(d.Receipt, false, "%s", describe(err, ""))
		return
	}
	if sum == "" { // no file: check the receipt against the manifest
		sum, size = d.SHA256, d.Size
	}
	ver, rc := vault.VerifyOffline(ctx, data, trust, sum, size)
	if !ver.Valid {
		for _, c := range ver.Checks {
			if !c.Passed {
				r.add(d.Receipt, false, "%s: %s", c.Name, c.Detail)
				return
			}
		}
	}
	p := rc.Predicate
	switch {
	case p.Dossier.ID != m.Dossier.ID || p.Document.Path != d.Path || p.Version != d.Version || p.ReceiptID != d.ReceiptID:
		r.add(d.Receipt, false, "the receipt is %s for %s version %d of dossier %s; the manifest names %s for %s version %d",
			p.ReceiptID, p.Document.Path, p.Version, p.Dossier.ID, d.ReceiptID, d.Path, d.Version)
	case rc.Log == nil || rc.Log.Index != d.LogIndex || !bytes.Equal([]byte(rc.Log.Checkpoint), cpText):
		r.add(d.Receipt, false, "the receipt's log proof is not for entry %d under %s", d.LogIndex, CheckpointFile)
	default:
		r.add(d.Receipt, true, "signed by %s; names this file, %s version %d; entry %d of the log under %s",
			ver.KeyID, d.Path, d.Version, d.LogIndex, CheckpointFile)
	}
}

// readSums parses SHA256SUMS.
func readSums(fsys fs.FS, r *Report) (map[string]string, bool) {
	data, err := fs.ReadFile(fsys, SumsFile)
	if err != nil {
		return nil, r.add(SumsFile, false, "%s", describe(err, ""))
	}
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 || !validName(name) {
			return nil, r.add(SumsFile, false, "line %d is not \"<sha256>  <name>\"", line)
		}
		sums[name] = sum
	}
	return sums, r.add(SumsFile, true, "%d files listed", len(sums))
}

// checkSums checks every listed file, and that every file is listed.
func checkSums(fsys fs.FS, r *Report, sums map[string]string) {
	names := make([]string, 0, len(sums))
	for name := range sums {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sum, _, err := hashFile(fsys, name)
		if err != nil || sum != sums[name] {
			r.add(name, false, "%s", describe(err, "SHA-256 "+sum+" is not the one SHA256SUMS lists"))
		}
	}
	fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && name != SumsFile && sums[name] == "" {
			r.add(name, false, "not listed in %s: the bundle holds a file it was not exported with", SumsFile)
		}
		return nil
	})
}

// hashedFS remembers each file's SHA-256, so that a document checked
// against its receipt is not read again for SHA256SUMS.
type hashedFS struct {
	fs.FS
	sums map[string]string
}

func hashFile(fsys fs.FS, name string) (string, int64, error) {
	hfs, _ := fsys.(*hashedFS)
	if hfs != nil {
		if sum, ok := hfs.sums[name]; ok {
			return sum, -1, nil
		}
	}
	f, err := fsys.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, f, make([]byte, 1<<20))
	if err != nil {
		return "", 0, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if hfs != nil {
		hfs.sums[name] = sum
	}
	return sum, n, nil
}

// Open opens a bundle directory or ZIP file for Verify.
func Open(path string) (fs.FS, io.Closer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("bundle: %w", err)
	}
	if fi.IsDir() {
		return os.DirFS(path), io.NopCloser(nil), nil
	}
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, nil, fmt.Errorf("bundle: %s: %w", path, err)
	}
	return z, z, nil
}
