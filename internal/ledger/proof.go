package ledger

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Hashes is a proof: RFC 6962 node hashes, base64 in JSON as in C2SP and
// Certificate Transparency APIs.
type Hashes []tlog.Hash

// MarshalJSON writes the hashes as an array of base64 strings.
func (h Hashes) MarshalJSON() ([]byte, error) {
	out := make([]string, len(h))
	for i, x := range h {
		out[i] = base64.StdEncoding.EncodeToString(x[:])
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads an array of base64 SHA-256 hashes, strictly.
func (h *Hashes) UnmarshalJSON(data []byte) error {
	var in []string
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("%w: proof: %v", ErrMalformed, err)
	}
	out := make(Hashes, len(in))
	for i, s := range in {
		raw, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil || len(raw) != tlog.HashSize {
			return fmt.Errorf("%w: proof hash %d is not a base64 SHA-256", ErrMalformed, i)
		}
		out[i] = tlog.Hash(raw)
	}
	*h = out
	return nil
}

// maxProofHashes bounds a proof's length: a log of 2^63 leaves needs at
// most 2*63 hashes, so anything longer is not a proof.
const maxProofHashes = 128

// LeafHash is the RFC 6962 leaf hash of a leaf's data.
func LeafHash(data []byte) tlog.Hash { return tlog.RecordHash(data) }

// VerifyInclusion checks that leaf data is the entry at index of the tree a
// checkpoint commits to.
func VerifyInclusion(c Checkpoint, index int64, leaf []byte, proof Hashes) error {
	if c.Size > MaxSize {
		return fmt.Errorf("%w: a tree of %d entries, above %d", ErrMalformed, c.Size, int64(MaxSize))
	}
	if index < 0 || index >= c.Size {
		return fmt.Errorf("%w: index %d is outside a tree of %d entries", ErrInvalid, index, c.Size)
	}
	if len(proof) > maxProofHashes {
		return fmt.Errorf("%w: inclusion proof of %d hashes", ErrMalformed, len(proof))
	}
	if err := tlog.CheckRecord(tlog.RecordProof(proof), c.Size, c.Hash, index, LeafHash(leaf)); err != nil {
		return fmt.Errorf("%w: entry %d is not in the tree of size %d: %v", ErrInvalid, index, c.Size, err)
	}
	return nil
}

// VerifyConsistency checks that the tree of newer extends the tree of
// older: the log only grew between the two checkpoints.
func VerifyConsistency(older, newer Checkpoint, proof Hashes) error {
	if older.Origin != newer.Origin {
		return fmt.Errorf("%w: checkpoints of logs %q and %q", ErrInvalid, older.Origin, newer.Origin)
	}
	if older.Size > newer.Size {
		return fmt.Errorf("%w: size %d is not after size %d", ErrInvalid, newer.Size, older.Size)
	}
	if newer.Size > MaxSize || older.Size < 0 {
		return fmt.Errorf("%w: trees of %d and %d entries, outside 0 to %d", ErrMalformed, older.Size, newer.Size, int64(MaxSize))
	}
	if len(proof) > maxProofHashes {
		return fmt.Errorf("%w: consistency proof of %d hashes", ErrMalformed, len(proof))
	}
	if older.Size == 0 {
		return nil // the empty tree is a prefix of every tree
	}
	if err := tlog.CheckTree(tlog.TreeProof(proof), newer.Size, newer.Hash, older.Size, older.Hash); err != nil {
		return fmt.Errorf("%w: the tree of size %d does not extend the tree of size %d: %v", ErrInvalid, newer.Size, older.Size, err)
	}
	return nil
}

// Proof places one entry in a log: its index, a signed checkpoint covering
// it and the inclusion proof to that checkpoint.
type Proof struct {
	Origin     string `json:"origin"`
	Index      int64  `json:"index"`
	Checkpoint string `json:"checkpoint"` // a C2SP signed note
	Inclusion  Hashes `json:"inclusionProof"`
}

// VerifyProof checks an entry's proof offline: the checkpoint is signed by
// one of keys for the proof's origin, and leaf is the entry at the proof's
// index of the tree it commits to. It returns the checkpoint.
func VerifyProof(leaf []byte, p *Proof, keys []*ecdsa.PublicKey) (Checkpoint, error) {
	if p == nil {
		return Checkpoint{}, fmt.Errorf("%w: no log proof", ErrInvalid)
	}
	c, err := OpenCheckpoint([]byte(p.Checkpoint), p.Origin, keys)
	if err != nil {
		return Checkpoint{}, err
	}
	return c, VerifyInclusion(c, p.Index, leaf, p.Inclusion)
}
