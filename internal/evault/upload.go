package evault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/evidencevault/vault/client"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// uploadFlags are the metadata flags of `upload FILE…`.
type uploadFlags struct {
	dossier, manifest, pathFlag string
	doc                         vault.Document
	partSize                    int64
	threshold                   int64
	parallel                    int
	stateDir                    string
	newVersion                  bool
}

func (a *app) uploadCmd() *cobra.Command {
	var u uploadFlags
	cmd := &cobra.Command{
		Use:   "upload FILE... | upload DIR [--manifest evidence.yaml]",
		Short: "Upload evidence and seal it, with a signed receipt for each file",
		Long: `Upload files into a dossier and seal each: the vault checks the bytes against
their SHA-256, takes the document's next version, locks it for the dossier's
retention and returns a signed receipt, included in the tenant's log.

Metadata comes from flags (for FILE...) or, for a folder, from its manifest
(evidence.yaml by default), one entry per file. Every file's metadata is checked
before any byte is sent; problems are printed per file and field (exit 3).

Files from 64 MiB (--multipart-threshold) go in parts, --parallel at a time, each
part bound to its SHA-256. An interrupted upload (Ctrl-C, a lost connection)
resumes when the same command runs again: the parts the vault holds are not sent
again, and the file is not hashed again if it has not changed.`,
		Example: `  evault upload report.pdf --dossier dos_x --path test-reports/software-validation.pdf \
      --title "Software validation report" --kind test-report --section MDR-II-6.1 \
      --revision B --effective-date 2026-11-01 --standard "IEC 62304:2006+A1:2015" --author QA
  evault upload ./dossier-evidence --dossier dos_x          # reads ./dossier-evidence/evidence.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.upload(cmd, args, u) },
	}
	f := cmd.Flags()
	f.StringVar(&u.dossier, "dossier", "", "dossier id (or the manifest's dossier:)")
	f.StringVar(&u.manifest, "manifest", "", "metadata manifest for a folder (default DIR/evidence.yaml)")
	f.StringVar(&u.pathFlag, "path", "", "path in the dossier; with several files, the folder they go in (default: the file's name)")
	f.StringVar(&u.doc.Title, "title", "", "document title (default: the file's name)")
	f.StringVar((*string)(&u.doc.Kind), "kind", "", "technical-documentation, clinical-evidence, test-report, risk-management, ...")
	f.StringVar(&u.doc.Section, "section", "", "technical documentation section, e.g. MDR-II-6.1")
	f.StringVar(&u.doc.Revision, "revision", "", "document revision")
	f.StringVar(&u.doc.Language, "language", "en", "ISO 639-1 language")
	f.StringVar(&u.doc.EffectiveDate, "effective-date", "", "effective date, YYYY-MM-DD (default: today, or the latest version's when it has the same bytes)")
	f.StringArrayVar(&u.doc.Standards, "standard", nil, "standard applied, e.g. \"IEC 62304:2006+A1:2015\" (repeatable)")
	f.StringVar(&u.doc.Author, "author", "", "author")
	f.StringVar(&u.doc.File.ContentType, "content-type", "", "media type (default: from the file's extension)")
	f.Int64Var(&u.partSize, "part-size", 0, "part size in bytes for multipart uploads (default: the vault's)")
	f.Int64Var(&u.threshold, "multipart-threshold", 64<<20, "files from this size go in parts")
	f.IntVar(&u.parallel, "parallel", 4, "parts in flight at once")
	f.StringVar(&u.stateDir, "state-dir", "", "where resumable uploads are recorded (default: the user cache dir)")
	f.BoolVar(&u.newVersion, "new-version", false, "seal a new version even if the document's latest has the same bytes (by default such a file is skipped as unchanged)")
	return cmd
}

// uploaded is the result of one file.
type uploaded struct {
	File      string `json:"file"`
	Path      string `json:"path"`
	Version   int    `json:"version"`
	ReceiptID string `json:"receiptId"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	Parts     int    `json:"parts,omitempty"`
	PartsSent int    `json:"partsSent,omitempty"`
	Resumed   bool   `json:"resumed,omitempty"`
	LogIndex  int64  `json:"logIndex"`
	// Unchanged: the document's latest version had these bytes; nothing
	// was sent, and the version and receipt are that one's.
	Unchanged bool `json:"unchanged,omitempty"`
}

func (a *app) upload(cmd *cobra.Command, args []string, u uploadFlags) error {
	ctx := cmd.Context()
	var plan []planned
	dossier := u.dossier
	if fi, err := os.Stat(args[0]); err == nil && fi.IsDir() {
		if len(args) > 1 {
			return exit(ExitUsage, "upload takes one folder or several files, not both")
		}
		manifest := u.manifest
		if manifest == "" {
			manifest = filepath.Join(args[0], "evidence.yaml")
		}
		d, p, err := readManifest(args[0], manifest)
		if err != nil {
			return err
		}
		if dossier == "" {
			dossier = d
		}
		plan = p
	} else {
		if u.manifest != "" {
			return exit(ExitUsage, "--manifest goes with a folder")
		}
		for _, file := range args {
			doc := u.doc
			doc.Standards = append([]string(nil), u.doc.Standards...)
			name := filepath.Base(file)
			switch {
			case u.pathFlag == "":
				doc.Path = name
			case len(args) == 1:
				doc.Path = u.pathFlag
			default:
				doc.Path = path.Join(u.pathFlag, name)
			}
			if doc.Title == "" {
				doc.Title = strings.TrimSuffix(name, filepath.Ext(name))
			}
			byDefault := doc.EffectiveDate == ""
			if byDefault {
				doc.EffectiveDate = time.Now().UTC().Format("2006-01-02")
			}
			plan = append(plan, planned{file: file, doc: doc, todayByDefault: byDefault})
		}
	}
	if dossier == "" {
		return exit(ExitUsage, "name the dossier with --dossier (or dossier: in the manifest)")
	}
	cl, err := a.client()
	if err != nil {
		return err
	}
	d, err := cl.Dossier(ctx, dossier)
	if err != nil {
		return err
	}
	if err := a.check(plan, d); err != nil {
		return err
	}
	stateDir := u.stateDir
	if stateDir == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			stateDir = filepath.Join(dir, "evault", "uploads")
		}
	}
	opts := client.UploadOptions{MultipartThreshold: u.threshold, PartSize: u.partSize, Parallel: u.parallel, StateDir: stateDir, NewVersion: u.newVersion}
	var results []uploaded
	var lines []string // said once the receipts are verified
	check := &uploadCheck{a: a, cmd: cmd, cl: cl, dossier: d.ID}
	say := func() {
		if !a.jsonOut && !a.quiet {
			for _, l := range lines {
				fmt.Fprintln(a.main.Stdout, l)
			}
		}
		lines = nil
	}
	for _, p := range plan {
		res, err := a.uploadOne(ctx, cl, d.ID, p, opts, check)
		if err != nil {
			if ctx.Err() != nil {
				return &exitError{code: ExitInterrupted, err: fmt.Errorf("%s: interrupted; run the same command again to resume", p.file)}
			}
			err = fmt.Errorf("%s: %w", p.file, err)
			// What was sealed before is checked all the same.
			if cerr := check.verify(ctx); cerr != nil {
				return errors.Join(cerr, err)
			}
			say()
			return err
		}
		results = append(results, *res)
		if res.Unchanged {
			lines = append(lines, fmt.Sprintf("unchanged %s: version %d already has these bytes (receipt %s); nothing sent (--new-version to seal a copy)",
				res.Path, res.Version, res.ReceiptID))
			continue
		}
		how := ""
		if res.Parts > 0 {
			how = fmt.Sprintf(" in %d parts", res.Parts)
			if res.Resumed {
				how += fmt.Sprintf(", resumed (%d sent now)", res.PartsSent)
			}
		}
		lines = append(lines, fmt.Sprintf("sealed %s version %d%s: receipt %s, sha256 %s, log entry %d",
			res.Path, res.Version, how, res.ReceiptID, res.SHA256, res.LogIndex))
	}
	if err := check.verify(ctx); err != nil {
		return err
	}
	say()
	if a.jsonOut {
		return a.print(map[string]any{"dossier": d.ID, "uploads": results}, nil)
	}
	return nil
}

// check completes each file's metadata from the file and validates all of
// it against the dossier before anything is hashed or sent.
func (a *app) check(plan []planned, d vault.Dossier) error {
	seen := map[string]string{}
	bad := 0
	for i := range plan {
		p := &plan[i]
		if p.fields == nil {
			fi, err := os.Stat(p.file)
			if err != nil || fi.IsDir() {
				p.fields = append(p.fields, vault.FieldError{Pointer: "/file", Detail: "is not a readable file"})
			} else {
				if p.doc.File.Name == "" {
					p.doc.File.Name = filepath.Base(p.file)
				}
				if p.doc.File.ContentType == "" {
					p.doc.File.ContentType = vault.ContentTypeFor(p.doc.File.Name)
				}
				p.doc.File.Size = fi.Size()
				// The digest is computed after every file passes.
				p.doc.File.SHA256 = strings.Repeat("0", 64)
				for _, f := range vault.ValidateDocument(&p.doc, d) {
					if f.Pointer != "/file/sha256" {
						p.fields = append(p.fields, f)
					}
				}
			}
			if other, dup := seen[p.doc.Path]; dup && p.doc.Path != "" {
				p.fields = append(p.fields, vault.FieldError{Pointer: "/path", Detail: "is also the path of " + other})
			}
			seen[p.doc.Path] = p.file
		}
		if len(p.fields) > 0 {
			bad++
			fmt.Fprintf(a.main.Stderr, "%s:\n", p.file)
			for _, f := range p.fields {
				fmt.Fprintf(a.main.Stderr, "  %s: %s\n", f.Pointer, f.Detail)
			}
		}
	}
	if bad > 0 {
		return exit(ExitInvalid, "%d of %d files have invalid metadata; nothing was sent", bad, len(plan))
	}
	return nil
}

func (a *app) uploadOne(ctx context.Context, cl *client.Client, dossier string, p planned, opts client.UploadOptions, check *uploadCheck) (*uploaded, error) {
	bars := a.bars(p.doc.File.Size, filepath.Base(p.file))
	defer bars.finish()
	opts.Progress = bars.add
	prep, err := cl.PrepareFile(ctx, dossier, &p.doc, p.file, opts)
	if err != nil {
		return nil, err
	}
	if p.todayByDefault && !opts.NewVersion {
		// The same command again another day is the same upload: the
		// latest version's date, where it has these bytes, lets the vault
		// answer unchanged rather than 409 for a date nobody chose.
		if err := sameDateAsLatest(ctx, cl, dossier, &p.doc); err != nil {
			return nil, err
		}
	}
	res, err := cl.Upload(ctx, prep)
	if err != nil {
		return nil, err
	}
	bundle := res.Receipt
	if res.Unchanged != nil {
		bundle = res.Unchanged.Receipt
	}
	check.add(res.Document, bundle)
	if res.Resumed && !a.quiet {
		got, _ := json.Marshal(res.Document)
		if want, _ := json.Marshal(p.doc); !bytes.Equal(got, want) {
			fmt.Fprintf(a.main.Stderr, "evault: %s: resumed with the metadata it was started with (effective date %s)\n", p.doc.Path, res.Document.EffectiveDate)
		}
	}
	if u := res.Unchanged; u != nil {
		return &uploaded{File: p.file, Path: p.doc.Path, Version: u.Version.Version, ReceiptID: u.Version.ReceiptID,
			SHA256: u.Version.SHA256, Size: u.Version.Size, Unchanged: true}, nil
	}
	r, err := vault.OpenReceipt(res.Receipt)
	if err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	out := &uploaded{File: p.file, Path: p.doc.Path, Version: r.Predicate.Version, ReceiptID: r.Predicate.ReceiptID,
		SHA256: r.Subject.Digest["sha256"], Size: r.Predicate.Storage.Size, Parts: res.Parts, PartsSent: res.Sent, Resumed: res.Resumed}
	if r.Log != nil {
		out.LogIndex = r.Log.Index
	}
	return out, nil
}

// uploadCheck verifies the receipts of a command's uploads as get verifies
// a download's (against the log as pinned, of the file's bytes), and that
// each is of the document the upload declared: once they are all sealed,
// against one view of the log (a new tenant's log is empty before the
// first).
type uploadCheck struct {
	a       *app
	cmd     *cobra.Command
	cl      *client.Client
	dossier string
	sealed  []sealedUpload
}

type sealedUpload struct {
	doc    vault.Document
	bundle []byte
}

func (u *uploadCheck) add(doc vault.Document, bundle []byte) {
	u.sealed = append(u.sealed, sealedUpload{doc, bundle})
}

func (u *uploadCheck) verify(ctx context.Context) error {
	if len(u.sealed) == 0 {
		return nil
	}
	view, err := u.a.view(u.cmd, nil)
	if err != nil {
		return err
	}
	_, tenant, _ := vault.ParseLogOrigin(view.Origin)
	for _, s := range u.sealed {
		ver, r := vault.VerifyOffline(ctx, s.bundle, view.Trust, s.doc.File.SHA256, s.doc.File.Size)
		if r != nil {
			ver.Add(client.SealedAsSent(r, u.dossier, tenant, s.doc))
			ver.Add(view.LogCheck(ctx, u.cl, r))
		}
		if !ver.Valid {
			return &client.VerifyError{Item: s.doc.Path, Checks: ver.Checks}
		}
	}
	u.sealed = nil
	return nil
}

// sameDateAsLatest gives doc the effective date of its path's latest
// version when that version has doc's bytes.
func sameDateAsLatest(ctx context.Context, cl *client.Client, dossier string, doc *vault.Document) error {
	vs, err := cl.Versions(ctx, dossier, doc.Path)
	var pr *client.Problem
	switch {
	case errors.As(err, &pr) && pr.Status == http.StatusNotFound:
		return nil // a new document
	case err != nil:
		return err
	case len(vs) > 0 && vs[len(vs)-1].SHA256 == doc.File.SHA256:
		doc.EffectiveDate = vs[len(vs)-1].Document.EffectiveDate
	}
	return nil
}

// bars shows one progress bar per phase on a terminal.
type bars struct {
	mu    sync.Mutex
	on    bool
	w     io.Writer
	total int64
	name  string
	cur   *progressbar.ProgressBar
	phase string
}

func (a *app) bars(total int64, name string) *bars {
	return &bars{on: a.main.Terminal && !a.quiet && !a.jsonOut, w: a.main.Stderr, total: total, name: name}
}

var phaseNames = map[string]string{"hash": "hashing", "upload": "uploading", "seal": "sealing", "download": "downloading", "export": "exporting"}

func (b *bars) add(phase string, n int64) {
	if !b.on {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if phase != b.phase {
		if b.cur != nil {
			b.cur.Finish()
		}
		b.phase = phase
		b.cur = progressbar.NewOptions64(b.total, progressbar.OptionSetWriter(b.w), progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription(fmt.Sprintf("%-11s %s", phaseNames[phase], b.name)), progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionShowCount(), progressbar.OptionOnCompletion(func() { fmt.Fprintln(b.w) }))
	}
	b.cur.Add64(n)
}

func (b *bars) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur != nil {
		b.cur.Finish()
	}
}
