package evault

import (
	"fmt"
	"io"
	"os"

	"github.com/evidencevault/vault/internal/sigstore"
	"github.com/evidencevault/vault/internal/tsa"
	"github.com/spf13/cobra"
)

func (a *app) trustedRootCmd() *cobra.Command {
	var chains []string
	var uri, out string
	cmd := &cobra.Command{
		Use:   "trusted-root --tsa-chain CHAIN.pem [--tsa-uri URL] [--out trusted_root.json]",
		Short: "Write a Sigstore trusted root of timestamp authorities, for cosign --trusted-root",
		Long: `Write a Sigstore trusted root that trusts the timestamp authorities whose
certificate chains you give (each the authority's certificate first, its root
last, as the authority publishes it) and nothing else, so that cosign checks
the RFC 3161 timestamps of a receipt's Sigstore bundle (FILE.sigstore.json,
written by evault get, or GET /v1/receipts/{id}/sigstore):

  cosign verify-blob-attestation --bundle FILE.sigstore.json --key vault-key.pem \
      --type https://evidencevault.dev/receipt/v1 --insecure-ignore-tlog \
      --use-signed-timestamps --trusted-root trusted_root.json FILE

Nothing is asked of the vault: the chains are the authorities' own.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(chains) == 0 {
				return exit(ExitUsage, "give each timestamp authority's certificate chain with --tsa-chain")
			}
			var as []sigstore.Authority
			for _, f := range chains {
				data, err := os.ReadFile(f)
				if err != nil {
					return exit(ExitUsage, "--tsa-chain: %v", err)
				}
				certs, err := tsa.ParseCertificates(data)
				if err != nil {
					return exit(ExitUsage, "--tsa-chain %s: %v", f, err)
				}
				as = append(as, sigstore.Authority{Chain: certs, URI: uri})
			}
			tr, err := sigstore.TrustedRoot(as...)
			if err != nil {
				return err
			}
			if out == "" {
				_, err = a.main.Stdout.Write(append(tr, '\n'))
				return err
			}
			if err := os.WriteFile(out, append(tr, '\n'), 0o644); err != nil {
				return exit(ExitError, "%v", err)
			}
			return a.print(map[string]any{"trustedRoot": out}, func(w io.Writer) { fmt.Fprintln(w, out) })
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&chains, "tsa-chain", nil, "PEM certificate chain of a timestamp authority (repeatable)")
	f.StringVar(&uri, "tsa-uri", "", "the authority's URL, recorded in the trusted root")
	f.StringVar(&out, "out", "", "file to write (default: standard output)")
	return cmd
}
