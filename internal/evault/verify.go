package evault

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/evidencevault/vault/client"
	"github.com/evidencevault/vault/internal/bundle"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/spf13/cobra"
)

func (a *app) verifyCmd() *cobra.Command {
	var keyFiles []string
	var offline bool
	cmd := &cobra.Command{
		Use:   "verify FILE RECEIPT [--key PUBKEY] [--offline]",
		Short: "Verify a file against its receipt",
		Long: `Verify the receipt's format, that it is signed by the key of its place in the
log and the signature holds, its log inclusion proof against its signed
checkpoint (receipt bundles), and that FILE's SHA-256 and size are the receipt's.

Keys: --key PEM files, or else the key pinned for the receipt's log in
known_vaults.json and the keys its history led to when last checked.
When the vault's API is configured (and not --offline), evault also checks the
log as it is now: its key history, and that the receipt's checkpoint is part of
the log extending the checkpoint kept. Without the API nothing leaves the machine.
Prints VALID and exits 0, or names each failed check and exits 4.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.verifyFile(cmd, args[0], args[1], keyFiles, offline)
		},
	}
	cmd.Flags().StringArrayVar(&keyFiles, "key", nil, "vault public key PEM to trust instead of the pinned one (repeatable)")
	cmd.Flags().BoolVar(&offline, "offline", false, "do not ask the vault about its log, even when its API is configured")
	return cmd
}

func (a *app) verifyFile(cmd *cobra.Command, file, receiptFile string, keyFiles []string, offline bool) error {
	ctx := cmd.Context()
	data, err := os.ReadFile(receiptFile)
	if err != nil {
		return exit(ExitUsage, "receipt: %v", err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		return exit(ExitUsage, "file: %v", err)
	}
	online := !offline && a.configured()
	var trust vault.Trust
	var view *client.View
	switch {
	case online:
		if view, err = a.view(cmd, keyFiles); err != nil {
			return err
		}
		trust = view.Trust
	case len(keyFiles) > 0:
		keys, err := readKeys(keyFiles)
		if err != nil {
			return err
		}
		trust = vault.TrustKeys("the keys you gave with --key", keys...)
		if trust.Policy, err = a.policy(); err != nil {
			return err
		}
	default:
		origin := receiptOrigin(data)
		pinned, _, _, err := a.pinnedTrust(origin)
		if err != nil {
			return err
		}
		if pinned == nil {
			return exit(ExitUsage, "no key is pinned for the receipt's log %q: give the vault's public key with --key, or run evault log check once against the vault", origin)
		}
		trust = *pinned
	}
	bars := a.bars(fi.Size(), fi.Name())
	d, err := client.HashFile(ctx, file, 0, func(n int64) { bars.add("hash", n) })
	bars.finish()
	if err != nil {
		return fmt.Errorf("file: %w", err)
	}
	ver, r := vault.VerifyOffline(ctx, data, trust, d.SHA256, d.Size)
	if view != nil && r != nil {
		cl, err := a.client()
		if err != nil {
			return err
		}
		ver.Add(view.LogCheck(ctx, cl, r))
	}
	if !ver.Valid {
		if !a.jsonOut {
			a.printChecks(ver.Checks)
		} else {
			a.print(ver, nil)
		}
		return &client.VerifyError{Item: file, Checks: ver.Checks}
	}
	return a.print(ver, func(w io.Writer) {
		for _, c := range ver.Checks {
			fmt.Fprintf(w, "ok   %-14s %s\n", c.Name, c.Detail)
		}
		fmt.Fprintf(w, "trusted: %s\n", ver.Trusted.Basis)
		fmt.Fprintln(w, "VALID")
	})
}

// receiptOrigin is the log a receipt belongs to, unverified: which pin to
// verify it with. A bundle names it; a bare envelope names its bucket and
// tenant.
func receiptOrigin(data []byte) string {
	r, err := vault.OpenReceipt(data)
	switch {
	case err != nil:
		return ""
	case r.Log != nil:
		return r.Log.Origin
	}
	return vault.LogOrigin(r.Predicate.Storage.Bucket, r.Predicate.Tenant)
}

func (a *app) exportCmd() *cobra.Command {
	var out string
	var size int64
	var keyFiles []string
	var opts client.ExportOptions
	cmd := &cobra.Command{
		Use:   "export DOSSIER --out DIR|FILE.zip [--checkpoint N] [--submission ID | --current-only]",
		Short: "Export a dossier as a verifiable bundle for the notified body",
		Long: `Write a dossier, at the latest log checkpoint or at checkpoint N, into a folder or
ZIP file: each document at the latest version the log holds at that checkpoint
(read from the log's entries, whose tree must be the checkpoint's), its receipt
with an inclusion proof against that checkpoint, the checkpoint, the log's key
history, the vault's public keys, MANIFEST.json, SHA256SUMS and VERIFY.md. The
checkpoint must be part of the log as evault verified it from the pinned key (or
--key). Everything is verified before it is written; evault verify-bundle
checks the result offline.

Each document carries its status (current, obsolete, withdrawn) and sign-offs,
and the bundle the dossier's lifecycle events they come from, each proven
against the checkpoint. --current-only leaves out obsolete and withdrawn
documents (the manifest names them); --submission exports exactly the versions
of one submission to a notified body.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return exit(ExitUsage, "give the bundle's folder or .zip file with --out")
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			if size == 0 {
				// The snapshot first, so that the view's checkpoint holds
				// it: the bundle then proves it holds the whole dossier. A
				// log that cannot grow (tampered storage) still exports
				// what it holds, without one.
				var p *client.Problem
				if opts.Snapshot, err = cl.RecordExport(cmd.Context(), args[0]); errors.As(err, &p) && p.Status != http.StatusNotFound {
					fmt.Fprintf(a.main.Stderr, "evault: no export snapshot (%v): the bundle will not prove it holds every document\n", err)
					opts.Snapshot = nil
				} else if err != nil {
					return err
				}
			}
			view, err := a.view(cmd, keyFiles)
			if err != nil {
				return err
			}
			w, err := bundle.Create(out)
			if err != nil {
				return exit(ExitConflict, "%v", err)
			}
			bars := a.bars(-1, out)
			m, err := cl.ExportWith(cmd.Context(), args[0], size, w, view, opts, func(n int64) { bars.add("export", n) })
			bars.finish()
			if err == nil {
				err = w.Close(*m)
			}
			if err != nil {
				w.Abort()
				return err
			}
			return a.print(m, func(w io.Writer) {
				fmt.Fprintf(w, "exported %d documents of %s at checkpoint %d of %s to %s\n", len(m.Documents), m.Dossier.ID, m.Log.Size, m.Log.Origin, out)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "bundle folder, or a file ending in .zip")
	f.Int64Var(&size, "checkpoint", 0, "log checkpoint (size) to export at (default: the latest)")
	f.StringArrayVar(&keyFiles, "key", nil, "vault public key PEM to trust instead of the pinned one (repeatable)")
	f.StringVar(&opts.Submission, "submission", "", "export exactly the versions of this submission")
	f.BoolVar(&opts.CurrentOnly, "current-only", false, "leave out documents marked obsolete or withdrawn")
	cmd.MarkFlagsMutuallyExclusive("submission", "current-only")
	return cmd
}

func (a *app) verifyBundleCmd() *cobra.Command {
	var keyFiles []string
	var requireComplete bool
	cmd := &cobra.Command{
		Use:   "verify-bundle DIR|FILE.zip [--key PUBKEY]",
		Short: "Verify an export bundle offline and name the first item that fails",
		Long: `Check an export bundle without the vault: SHA256SUMS, the manifest, the log's
key history, the checkpoint's signature, each document against its receipt
(SHA-256, size, signature by the key of its place in the log, dossier, path,
version, inclusion proof) and that no file is missing or unlisted.

Trust starts from --key (the vault's key obtained from its operator), or else
the key pinned for the bundle's log in known_vaults.json: the bundle's key
history must lead from it. With neither, the bundle is checked against its own
history, which proves only that it is consistent with itself.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var pinned []receipt.Key
			var err error
			if len(keyFiles) > 0 {
				if pinned, err = readKeys(keyFiles); err != nil {
					return err
				}
			}
			fsys, closer, err := bundle.Open(args[0])
			if err != nil {
				return exit(ExitUsage, "%v", err)
			}
			defer closer.Close()
			var known *bundle.Known
			if pinned == nil {
				if m, err := bundle.ReadManifest(fsys); err == nil {
					var t *vault.Trust
					var kept []byte
					if t, pinned, kept, err = a.pinnedTrust(m.Log.Origin); err != nil {
						return err
					}
					if t != nil {
						known = &bundle.Known{Trust: *t, Checkpoint: kept}
					}
				}
			}
			policy, err := a.policy()
			if err != nil {
				return err
			}
			policy.RequireComplete = requireComplete
			rep := bundle.Verify(cmd.Context(), fsys, pinned, known, policy)
			if first := rep.First(); first != nil {
				if a.jsonOut {
					a.print(rep, nil)
				}
				return exit(ExitVerify, "bundle %s: %s: %s", args[0], first.Name, first.Detail)
			}
			return a.print(rep, func(w io.Writer) {
				fmt.Fprintf(w, "%d documents of dossier %s, %d items checked\ntrusted: %s\nlifecycle: %s\nVALID\n", rep.Documents, rep.Dossier, len(rep.Items), rep.Trusted, rep.Lifecycle)
			})
		},
	}
	cmd.Flags().StringArrayVar(&keyFiles, "key", nil, "vault public key PEM to trust instead of the pinned one (repeatable)")
	cmd.Flags().BoolVar(&requireComplete, "require-complete", false, "refuse a bundle that does not prove it holds every document of the dossier (an export snapshot in the log)")
	return cmd
}

func (a *app) keysCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keys [--out DIR]",
		Short: "Show the vault's public keys, or save them as PEM files for offline verification",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			keys, err := cl.Keys(cmd.Context())
			if err != nil {
				return err
			}
			var ids []string
			var pems bytes.Buffer
			for _, k := range keys {
				ids = append(ids, k.ID)
				pems.Write(k.PEM())
				if out != "" {
					if err := os.MkdirAll(out, 0o755); err != nil {
						return err
					}
					if err := os.WriteFile(filepath.Join(out, k.ID+".pem"), k.PEM(), 0o644); err != nil {
						return err
					}
				}
			}
			return a.print(map[string]any{"keys": ids}, func(w io.Writer) {
				if out == "" {
					w.Write(pems.Bytes())
					return
				}
				for _, id := range ids {
					fmt.Fprintln(w, filepath.Join(out, id+".pem"))
				}
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder to save {keyId}.pem files in")
	return cmd
}
