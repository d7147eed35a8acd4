package vault

import (
	"crypto/x509"
	"encoding/pem"
)

// VerifierPolicy is what this deployment's receipts can be required to
// carry beyond the vault's signature: timestamps by its authority and
// cosignatures of its witnesses (GET /v1/verification-policy). It is the
// operator's word: a verifier who trusts no part of the deployment brings
// its own (evault's --tsa-roots and --witness). The portal takes it on
// first use and keeps it, as it pins the vault's key, so that a later
// change is shown, not followed.
type VerifierPolicy struct {
	Timestamps *StampPolicy   `json:"timestamps,omitempty"`
	Witnesses  *WitnessPolicy `json:"witnesses,omitempty"`
}

// StampPolicy names the timestamp authorities whose tokens verify a
// receipt's time: their trust anchors and intermediates (PEM), the policy
// OID tokens must carry, and whether they must be qualified.
type StampPolicy struct {
	Roots         []string `json:"roots"`
	Intermediates []string `json:"intermediates,omitempty"`
	Policy        string   `json:"policy,omitempty"`
	Qualified     bool     `json:"qualified"`
}

// WitnessPolicy names the witnesses (note vkeys) that cosign the logs'
// checkpoints, and how many of them a checkpoint needs.
type WitnessPolicy struct {
	Keys   []string `json:"keys"`
	Quorum int      `json:"quorum"`
}

// VerifierPolicy returns the deployment's timestamp authority and
// witnesses, as a verifier would require them: as many of its witnesses
// as the deployment's quorum.
func (s *Service) VerifierPolicy() VerifierPolicy {
	var out VerifierPolicy
	if t := s.stampTrust(); t != nil {
		p := &StampPolicy{Roots: pemsOf(t.Roots), Intermediates: pemsOf(t.Intermediates), Qualified: t.Qualified}
		if len(t.Policy) > 0 {
			p.Policy = t.Policy.String()
		}
		out.Timestamps = p
	}
	if s.cfg.Witnesses != nil {
		if keys := s.cfg.Witnesses.Keys(); len(keys) > 0 {
			out.Witnesses = &WitnessPolicy{Keys: keys, Quorum: s.cfg.Witnesses.Quorum()}
		}
	}
	return out
}

func pemsOf(certs []*x509.Certificate) []string {
	out := []string{}
	for _, c := range certs {
		out = append(out, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
	}
	return out
}
