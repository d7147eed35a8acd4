package evault

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/evidencevault/vault/client"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/spf13/cobra"
)

func (a *app) lsCmd() *cobra.Command {
	var dossier string
	cmd := &cobra.Command{
		Use:   "ls [--dossier D]",
		Short: "List a dossier's documents at their latest versions (without --dossier: the dossiers)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dossier == "" {
				return a.listDossiers(cmd)
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			docs, err := cl.Documents(cmd.Context(), dossier)
			if err != nil {
				return err
			}
			return a.printVersions("documents", docs, true)
		},
	}
	cmd.Flags().StringVar(&dossier, "dossier", "", "dossier id")
	return cmd
}

func (a *app) versionsCmd() *cobra.Command {
	var dossier string
	cmd := &cobra.Command{
		Use:   "versions PATH --dossier D",
		Short: "List every sealed version of one document, oldest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			vs, err := cl.Versions(cmd.Context(), dossier, args[0])
			if err != nil {
				return err
			}
			return a.printVersions("versions", vs, false)
		},
	}
	cmd.Flags().StringVar(&dossier, "dossier", "", "dossier id")
	cmd.MarkFlagRequired("dossier")
	return cmd
}

func (a *app) printVersions(key string, vs []vault.Version, withPath bool) error {
	if vs == nil {
		vs = []vault.Version{}
	}
	return a.print(map[string]any{key: vs}, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		head := "VERSION\tSIZE\tSHA-256\tSEALED\tBY\tRECEIPT\tSTATUS"
		if withPath {
			head = "PATH\t" + head
		}
		fmt.Fprintln(tw, head)
		for _, v := range vs {
			line := fmt.Sprintf("%d\t%d\t%.16s…\t%s\t%s\t%s\t%s", v.Version, v.Size, v.SHA256, v.SealedAt.Format("2006-01-02 15:04:05Z"), v.Uploader.Subject, v.ReceiptID, versionStatus(v))
			if withPath {
				line = v.Document.Path + "\t" + line
			}
			fmt.Fprintln(tw, line)
		}
		tw.Flush()
	})
}

func (a *app) getCmd() *cobra.Command {
	var dossier, out string
	var version int
	var keyFiles []string
	cmd := &cobra.Command{
		Use:   "get PATH --dossier D [--version N] [-o FILE]",
		Short: "Download one version and verify it before keeping it",
		Long: `Download a document's version (default: the latest) with its receipt, then verify,
before the file appears under its name: its SHA-256 and size are the receipt's,
the receipt is signed by the key of its place in the log, its inclusion proof
holds against its signed checkpoint, that checkpoint is part of the log as
evault verified it (extending the checkpoint kept from before), and it names
the dossier, document and version asked for. On any mismatch nothing is kept
(exit 4). The receipt is kept beside the file as FILE.receipt.json, for
evault verify, and as a Sigstore bundle, FILE.sigstore.json, for cosign
(evault trusted-root --help).

Keys: the log's key pinned in known_vaults.json (pinned on first use), or
--key PEM files (the vault's key obtained independently).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("version") && version < 1 {
				return exit(ExitUsage, "--version must be a version number, 1 or more (leave it out for the latest)")
			}
			view, err := a.view(cmd, keyFiles)
			if err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			dest := out
			if dest == "" {
				dest = filepath.Base(args[0])
			}
			if _, err := os.Stat(dest); err == nil {
				return exit(ExitConflict, "%s exists; choose another name with -o", dest)
			}
			bars := a.bars(-1, filepath.Base(dest))
			got, err := cl.Get(cmd.Context(), dossier, args[0], version, dest, view, func(n int64) { bars.add("download", n) })
			bars.finish()
			if err != nil {
				var ve *client.VerifyError
				if errors.As(err, &ve) {
					a.printChecks(ve.Checks)
				}
				return err
			}
			return a.print(got, func(w io.Writer) {
				fmt.Fprintf(w, "%s: %s version %d, %d bytes, sha256 %s\n", got.File, args[0], got.Version.Version, got.Version.Size, got.Version.SHA256)
				fmt.Fprintf(w, "verified: signature by %s, log inclusion and consistency (%d entries), digest; receipt in %s\n",
					got.Verification.KeyID, view.Latest.Size, got.ReceiptFile)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&dossier, "dossier", "", "dossier id")
	f.IntVar(&version, "version", 0, "version number (default: the latest)")
	f.StringVarP(&out, "output", "o", "", "file to write (default: the document's file name)")
	f.StringArrayVar(&keyFiles, "key", nil, "vault public key PEM to trust instead of the pinned one (repeatable)")
	cmd.MarkFlagRequired("dossier")
	return cmd
}

// printChecks prints verification checks to stderr.
func (a *app) printChecks(checks []vault.Check) {
	for _, c := range checks {
		mark := "ok  "
		switch {
		case c.Skipped:
			mark = "skip"
		case !c.Passed:
			mark = "FAIL"
		}
		fmt.Fprintf(a.main.Stderr, "  %s %-18s %s\n", mark, c.Name, c.Detail)
	}
}

// versionStatus sums up what the dossier's events say of a version:
// its status, approval and legal holds.
func versionStatus(v vault.Version) string {
	if v.State == nil {
		return ""
	}
	out := v.State.Status
	if v.State.Approved {
		out += ", approved"
	} else if len(v.State.Signoffs) > 0 {
		out += fmt.Sprintf(", %d sign-off(s)", len(v.State.Signoffs))
	}
	if len(v.State.LegalHolds) > 0 {
		out += ", LEGAL HOLD"
	}
	return out
}
