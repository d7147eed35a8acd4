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
	if p.Quorum <= 0 {
		return nil, nil
	}
	if p.Quorum > len(p.Witnesses) {
		return nil, fmt.Errorf("%w: the policy wants %d cosignatures from %d witnesses", ErrPolicy, p.Quorum, len(p.Witnesses))
	}
	n, err := note.Open(checkpoint, note.VerifierList(p.Witnesses...))
	var unverified *note.UnverifiedNoteError
	switch {
	case errors.As(err, &unverified):
		return nil, fmt.Errorf("%w: cosigned by none of the %d required witnesses (%s)", ErrPolicy, p.Quorum, p.names())
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrPolicy, err)
	}
	seen := map[string]bool{}
	var got []string
	for _, s := range n.Sigs {
		id := fmt.Sprintf("%s+%08x", s.Name, s.Hash)
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
