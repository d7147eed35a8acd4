package ledger_test

import (
	"context"
	"encoding/hex"
	"errors"
	"math"
	"testing"

	"crypto/ecdsa"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/tlog"
)

// RFC 6962 known answers: the eight leaves and tree roots used by
// Certificate Transparency's reference tests (and Trillian's).
var ctLeaves = []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}

var ctRoots = []string{
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

type memTree struct{ hashes []tlog.Hash }

func (m *memTree) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = m.hashes[x]
	}
	return out, nil
}

func (m *memTree) add(t *testing.T, data []byte) {
	t.Helper()
	hs, err := tlog.StoredHashes(m.size(), data, m)
	if err != nil {
		t.Fatal(err)
	}
	m.hashes = append(m.hashes, hs...)
}

func (m *memTree) size() int64 {
	var n int64
	for tlog.StoredHashCount(n) < int64(len(m.hashes)) {
		n++
	}
	return n
}

func ctTree(t *testing.T) (*memTree, [][]byte) {
	t.Helper()
	m := &memTree{}
	var leaves [][]byte
	for _, h := range ctLeaves {
		data, _ := hex.DecodeString(h)
		leaves = append(leaves, data)
		m.add(t, data)
	}
	return m, leaves
}

func TestRFC6962KnownAnswers(t *testing.T) {
	m, _ := ctTree(t)
	for n := int64(1); n <= int64(len(ctRoots)); n++ {
		got, err := tlog.TreeHash(n, m)
		if err != nil {
			t.Fatal(err)
		}
		if want := ctRoots[n-1]; hex.EncodeToString(got[:]) != want {
			t.Errorf("root of %d leaves: got %x, want %s", n, got, want)
		}
	}
	if got := ledger.LeafHash(nil); hex.EncodeToString(got[:]) != ctRoots[0] {
		t.Errorf("leaf hash of the empty leaf: got %x, want %s", got, ctRoots[0])
	}
}

// TestProofsCrossChecked proves every (index, size) and (from, to) of the
// known-answer tree with tlog, then checks each proof with an independent
// verifier, transparency-dev/merkle, and with the ledger's own functions.
func TestProofsCrossChecked(t *testing.T) {
	m, leaves := ctTree(t)
	hasher := rfc6962.DefaultHasher
	for size := int64(1); size <= 8; size++ {
		root, _ := tlog.TreeHash(size, m)
		cp := ledger.Checkpoint{Origin: "example.org/log", Size: size, Hash: root}
		for index := int64(0); index < size; index++ {
			p, err := tlog.ProveRecord(size, index, m)
			if err != nil {
				t.Fatal(err)
			}
			raw := make([][]byte, len(p))
			for i := range p {
				raw[i] = p[i][:]
			}
			if err := proof.VerifyInclusion(hasher, uint64(index), uint64(size), hasher.HashLeaf(leaves[index]), raw, root[:]); err != nil {
				t.Errorf("independent verifier refuses inclusion of %d in %d: %v", index, size, err)
			}
			if err := ledger.VerifyInclusion(cp, index, leaves[index], ledger.Hashes(p)); err != nil {
				t.Errorf("VerifyInclusion(%d in %d): %v", index, size, err)
			}
			other := append([]byte{0xff}, leaves[index]...)
			if err := ledger.VerifyInclusion(cp, index, other, ledger.Hashes(p)); !errors.Is(err, ledger.ErrInvalid) {
				t.Errorf("VerifyInclusion of another leaf at %d in %d: got %v, want ErrInvalid", index, size, err)
			}
		}
		for from := int64(1); from <= size; from++ {
			p, err := tlog.ProveTree(size, from, m)
			if err != nil {
				t.Fatal(err)
			}
			oldRoot, _ := tlog.TreeHash(from, m)
			raw := make([][]byte, len(p))
			for i := range p {
				raw[i] = p[i][:]
			}
			if err := proof.VerifyConsistency(hasher, uint64(from), uint64(size), raw, oldRoot[:], root[:]); err != nil {
				t.Errorf("independent verifier refuses consistency %d to %d: %v", from, size, err)
			}
			older := ledger.Checkpoint{Origin: cp.Origin, Size: from, Hash: oldRoot}
			if err := ledger.VerifyConsistency(older, cp, ledger.Hashes(p)); err != nil {
				t.Errorf("VerifyConsistency(%d to %d): %v", from, size, err)
			}
			if from < size {
				forged := older
				forged.Hash[0] ^= 1
				if err := ledger.VerifyConsistency(forged, cp, ledger.Hashes(p)); !errors.Is(err, ledger.ErrInvalid) {
					t.Errorf("VerifyConsistency from a rewritten tree %d to %d: got %v, want ErrInvalid", from, size, err)
				}
			}
		}
	}
}

func TestSignedCheckpoint(t *testing.T) {
	s := newKeySigner(t)
	other := newKeySigner(t)
	var root tlog.Hash
	root[0] = 7
	cp := ledger.Checkpoint{Origin: "evidencevault.dev/ledger/b/acme", Size: 42, Hash: root}
	signed, err := ledger.SignCheckpoint(context.Background(), s, cp)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ledger.OpenCheckpoint(signed, cp.Origin, []*ecdsa.PublicKey{&other.key.PublicKey, &s.key.PublicKey})
	if err != nil || got != cp {
		t.Fatalf("OpenCheckpoint: got %+v, %v; want %+v", got, err, cp)
	}
	tests := []struct {
		name   string
		note   []byte
		origin string
		keys   []*ecdsa.PublicKey
		want   error
	}{
		{"unknown key", signed, cp.Origin, []*ecdsa.PublicKey{&other.key.PublicKey}, ledger.ErrInvalid},
		{"another tenant's log", signed, "evidencevault.dev/ledger/b/other", []*ecdsa.PublicKey{&s.key.PublicKey}, ledger.ErrInvalid},
		{"size changed", []byte(string(signed[:len(cp.Origin)+1]) + "43" + string(signed[len(cp.Origin)+3:])), cp.Origin, []*ecdsa.PublicKey{&s.key.PublicKey}, ledger.ErrInvalid},
		{"not a note", []byte("hello\n"), cp.Origin, []*ecdsa.PublicKey{&s.key.PublicKey}, ledger.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ledger.OpenCheckpoint(tt.note, tt.origin, tt.keys); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseCheckpoint(t *testing.T) {
	good := "example.org/log\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	if c, err := ledger.ParseCheckpoint([]byte(good)); err != nil || c.Size != 12 || c.Origin != "example.org/log" {
		t.Fatalf("got %+v, %v", c, err)
	}
	for _, bad := range []string{
		"", "example.org/log\n12\n", "example.org/log\n012\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"example.org/log\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "example.org/log\n12\nAAAA\n",
		"\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "example.org/log\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"example.org/log\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n",
		"example.org/log\n9007199254740992\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"example.org/log\n9223372036854775807\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	} {
		if _, err := ledger.ParseCheckpoint([]byte(bad)); !errors.Is(err, ledger.ErrMalformed) {
			t.Errorf("ParseCheckpoint(%q): got %v, want ErrMalformed", bad, err)
		}
	}
}

// TestVerifyAtTheLargestSizes: x/mod's tlog loops forever on a tree above
// 2^62 entries; sizes above MaxSize are refused before it is called.
func TestVerifyAtTheLargestSizes(t *testing.T) {
	if _, err := ledger.ParseCheckpoint([]byte("o\n9007199254740991\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")); err != nil {
		t.Errorf("ParseCheckpoint at MaxSize: got %v, want nil", err)
	}
	leaf := []byte("leaf")
	for _, tt := range []struct {
		name string
		err  error
		want error
	}{
		{"inclusion in a tree of MaxSize", ledger.VerifyInclusion(ledger.Checkpoint{Size: ledger.MaxSize}, ledger.MaxSize-1, leaf, nil), ledger.ErrInvalid},
		{"inclusion in a tree of 2^63-1", ledger.VerifyInclusion(ledger.Checkpoint{Size: math.MaxInt64}, math.MaxInt64-1, leaf, nil), ledger.ErrMalformed},
		{"inclusion in a tree of 2^53", ledger.VerifyInclusion(ledger.Checkpoint{Size: ledger.MaxSize + 1}, 0, leaf, nil), ledger.ErrMalformed},
		{"consistency to a tree of 2^63-1", ledger.VerifyConsistency(ledger.Checkpoint{Size: 1}, ledger.Checkpoint{Size: math.MaxInt64}, nil), ledger.ErrMalformed},
		{"consistency from a tree of -1", ledger.VerifyConsistency(ledger.Checkpoint{Size: -1}, ledger.Checkpoint{Size: 3}, nil), ledger.ErrMalformed},
		{"consistency to a tree of MaxSize", ledger.VerifyConsistency(ledger.Checkpoint{Size: 1}, ledger.Checkpoint{Size: ledger.MaxSize}, nil), ledger.ErrInvalid},
	} {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte("example.org/log\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"))
	f.Add([]byte("o\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ledger.ParseCheckpoint(data)
		if err != nil {
			return
		}
		again, err := ledger.ParseCheckpoint(c.Text())
		if err != nil || again != c {
			t.Fatalf("a parsed checkpoint does not survive formatting: %+v, %v", again, err)
		}
	})
}

func FuzzOpenCheckpoint(f *testing.F) {
	s := newKeySigner(f)
	signed, _ := ledger.SignCheckpoint(context.Background(), s, ledger.Checkpoint{Origin: "o.example/log", Size: 3})
	f.Add(signed)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ledger.OpenCheckpoint(data, "o.example/log", []*ecdsa.PublicKey{&s.key.PublicKey})
		if err == nil && c.Origin != "o.example/log" {
			t.Fatalf("opened a checkpoint of %q", c.Origin)
		}
	})
}

func FuzzProofJSON(f *testing.F) {
	f.Add([]byte(`["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]`))
	f.Add([]byte(`{"origin":"o","index":1,"checkpoint":"x","inclusionProof":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var h ledger.Hashes
		if h.UnmarshalJSON(data) == nil {
			out, err := h.MarshalJSON()
			var again ledger.Hashes
			if err != nil || again.UnmarshalJSON(out) != nil || len(again) != len(h) {
				t.Fatalf("hashes do not round-trip: %s", out)
			}
		}
	})
}
