package witnessing

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// ErrPolicy wraps every way a checkpoint fails a witness policy.
var ErrPolicy = errors.New("witnessing: witness policy not met")

// Policy is what a verifier requires of a checkpoint: cosignatures of at
// least Quorum of Witnesses.
type Policy struct {
	Witnesses []note.Verifier
	Quorum    int
}

// Check returns the names of the policy's witnesses that cosigned the
// signed note checkpoint, or an error wrapping ErrPolicy when fewer than
// the quorum did, or when any signature by one of them does not verify.
// The log's own signature is checked elsewhere (ledger.OpenCheckpoint).
func (p Policy) Check(checkpoint []byte) ([]string, error) {
	if p.Quorum <= 0 || p.Quorum > len(p.Witnesses) {
		return nil, fmt.Errorf("%w: the policy wants %d cosignatures from %d witnesses", ErrPolicy, p.Quorum, len(p.Witnesses))
	}
	if err := p.Distinct(); err != nil {
		return nil, err
	}
	n, err := note.Open(checkpoint, note.VerifierList(p.Witnesses...))
	var unverified *note.UnverifiedNoteError
	switch {
	case errors.As(err, &unverified):
		return nil, fmt.Errorf("%w: cosigned by none of the %d required witnesses (%s)", ErrPolicy, p.Quorum, p.names())
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrPolicy, err)
	}
	// A witness counts once, by its key: cosignature/v1 does not sign
	// the name, so a line copied under another name of the same key
	// verifies too.
	keys := map[string]string{}
	for _, w := range p.Witnesses {
		keys[fmt.Sprintf("%s+%08x", w.Name(), w.KeyHash())] = keyOf(w)
	}
	seen := map[string]bool{}
	var got []string
	for _, s := range n.Sigs {
		id := keys[fmt.Sprintf("%s+%08x", s.Name, s.Hash)]
		if !seen[id] {
			seen[id] = true
			got = append(got, s.Name)
		}
	}
	if len(got) < p.Quorum {
		return got, fmt.Errorf("%w: cosigned by %d of the %d required witnesses (%s): %s", ErrPolicy, len(got), p.Quorum, p.names(), strings.Join(got, ", "))
	}
	return got, nil
}

func (p Policy) names() string {
	var names []string
	for _, w := range p.Witnesses {
		names = append(names, w.Name())
	}
	return strings.Join(names, ", ")
}

// Distinct reports an error wrapping ErrPolicy when two of the policy's
// witnesses are one key (under one name or two): they are one witness.
func (p Policy) Distinct() error {
	seen := map[string]string{}
	for _, w := range p.Witnesses {
		k := keyOf(w)
		if other, ok := seen[k]; ok {
			return fmt.Errorf("%w: witnesses %s and %s are one key: they count as one witness", ErrPolicy, other, w.Name())
		}
		seen[k] = w.Name()
	}
	return nil
}

// keyOf identifies a witness by its key where its verifier knows it
// (ParseVerifier's), else by name and key hash.
func keyOf(v note.Verifier) string {
	if k, ok := v.(keyed); ok {
		return "key:" + k.key
	}
	return fmt.Sprintf("name:%s+%08x", v.Name(), v.KeyHash())
}
