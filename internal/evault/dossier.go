package evault

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/evidencevault/vault/internal/vault"
	"github.com/spf13/cobra"
)

func (a *app) dossierCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "dossier", Short: "Create and list dossiers (one per device, by Basic UDI-DI)"}
	var in vault.DossierInput
	var implantable, highRiskAI bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a dossier",
		Long:  "Create a dossier for one device. Its retention (10 years, 15 for implantables) follows from it.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			in.Implantable, in.HighRiskAI = &implantable, &highRiskAI
			d, err := cl.CreateDossier(cmd.Context(), in)
			if err != nil {
				return err
			}
			return a.print(d, func(w io.Writer) {
				fmt.Fprintf(w, "created dossier %s: %s (%s, %s class %s, kept %d years)\n", d.ID, d.Name, d.BasicUDIDI, d.Regulation, d.RiskClass, d.RetentionYears)
			})
		},
	}
	f := create.Flags()
	f.StringVar(&in.Name, "name", "", "device name")
	f.StringVar(&in.BasicUDIDI, "basic-udi-di", "", "Basic UDI-DI (GS1, HIBCC, ICCBBA or IFA)")
	f.StringVar((*string)(&in.Regulation), "regulation", "MDR", "MDR or IVDR")
	f.StringVar(&in.RiskClass, "risk-class", "", "risk class (MDR: I, Is, Im, Ir, IIa, IIb, III; IVDR: A, As, B, C, D)")
	f.BoolVar(&implantable, "implantable", false, "an implantable device (15 years' retention)")
	f.BoolVar(&highRiskAI, "high-risk-ai", false, "a high-risk AI system under the AI Act")
	f.StringVar(&in.NotifiedBody, "notified-body", "", "notified body number, e.g. 0197")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the dossiers this identity may read",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.listDossiers(cmd) },
	}
	cmd.AddCommand(create, list)
	return cmd
}

func (a *app) listDossiers(cmd *cobra.Command) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	ds, err := cl.Dossiers(cmd.Context())
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []vault.Dossier{}
	}
	return a.print(map[string]any{"dossiers": ds}, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DOSSIER\tNAME\tBASIC UDI-DI\tCLASS\tKEPT")
		for _, d := range ds {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%d years\n", d.ID, d.Name, d.BasicUDIDI, d.Regulation, d.RiskClass, d.RetentionYears)
		}
		tw.Flush()
	})
}
