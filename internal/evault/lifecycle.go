package evault

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/evidencevault/vault/client"
	"github.com/spf13/cobra"
)

// The dossier's regulatory life (docs/lifecycle.md): market status, legal
// holds, obsolete documents, sign-offs, completeness and submissions.

func (a *app) lifecycleCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "lifecycle DOSSIER",
		Short: "A dossier's market status, retention, legal holds, approval policy, sign-offs and submissions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			st, err := cl.Lifecycle(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.print(st, func(w io.Writer) { printState(w, st) })
		},
	}
}

func printState(w io.Writer, st *client.DossierState) {
	m := st.Market
	switch {
	case m.OnMarket():
		fmt.Fprintf(w, "on the market since %s\n", m.FirstPlaced)
	case m.LastPlaced != "":
		fmt.Fprintf(w, "placed on the market %s to %s\n", m.FirstPlaced, m.LastPlaced)
	default:
		fmt.Fprintln(w, "not placed on the market yet")
	}
	if !st.RetainUntil.IsZero() {
		fmt.Fprintf(w, "every version and record locked until at least %s\n", st.RetainUntil.Format(time.DateOnly))
	}
	p := st.Policy
	fmt.Fprintf(w, "approval: %d approval(s)%s\n", p.Approvals, map[bool]string{true: " by people other than the author", false: ""}[p.ExcludeAuthors])
	for _, h := range st.LegalHolds {
		scope := "the whole dossier"
		if h.Path != "" {
			scope = h.Path
		}
		fmt.Fprintf(w, "LEGAL HOLD %s on %s since %s by %s: %s\n", h.ID, scope, h.At.Format(time.DateOnly), h.By.Subject, h.Reason)
	}
	for _, s := range st.Submissions {
		fmt.Fprintf(w, "submission %s to NB %s on %s: %d documents\n", s.ID, s.NotifiedBody, s.Date, len(s.Documents))
	}
	fmt.Fprintf(w, "%d events in the log\n", len(st.Events))
}

func (a *app) marketCmd() *cobra.Command {
	var in client.MarketInput
	cmd := &cobra.Command{
		Use:   "market DOSSIER --first-placed DATE [--last-placed DATE]",
		Short: "Record when the device was first and last placed on the market (admins); retention follows it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			st, err := cl.SetMarket(cmd.Context(), args[0], in)
			if err != nil {
				return err
			}
			return a.print(st, func(w io.Writer) { printState(w, st) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.FirstPlaced, "first-placed", "", "the day the first device was placed on the market (YYYY-MM-DD)")
	f.StringVar(&in.LastPlaced, "last-placed", "", "the day the last one was; leave out while it still is")
	f.StringVar(&in.Reason, "reason", "", "why, for the record")
	cmd.MarkFlagRequired("first-placed")
	return cmd
}

func (a *app) holdCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "hold", Short: "Set and release legal holds (admins)"}
	var path, reason string
	set := &cobra.Command{
		Use:   "set DOSSIER --reason TEXT [--path PATH]",
		Short: "Put a legal hold on a dossier or one document: nothing under it can be deleted until released",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			h, err := cl.SetHold(cmd.Context(), args[0], client.HoldInput{Path: path, Reason: reason})
			if err != nil {
				return err
			}
			return a.print(h, func(w io.Writer) { fmt.Fprintf(w, "legal hold %s set (log entry %d)\n", h.ID, h.LogIndex) })
		},
	}
	set.Flags().StringVar(&path, "path", "", "one document; the whole dossier when left out")
	set.Flags().StringVar(&reason, "reason", "", "the investigation or action that needs the hold")
	set.MarkFlagRequired("reason")
	var why string
	release := &cobra.Command{
		Use:   "release DOSSIER HOLD --reason TEXT",
		Short: "Release a legal hold; what another hold covers stays held",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			st, err := cl.ReleaseHold(cmd.Context(), args[0], args[1], why)
			if err != nil {
				return err
			}
			return a.print(st, func(w io.Writer) { printState(w, st) })
		},
	}
	release.Flags().StringVar(&why, "reason", "", "why the hold ends")
	release.MarkFlagRequired("reason")
	cmd.AddCommand(set, release)
	return cmd
}

func (a *app) statusCmd() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "status DOSSIER PATH obsolete|withdrawn|current --reason TEXT",
		Short: "Mark a document obsolete or withdrawn (ISO 13485 4.2.4), or current again; the bytes stay",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			v, err := cl.SetStatus(cmd.Context(), args[0], client.StatusInput{Path: args[1], Status: args[2], Reason: reason})
			if err != nil {
				return err
			}
			return a.print(v, func(w io.Writer) { fmt.Fprintf(w, "%s version %d: %s\n", v.Document.Path, v.Version, v.State.Status) })
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the record")
	cmd.MarkFlagRequired("reason")
	return cmd
}

func (a *app) signoffCmd() *cobra.Command {
	var in client.SignoffInput
	var file string
	cmd := &cobra.Command{
		Use:   "signoff DOSSIER PATH --version N --meaning authored|reviewed|approved (--file FILE | --sha256 HEX)",
		Short: "Sign a sealed version (21 CFR Part 11); needs a sign-in of the last 5 minutes (evault login)",
		Long: "Signs one exact version: the SHA-256 you give, of the file you read, must be the version's.\n" +
			"The vault refuses a sign-off whose sign-in is older than 5 minutes: run evault login, then sign.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case file != "" && in.SHA256 != "":
				return exit(ExitUsage, "give --file or --sha256, not both")
			case file != "":
				d, err := client.HashFile(cmd.Context(), file, 0, nil)
				if err != nil {
					return err
				}
				in.SHA256 = d.SHA256
			case in.SHA256 == "":
				return exit(ExitUsage, "give --file (the file you read) or --sha256: a sign-off is of exact bytes")
			}
			in.Path = args[1]
			cl, err := a.client()
			if err != nil {
				return err
			}
			v, err := cl.SignOff(cmd.Context(), args[0], in)
			if p := (*client.Problem)(nil); errors.As(err, &p) && p.Slug() == "reauthentication-required" {
				return fmt.Errorf("%w\nsign in again (evault login) and repeat the sign-off within 5 minutes", err)
			}
			if err != nil {
				return err
			}
			return a.print(v, func(w io.Writer) { printSignoffs(w, v) })
		},
	}
	f := cmd.Flags()
	f.IntVar(&in.Version, "version", 0, "the version to sign")
	f.StringVar(&in.Meaning, "meaning", "", "authored, reviewed or approved")
	f.StringVar(&file, "file", "", "the file you read: its SHA-256 must be the version's")
	f.StringVar(&in.SHA256, "sha256", "", "the version's SHA-256, instead of --file")
	f.StringVar(&in.Comment, "comment", "", "a comment kept with the sign-off")
	cmd.MarkFlagRequired("version")
	cmd.MarkFlagRequired("meaning")
	return cmd
}

func printSignoffs(w io.Writer, v *client.Version) {
	state := "not approved"
	if v.State.Approved {
		state = "APPROVED"
	}
	fmt.Fprintf(w, "%s version %d (%s): %s\n", v.Document.Path, v.Version, v.SHA256, state)
	for _, s := range v.State.Signoffs {
		fmt.Fprintf(w, "  %-8s %s <%s> at %s (signed in %s)\n", s.Meaning, s.Name, s.By.Subject, s.At.Format(time.RFC3339), s.AuthTime.Format(time.RFC3339))
	}
}

func (a *app) policyCmd() *cobra.Command {
	var in client.PolicyInput
	var includeAuthors bool
	cmd := &cobra.Command{
		Use:   "policy DOSSIER --approvals N [--include-authors]",
		Short: "Set when a version counts as approved (admins): N approvals, by people other than the author unless told",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			exclude := !includeAuthors
			in.ExcludeAuthors = &exclude
			cl, err := a.client()
			if err != nil {
				return err
			}
			st, err := cl.SetPolicy(cmd.Context(), args[0], in)
			if err != nil {
				return err
			}
			return a.print(st, func(w io.Writer) { printState(w, st) })
		},
	}
	cmd.Flags().IntVar(&in.Approvals, "approvals", 1, "approvals a version needs")
	cmd.Flags().BoolVar(&includeAuthors, "include-authors", false, "let the author's own approval count")
	cmd.Flags().StringVar(&in.Reason, "reason", "", "why, for the record")
	return cmd
}

func (a *app) completenessCmd() *cobra.Command {
	var html string
	cmd := &cobra.Command{
		Use:   "completeness DOSSIER [--html FILE]",
		Short: "Each applicable Annex II/III (and Annex IV) section with its current, approved evidence, or missing; exits 5 when incomplete",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			if html != "" {
				f, err := os.Create(html)
				if err != nil {
					return err
				}
				if err := cl.CompletenessHTML(cmd.Context(), args[0], f); err != nil {
					f.Close()
					return err
				}
				return f.Close()
			}
			c, err := cl.Completeness(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if err := a.print(c, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SECTION\tSTATUS\tEVIDENCE")
				for _, s := range c.Sections {
					var ev []string
					for _, e := range s.Evidence {
						ev = append(ev, fmt.Sprintf("%s v%d", e.Path, e.Version))
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", s.ID, s.Status, strings.Join(ev, ", "))
				}
				tw.Flush()
				fmt.Fprintf(w, "%d missing, %d not approved\n", c.Missing, c.Pending)
			}); err != nil {
				return err
			}
			if !c.Complete {
				return exit(ExitNotFound, "%s is incomplete: %d section(s) missing, %d not approved", args[0], c.Missing, c.Pending)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&html, "html", "", "write the printable report to FILE instead")
	return cmd
}

func (a *app) submissionCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "submission", Short: "Freeze, list and compare what was sent to a notified body"}
	var in client.SubmissionInput
	create := &cobra.Command{
		Use:   "create DOSSIER --notified-body NNNN --date DATE [--path PATH ...]",
		Short: "Freeze the current versions (or the paths named) as sent to a notified body on a date: a signed, timestamped log entry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			s, err := cl.Submit(cmd.Context(), args[0], in)
			if err != nil {
				return err
			}
			return a.print(s, func(w io.Writer) { printSubmission(w, s) })
		},
	}
	f := create.Flags()
	f.StringVar(&in.NotifiedBody, "notified-body", "", "the notified body's four-digit number")
	f.StringVar(&in.Date, "date", time.Now().UTC().Format(time.DateOnly), "the day it was sent")
	f.StringSliceVar(&in.Paths, "path", nil, "a document (repeat); every current document when left out")
	f.StringVar(&in.Note, "note", "", "what the submission was for")
	create.MarkFlagRequired("notified-body")
	list := &cobra.Command{
		Use:   "list DOSSIER",
		Short: "The dossier's submissions, oldest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			subs, err := cl.Submissions(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.print(map[string]any{"submissions": subs}, func(w io.Writer) {
				for _, s := range subs {
					fmt.Fprintf(w, "%s  NB %s  %s  %d documents  by %s\n", s.ID, s.NotifiedBody, s.Date, len(s.Documents), s.By.Subject)
				}
			})
		},
	}
	show := &cobra.Command{
		Use:   "show DOSSIER SUBMISSION",
		Short: "One submission: each path, version and SHA-256",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			s, err := cl.Submission(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			return a.print(s, func(w io.Writer) { printSubmission(w, s) })
		},
	}
	var to string
	changes := &cobra.Command{
		Use:   "changes DOSSIER SUBMISSION [--to SUBMISSION]",
		Short: "What changed since a submission: against a later one, or today's current documents",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			ch, err := cl.SubmissionChanges(cmd.Context(), args[0], args[1], to)
			if err != nil {
				return err
			}
			return a.print(ch, func(w io.Writer) {
				for _, f := range ch.Added {
					fmt.Fprintf(w, "+ %s v%d %s\n", f.Path, f.Version, f.SHA256)
				}
				for _, f := range ch.Removed {
					fmt.Fprintf(w, "- %s v%d %s\n", f.Path, f.Version, f.SHA256)
				}
				for _, c := range ch.Changed {
					fmt.Fprintf(w, "~ %s v%d -> v%d %s\n", c.Path, c.From.Version, c.To.Version, c.To.SHA256)
				}
				fmt.Fprintf(w, "%d added, %d removed, %d changed, %d unchanged\n", len(ch.Added), len(ch.Removed), len(ch.Changed), ch.Unchanged)
			})
		},
	}
	changes.Flags().StringVar(&to, "to", "", "a later submission; today's current documents when left out")
	cmd.AddCommand(create, list, show, changes)
	return cmd
}

func printSubmission(w io.Writer, s *client.Submission) {
	fmt.Fprintf(w, "submission %s to notified body %s on %s (log entry %d)\n", s.ID, s.NotifiedBody, s.Date, s.LogIndex)
	for _, d := range s.Documents {
		fmt.Fprintf(w, "  %s v%d %s\n", d.Path, d.Version, d.SHA256)
	}
}
