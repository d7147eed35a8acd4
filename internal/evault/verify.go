package evault

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/evidencevault/vault/internal/bundle"
	"github.com/evidencevault/vault/internal/client"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/spf13/cobra"
)

func (a *app) verifyCmd() *cobra.Command {
	var keyFiles []string
	cmd := &cobra.Command{
		Use:   "verify FILE RECEIPT --key PUBKEY",
		Short: "Verify a file against its receipt, offline",
		Long: `Verify, without the vault or any network: the receipt's format, that the key
signed it and the signature holds, its log inclusion proof against its signed
checkpoint (receipt bundles), and that FILE's SHA-256 and size are the receipt's.
Prints VALID and exits 0, or names each failed check and exits 4.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(keyFiles) == 0 {
				return exit(ExitUsage, "verify is offline: give the vault's public key with --key (evault keys saves them)")
			}
			keys, err := readKeys(keyFiles)
			if err != nil {
				return err
			}
			return a.verifyFile(cmd.Context(), args[0], args[1], keys)
		},
	}
	cmd.Flags().StringArrayVar(&keyFiles, "key", nil, "vault public key PEM (repeatable)")
	return cmd
}

func (a *app) verifyFile(ctx context.Context, file, receiptFile string, keys []receipt.Key) error {
	data, err := os.ReadFile(receiptFile)
	if err != nil {
		return exit(ExitUsage, "receipt: %v", err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		return exit(ExitUsage, "file: %v", err)
	}
	bars := a.bars(fi.Size(), fi.Name())
	d, err := client.HashFile(ctx, file, 0, func(n int64) { bars.add("hash", n) })
	bars.finish()
	if err != nil {
		return fmt.Errorf("file: %w", err)
	}
	ver, _ := vault.VerifyOffline(ctx, data, keys, d.SHA256, d.Size)
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
		fmt.Fprintln(w, "VALID")
	})
}

func (a *app) exportCmd() *cobra.Command {
	var out string
	var size int64
	var keyFiles []string
	cmd := &cobra.Command{
		Use:   "export DOSSIER --out DIR|FILE.zip [--checkpoint N]",
		Short: "Export a dossier as a verifiable bundle for the notified body",
		Long: `Write a dossier, at the latest log checkpoint or at checkpoint N, into a folder or
ZIP file: each document at the latest version the checkpoint includes, its receipt
with an inclusion proof against that checkpoint, the checkpoint, the vault's public
keys, MANIFEST.json, SHA256SUMS and VERIFY.md. Everything is verified before it is
written; evault verify-bundle checks the result offline.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return exit(ExitUsage, "give the bundle's folder or .zip file with --out")
			}
			keys, err := a.keys(cmd, keyFiles)
			if err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			w, err := bundle.Create(out)
			if err != nil {
				return exit(ExitConflict, "%v", err)
			}
			bars := a.bars(-1, out)
			m, err := cl.Export(cmd.Context(), args[0], size, w, keys, func(n int64) { bars.add("export", n) })
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
	f.StringArrayVar(&keyFiles, "key", nil, "vault public key PEM to verify with (default: the vault's published keys)")
	return cmd
}

func (a *app) verifyBundleCmd() *cobra.Command {
	var keyFiles []string
	cmd := &cobra.Command{
		Use:   "verify-bundle DIR|FILE.zip [--key PUBKEY]",
		Short: "Verify an export bundle offline and name the first item that fails",
		Long: `Check an export bundle without the vault: SHA256SUMS, the manifest, the keys, the
checkpoint's signature, each document against its receipt (SHA-256, size,
signature, dossier, path, version, inclusion proof) and that no file is missing
or unlisted. With --key, the bundle is checked against that key (obtained from
the vault operator independently); without, against the keys it carries, which
proves only that it is consistent with itself.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var trusted []receipt.Key
			if len(keyFiles) > 0 {
				var err error
				if trusted, err = readKeys(keyFiles); err != nil {
					return err
				}
			}
			fsys, closer, err := bundle.Open(args[0])
			if err != nil {
				return exit(ExitUsage, "%v", err)
			}
			defer closer.Close()
			rep := bundle.Verify(cmd.Context(), fsys, trusted)
			if first := rep.First(); first != nil {
				if a.jsonOut {
					a.print(rep, nil)
				}
				return exit(ExitVerify, "bundle %s: %s: %s", args[0], first.Name, first.Detail)
			}
			return a.print(rep, func(w io.Writer) {
				fmt.Fprintf(w, "%d documents of dossier %s, %d items checked", rep.Documents, rep.Dossier, len(rep.Items))
				if trusted == nil {
					fmt.Fprint(w, " (against the bundle's own keys; pin the vault's key with --key)")
				}
				fmt.Fprintln(w, "\nVALID")
			})
		},
	}
	cmd.Flags().StringArrayVar(&keyFiles, "key", nil, "vault public key PEM to trust (repeatable)")
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
