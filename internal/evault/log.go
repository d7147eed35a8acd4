package evault

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func (a *app) logCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "log", Short: "Check the vault's log against what evault has pinned and kept"}
	var keyFiles []string
	check := &cobra.Command{
		Use:   "check [--key PUBKEY]",
		Short: "Verify the log's key history and latest checkpoint, and that it extends the one kept",
		Long: `Fetch the log's key history and latest signed checkpoint, derive the trusted keys
from the pinned key (pinning the log's key on first use) or from --key, and prove
that the latest checkpoint extends the newest one evault kept. On success the
latest becomes the one kept; a key that is no signed rotation from the pinned
one, or a history that does not extend the one kept, is refused (exit 4).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := a.view(cmd, keyFiles)
			if err != nil {
				return err
			}
			var keys []string
			for _, k := range v.Trust.Keys {
				keys = append(keys, k.Key.ID)
			}
			out := map[string]any{"origin": v.Origin, "size": v.Latest.Size, "keys": keys, "pinned": v.Pinned[0].ID,
				"kept": v.Kept, "firstUse": v.FirstUse, "trusted": v.Trust.Basis}
			return a.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "log %s: %d entries, checkpoint signed by the log's key\n", v.Origin, v.Latest.Size)
				fmt.Fprintf(w, "trusted: %s\n", v.Trust.Basis)
				switch {
				case len(keyFiles) > 0:
					fmt.Fprintln(w, "checked against the keys given; nothing pinned or kept was read or changed")
				case v.FirstUse:
					fmt.Fprintf(w, "first use: pinned key %s and kept this checkpoint in %s\n", v.Pinned[0].ID, a.known().Where())
				case v.Kept > 0:
					fmt.Fprintf(w, "extends the checkpoint kept at %d entries; kept this one\n", v.Kept)
				}
				fmt.Fprintln(w, "CONSISTENT")
			})
		},
	}
	check.Flags().StringArrayVar(&keyFiles, "key", nil, "vault public key PEM to trust instead of the pinned one (repeatable)")
	cmd.AddCommand(check)
	return cmd
}

// configured reports whether the vault's API is known (flags,
// environment, config file or the local stack).
func (a *app) configured() bool {
	_, err := a.client()
	return err == nil
}
