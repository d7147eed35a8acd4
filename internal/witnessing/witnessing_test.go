package witnessing_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/evidencevault/vault/internal/devwitness"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/witnessing"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const origin = "evidencevault.dev/ledger/evidence/acme"

// tree is a toy log of n leaves, enough to make checkpoints and proofs
// the witness checks.
type tree struct {
	hashes []tlog.Hash
	n      int64
}

func (t *tree) add(leaf string) {
	hs, err := tlog.StoredHashes(t.n, []byte(leaf), tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = t.hashes[x]
		}
		return out, nil
	}))
	if err != nil {
		panic(err)
	}
	t.hashes = append(t.hashes, hs...)
	t.n++
}

func (t *tree) reader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = t.hashes[x]
		}
		return out, nil
	})
}

func (t *tree) checkpoint(tb testing.TB, key *ecdsa.PrivateKey) []byte {
	root, err := tlog.TreeHash(t.n, t.reader())
	if err != nil {
		tb.Fatal(err)
	}
	signed, err := ledger.SignCheckpoint(context.Background(), ecdsaSigner{key}, ledger.Checkpoint{Origin: origin, Size: t.n, Hash: root})
	if err != nil {
		tb.Fatal(err)
	}
	return signed
}

func (t *tree) prove(_ context.Context, from uint64) ([][]byte, error) {
	p, err := tlog.ProveTree(t.n, int64(from), t.reader())
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(p))
	for i, h := range p {
		out[i] = h[:]
	}
	return out, nil
}

type ecdsaSigner struct{ k *ecdsa.PrivateKey }

func (s ecdsaSigner) Public() crypto.PublicKey { return s.k.Public() }
func (s ecdsaSigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	sum := sha256.Sum256(msg)
	return ecdsa.SignASN1(rand.Reader, s.k, sum[:])
}

// served is a real witness on a loopback port that follows the log of
// key, and a client of it.
func served(t *testing.T, key *ecdsa.PrivateKey, dir string) (*devwitness.Witness, *witnessing.Client, witnessing.Witness) {
	t.Helper()
	vkey, err := ledger.VerifierKey(origin, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	w, err := devwitness.New(context.Background(), devwitness.Options{Name: "witness.test.example", Dir: dir,
		LogKey: func(o string) (string, bool) { return vkey, o == origin }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	v, err := witnessing.ParseVerifier(w.VKey())
	if err != nil {
		t.Fatal(err)
	}
	wit := witnessing.Witness{URL: u, Verifier: v}
	return w, witnessing.New([]witnessing.Witness{wit}, 0, 0), wit
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestCosignAndPolicy(t *testing.T) {
	key := newKey(t)
	_, c, wit := served(t, key, t.TempDir())
	policy := witnessing.Policy{Witnesses: []note.Verifier{wit.Verifier}, Quorum: 1}
	var tr tree
	for i := range 5 {
		tr.add("entry " + string(rune('a'+i)))
		cp := tr.checkpoint(t, key)
		cosigned, err := c.Cosign(context.Background(), origin, uint64(tr.n), cp, tr.prove)
		if err != nil {
			t.Fatalf("size %d: %v", tr.n, err)
		}
		if names, err := policy.Check(cosigned); err != nil || len(names) != 1 || names[0] != "witness.test.example" {
			t.Fatalf("size %d: got %v, %v, want the witness", tr.n, names, err)
		}
		// The log's own signature still opens it.
		if _, err := ledger.OpenCheckpoint(cosigned, origin, []*ecdsa.PublicKey{&key.PublicKey}); err != nil {
			t.Fatalf("size %d: the cosigned note no longer opens under the log's key: %v", tr.n, err)
		}
		if _, err := policy.Check(cp); !errors.Is(err, witnessing.ErrPolicy) {
			t.Errorf("size %d: the log's note alone: got %v, want ErrPolicy", tr.n, err)
		}
	}
	// A fresh client does not know the size the witness holds: the
	// witness tells it (409) and it proves consistency from there.
	fresh := witnessing.New([]witnessing.Witness{wit}, 0, 0)
	tr.add("entry f")
	if _, err := fresh.Cosign(context.Background(), origin, uint64(tr.n), tr.checkpoint(t, key), tr.prove); err != nil {
		t.Fatalf("fresh client: %v", err)
	}
}

// TestSecondHistoryRefused is the rewritten log: the same key signs a
// tree of the same origin with other entries. The witness, having
// cosigned the first, refuses it, and a verifier requiring the witness
// refuses the checkpoint without having kept one itself.
func TestSecondHistoryRefused(t *testing.T) {
	key := newKey(t)
	_, c, wit := served(t, key, t.TempDir())
	policy := witnessing.Policy{Witnesses: []note.Verifier{wit.Verifier}, Quorum: 1}
	var real, forged tree
	for _, e := range []string{"a", "b", "c"} {
		real.add(e)
	}
	if _, err := c.Cosign(context.Background(), origin, 3, real.checkpoint(t, key), real.prove); err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"a", "x", "c", "d"} {
		forged.add(e)
	}
	cosigned, err := c.Cosign(context.Background(), origin, 4, forged.checkpoint(t, key), forged.prove)
	if err == nil || !strings.Contains(err.Error(), "second history") {
		t.Fatalf("got %v, want the witness to refuse a second history", err)
	}
	if _, err := policy.Check(cosigned); !errors.Is(err, witnessing.ErrPolicy) {
		t.Fatalf("the forged checkpoint: got %v, want ErrPolicy", err)
	}
	// Same size, other root.
	forged3 := tree{}
	for _, e := range []string{"a", "x", "c"} {
		forged3.add(e)
	}
	if _, err := c.Cosign(context.Background(), origin, 3, forged3.checkpoint(t, key), forged3.prove); err == nil {
		t.Fatal("a checkpoint of the cosigned size with another root: got cosigned, want refused")
	}
}

func TestWitnessRemembers(t *testing.T) {
	key := newKey(t)
	dir := t.TempDir()
	w, c, _ := served(t, key, dir)
	var real tree
	real.add("a")
	real.add("b")
	if _, err := c.Cosign(context.Background(), origin, 2, real.checkpoint(t, key), real.prove); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// Restarted on the same state, with the same key: the forged history
	// is still refused.
	_, c2, wit2 := served(t, key, dir)
	if wit2.Verifier.KeyHash() == 0 {
		t.Fatal("no witness key")
	}
	var forged tree
	forged.add("x")
	forged.add("y")
	forged.add("z")
	if _, err := c2.Cosign(context.Background(), origin, 3, forged.checkpoint(t, key), forged.prove); err == nil {
		t.Fatal("after a restart: got cosigned, want refused")
	}
}

func TestPolicyRefuses(t *testing.T) {
	key := newKey(t)
	_, c, wit := served(t, key, "")
	_, _, other := served(t, key, "")
	var tr tree
	tr.add("a")
	cosigned, err := c.Cosign(context.Background(), origin, 1, tr.checkpoint(t, key), tr.prove)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		policy witnessing.Policy
		note   []byte
	}{
		{"another witness", witnessing.Policy{Witnesses: []note.Verifier{other.Verifier}, Quorum: 1}, cosigned},
		{"two of two", witnessing.Policy{Witnesses: []note.Verifier{wit.Verifier, other.Verifier}, Quorum: 2}, cosigned},
		{"a quorum beyond the witnesses", witnessing.Policy{Witnesses: []note.Verifier{wit.Verifier}, Quorum: 2}, cosigned},
		{"a cosignature over another body", witnessing.Policy{Witnesses: []note.Verifier{wit.Verifier}, Quorum: 1},
			[]byte(strings.Replace(string(cosigned), "\n1\n", "\n2\n", 1))},
	} {
		if _, err := tc.policy.Check(tc.note); !errors.Is(err, witnessing.ErrPolicy) {
			t.Errorf("%s: got %v, want ErrPolicy", tc.name, err)
		}
	}
	if _, err := (witnessing.Policy{Witnesses: []note.Verifier{wit.Verifier, other.Verifier}, Quorum: 1}).Check(cosigned); err != nil {
		t.Errorf("one of two: %v", err)
	}
}

func TestParse(t *testing.T) {
	key := newKey(t)
	w, _, _ := served(t, key, "")
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"http://127.0.0.1:1/ " + w.VKey(), true},
		{"http://127.0.0.1:1/", false},
		{"ftp://x/ " + w.VKey(), false},
		{"http://127.0.0.1:1/ not-a-key", false},
		{"http://127.0.0.1:1/ " + w.VKey() + " extra", false},
	} {
		if _, err := witnessing.Parse(tc.in); (err == nil) != tc.ok {
			t.Errorf("%q: got %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

// TestOneKeyTwoNames: cosignature/v1 does not sign the witness's name, so
// one witness's line relabelled under another name of the same key
// verifies under both; it must still count once.
func TestOneKeyTwoNames(t *testing.T) {
	key := newKey(t)
	w, c, wit := served(t, key, "")
	var tr tree
	tr.add("a")
	cosigned, err := c.Cosign(context.Background(), origin, 1, tr.checkpoint(t, key), tr.prove)
	if err != nil {
		t.Fatal(err)
	}
	// The same key under another name.
	parts := strings.SplitN(w.VKey(), "+", 3)
	raw, _ := base64.StdEncoding.DecodeString(parts[2])
	vkey2, err := note.NewEd25519VerifierKey("alias.witness.example", ed25519.PublicKey(raw[1:]))
	if err != nil {
		t.Fatal(err)
	}
	alias, err := witnessing.ParseVerifier(vkey2)
	if err != nil {
		t.Fatal(err)
	}
	// Copy the witness's line under the alias's name and hash.
	text := string(cosigned)
	at := strings.Index(text, "— witness.test.example ")
	line := text[at:]
	line = line[:strings.Index(line, "\n")]
	blob, _ := base64.StdEncoding.DecodeString(strings.Fields(line)[2])
	h := make([]byte, 4)
	binary.BigEndian.PutUint32(h, alias.KeyHash())
	relabelled := text + "— alias.witness.example " + base64.StdEncoding.EncodeToString(append(h, blob[4:]...)) + "\n"
	if _, err := (witnessing.Policy{Witnesses: []note.Verifier{alias}, Quorum: 1}).Check([]byte(relabelled)); err != nil {
		t.Fatalf("the relabelled line does not verify under the alias (the test's premise): %v", err)
	}
	two := witnessing.Policy{Witnesses: []note.Verifier{wit.Verifier, alias}, Quorum: 2}
	if _, err := two.Check([]byte(relabelled)); !errors.Is(err, witnessing.ErrPolicy) {
		t.Errorf("one key under two names met a quorum of 2: %v", err)
	}
	if err := two.Distinct(); err == nil {
		t.Error("Distinct: a policy of one key under two names passed")
	}
	if _, err := (witnessing.Policy{Witnesses: []note.Verifier{wit.Verifier}}).Check(cosigned); !errors.Is(err, witnessing.ErrPolicy) {
		t.Errorf("a policy without a quorum: got %v, want ErrPolicy", err)
	}
}
