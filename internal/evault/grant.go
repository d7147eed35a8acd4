package evault

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/evidencevault/vault/client"
	"github.com/spf13/cobra"
)

func (a *app) meCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "me",
		Short: "Who you are signed in as; for auditors, the tenants and dossiers granted to you",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			me, err := cl.Me(cmd.Context())
			if err != nil {
				return err
			}
			return a.print(me, func(w io.Writer) {
				fmt.Fprintf(w, "%s, %s", me.Identity.Subject, me.Identity.Role)
				if me.Identity.Home != "" {
					fmt.Fprintf(w, " of tenant %s", me.Identity.Home)
				}
				if me.Identity.Email != "" {
					fmt.Fprintf(w, " <%s>", me.Identity.Email)
				}
				fmt.Fprintln(w)
				printGrants(w, me.Grants)
			})
		},
	}
}

// printGrants lists grants, one per line.
func printGrants(w io.Writer, gs []client.Grant) {
	for _, g := range gs {
		who := g.Grantee.Email
		if who == "" {
			who = g.Grantee.Subject
		}
		fmt.Fprintf(w, "%s  %-8s tenant %s  %s  dossiers %s  until %s  (by %s)\n", g.ID, g.Status, g.Tenant, who,
			strings.Join(g.Dossiers, ","), g.Until.Format(time.DateOnly), g.GrantedBy.Subject)
	}
}

func (a *app) grantCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "grant", Short: "Give auditors access to dossiers until a date, list and revoke grants"}
	var email, subject, until, note string
	var dossiers []string
	give := &cobra.Command{
		Use:   "give --email ADDRESS (--dossier ID ... | --all) --until DATE",
		Short: "Give an auditor read access to dossiers of your tenant until a date (a signed log entry)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, _ := cmd.Flags().GetBool("all")
			if all {
				dossiers = append(dossiers, client.AllDossiers)
			}
			end, err := parseUntil(until)
			if err != nil {
				return exit(ExitUsage, "--until: %v", err)
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			g, err := cl.CreateGrant(cmd.Context(), client.GrantInput{Grantee: &client.Grantee{Email: email, Subject: subject}, Dossiers: dossiers, Until: &end, Note: note})
			if err != nil {
				return err
			}
			return a.print(g, func(w io.Writer) { printGrants(w, []client.Grant{*g}) })
		},
	}
	f := give.Flags()
	f.StringVar(&email, "email", "", "the auditor's e-mail address, as their sign-in provider verified it")
	f.StringVar(&subject, "subject", "", "the auditor's token subject, instead of an e-mail address")
	f.StringSliceVar(&dossiers, "dossier", nil, "a dossier id (repeat for several)")
	f.Bool("all", false, "every dossier of the tenant, present and future")
	f.StringVar(&until, "until", "", "the last day of access (2027-06-30, to its end in UTC) or an RFC 3339 time")
	f.StringVar(&note, "note", "", "why, for the record (an audit's reference, say)")
	give.MarkFlagRequired("until")

	list := &cobra.Command{
		Use:   "list",
		Short: "List your tenant's grants (an auditor's own, for auditors)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			gs, err := cl.Grants(cmd.Context())
			if err != nil {
				return err
			}
			return a.print(map[string]any{"grants": gs}, func(w io.Writer) { printGrants(w, gs) })
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke GRANT",
		Short: "End a grant now (a signed log entry)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			g, err := cl.RevokeGrant(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.print(g, func(w io.Writer) { printGrants(w, []client.Grant{*g}) })
		},
	}
	cmd.AddCommand(give, list, revoke)
	return cmd
}

// parseUntil reads a day (access to its end, UTC) or an RFC 3339 time.
func parseUntil(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a day such as 2027-06-30 or an RFC 3339 time")
	}
	return d.Add(24*time.Hour - time.Second), nil
}

func (a *app) accessCmd() *cobra.Command {
	var since, until, dossier string
	cmd := &cobra.Command{
		Use:   "access",
		Short: "Who downloaded which version, when: the whole trail for admins, your own for others",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now().UTC()
			from, to := now.AddDate(0, 0, -30), now
			for _, p := range []struct {
				s string
				t *time.Time
			}{{since, &from}, {until, &to}} {
				if p.s == "" {
					continue
				}
				d, err := time.Parse(time.DateOnly, p.s)
				if err != nil {
					return exit(ExitUsage, "want days such as 2026-12-01: %q", p.s)
				}
				*p.t = d
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			events, err := cl.AccessTrail(cmd.Context(), from, to, dossier)
			if err != nil {
				return err
			}
			return a.print(map[string]any{"events": events}, func(w io.Writer) {
				for _, e := range events {
					fmt.Fprintf(w, "%s  %s (%s)  %s %s v%d  %s\n", e.At.Format(time.RFC3339), e.Who.Subject, e.Who.Role, e.Dossier, e.Path, e.Version, e.ReceiptID)
				}
			})
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "first day (UTC), 30 days ago by default")
	cmd.Flags().StringVar(&until, "until", "", "last day (UTC), today by default")
	cmd.Flags().StringVar(&dossier, "dossier", "", "one dossier only")
	return cmd
}
