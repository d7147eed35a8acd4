package evault

import (
	"os"
	"strings"

	"github.com/evidencevault/vault/internal/tsa"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/evidencevault/vault/internal/witnessing"
	"github.com/spf13/pflag"
)

// policyFlags are what a verifier requires beyond the vault's key
// (docs/receipt.md): which timestamp authorities it trusts, and which
// witnesses must have cosigned. They hold for every command that
// verifies (get, verify, export, verify-bundle, log check).
type policyFlags struct {
	tsaRoots     []string
	requireStamp bool
	qualified    bool
	tsaPolicy    string
	witnesses    []string
	quorum       int
}

func (p *policyFlags) add(f *pflag.FlagSet) {
	f.StringArrayVar(&p.tsaRoots, "tsa-roots", nil, "PEM trust anchors of the timestamp authorities you trust: each receipt's RFC 3161 timestamp must verify under them (repeatable; default EVAULT_TSA_ROOTS, a file)")
	f.BoolVar(&p.requireStamp, "require-timestamp", false, "refuse a receipt that has no timestamp yet (with --tsa-roots)")
	f.BoolVar(&p.qualified, "qualified-timestamp", false, "accept only qualified electronic timestamps (ETSI EN 319 422)")
	f.StringVar(&p.tsaPolicy, "tsa-policy", "", "the timestamp policy OID tokens must carry")
	f.StringArrayVar(&p.witnesses, "witness", nil, "a witness's public key (vkey, or a file holding one) whose cosignature checkpoints must carry (repeatable; default EVAULT_WITNESSES, keys separated by spaces)")
	f.IntVar(&p.quorum, "witnesses", 0, "how many of the --witness keys must have cosigned (default: all)")
}

// policy reads the flags (and their environment defaults) into what
// verification requires.
func (a *app) policy() (vault.Policy, error) {
	var out vault.Policy
	p := a.policyFlags
	roots := p.tsaRoots
	if len(roots) == 0 {
		if f := a.main.Getenv("EVAULT_TSA_ROOTS"); f != "" {
			roots = []string{f}
		}
	}
	if len(roots) > 0 {
		t := tsa.Trust{Qualified: p.qualified}
		for _, f := range roots {
			data, err := os.ReadFile(f)
			if err != nil {
				return out, exit(ExitUsage, "--tsa-roots: %v", err)
			}
			certs, err := tsa.ParseCertificates(data)
			if err != nil {
				return out, exit(ExitUsage, "--tsa-roots %s: %v", f, err)
			}
			t.Roots = append(t.Roots, certs...)
		}
		if p.tsaPolicy != "" {
			oid, err := tsa.ParsePolicy(p.tsaPolicy)
			if err != nil {
				return out, exit(ExitUsage, "--tsa-policy: %v", err)
			}
			t.Policy = oid
		}
		out.Stamps, out.RequireStamp = &t, p.requireStamp
	} else if p.requireStamp || p.qualified || p.tsaPolicy != "" {
		return out, exit(ExitUsage, "--require-timestamp, --qualified-timestamp and --tsa-policy need --tsa-roots: the authorities whose timestamps you trust")
	}
	keys := p.witnesses
	if len(keys) == 0 {
		keys = strings.Fields(a.main.Getenv("EVAULT_WITNESSES"))
	}
	if len(keys) == 0 {
		if p.quorum != 0 {
			return out, exit(ExitUsage, "--witnesses needs --witness: the keys of the witnesses you require")
		}
		return out, nil
	}
	policy := witnessing.Policy{Quorum: p.quorum}
	for _, k := range keys {
		if data, err := os.ReadFile(k); err == nil {
			k = strings.TrimSpace(string(data))
		}
		v, err := witnessing.ParseVerifier(k)
		if err != nil {
			return out, exit(ExitUsage, "--witness: %v", err)
		}
		policy.Witnesses = append(policy.Witnesses, v)
	}
	if policy.Quorum == 0 {
		policy.Quorum = len(policy.Witnesses)
	}
	if policy.Quorum < 0 || policy.Quorum > len(policy.Witnesses) {
		return out, exit(ExitUsage, "--witnesses %d: want between 1 and the %d witness keys given", p.quorum, len(policy.Witnesses))
	}
	if err := policy.Distinct(); err != nil {
		return out, exit(ExitUsage, "--witness: %v", err)
	}
	out.Witnesses = &policy
	return out, nil
}
