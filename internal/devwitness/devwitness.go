// Package devwitness runs a witness for development and tests: the
// witness of github.com/transparency-dev/witness (the one the public
// witness network runs), speaking C2SP tlog-witness over HTTP, with its
// own Ed25519 key and its state in SQLite (or in memory). `make run` and
// the tests cosign the vault's checkpoints with it as a deployment does
// with witnesses run by others.
package devwitness

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	f_note "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/witness/api"
	"github.com/transparency-dev/witness/persistence/inmemory"
	"github.com/transparency-dev/witness/persistence/sqlite"
	"github.com/transparency-dev/witness/witness"
	"golang.org/x/mod/sumdb/note"
)

// Options configure a witness.
type Options struct {
	// Name is the witness's key name, such as witness.dev.example.
	Name string
	// Dir, when set, keeps the witness's key (witness-key) and state
	// (witness.db) between runs; a witness that forgot what it cosigned
	// would cosign a second history.
	Dir string
	// LogKey returns the note verifier key (vkey) of the log origin, and
	// whether the witness follows that log at all.
	LogKey func(origin string) (vkey string, ok bool)
}

// Witness is a running witness's state.
type Witness struct {
	w     *witness.Witness
	vkey  string
	close func() error
	mux   *http.ServeMux
}

// New starts a witness.
func New(ctx context.Context, o Options) (*Witness, error) {
	if o.Name == "" || o.LogKey == nil {
		return nil, errors.New("devwitness: a name and the logs' keys are needed")
	}
	skey, vkey, err := keys(o)
	if err != nil {
		return nil, err
	}
	signer, err := f_note.NewSignerForCosignatureV1(skey)
	if err != nil {
		return nil, fmt.Errorf("devwitness: %w", err)
	}
	var p witness.LogStatePersistence = inmemory.New()
	closeDB := func() error { return nil }
	if o.Dir != "" {
		db, shutdown, err := sqlite.New(ctx, sqlite.Opts{Path: filepath.Join(o.Dir, "witness.db")})
		if err != nil {
			return nil, fmt.Errorf("devwitness: %w", err)
		}
		p, closeDB = db, shutdown
	}
	w, err := witness.New(ctx, witness.Opts{
		Persistence: p,
		Signers:     []note.Signer{signer},
		VerifierForLog: func(_ context.Context, origin string) (note.Verifier, bool, error) {
			vkey, ok := o.LogKey(origin)
			if !ok {
				return nil, false, nil
			}
			v, err := f_note.NewVerifier(vkey)
			if err != nil {
				return nil, false, fmt.Errorf("devwitness: the key of log %s: %w", origin, err)
			}
			return v, true, nil
		},
	})
	if err != nil {
		closeDB()
		return nil, fmt.Errorf("devwitness: %w", err)
	}
	cosigVKey, err := f_note.VKeyToCosignatureV1(vkey)
	if err != nil {
		closeDB()
		return nil, fmt.Errorf("devwitness: %w", err)
	}
	out := &Witness{w: w, vkey: cosigVKey, close: closeDB, mux: http.NewServeMux()}
	h := witness.NewHTTPHandler(w)
	out.mux.HandleFunc("POST "+api.HTTPAddCheckpoint, h.AddCheckpoint)
	return out, nil
}

// keys reads the witness's key pair from o.Dir, or makes one.
func keys(o Options) (skey, vkey string, err error) {
	path := filepath.Join(o.Dir, "witness-key")
	if o.Dir != "" {
		data, err := os.ReadFile(path)
		if err == nil {
			if f := strings.Fields(string(data)); len(f) == 2 {
				return f[0], f[1], nil
			}
			return "", "", fmt.Errorf("devwitness: %s: want the signing and the verifier key", path)
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", "", fmt.Errorf("devwitness: %w", err)
		}
	}
	if skey, vkey, err = note.GenerateKey(rand.Reader, o.Name); err != nil {
		return "", "", fmt.Errorf("devwitness: %w", err)
	}
	if o.Dir != "" {
		if err := os.WriteFile(path, []byte(skey+"\n"+vkey+"\n"), 0o600); err != nil {
			return "", "", fmt.Errorf("devwitness: %w", err)
		}
	}
	return skey, vkey, nil
}

// VKey is the witness's public key (cosignature/v1 vkey): what verifiers
// put in their witness policy.
func (w *Witness) VKey() string { return w.vkey }

// ServeHTTP answers tlog-witness requests.
func (w *Witness) ServeHTTP(rw http.ResponseWriter, r *http.Request) { w.mux.ServeHTTP(rw, r) }

// Close releases the witness's state.
func (w *Witness) Close() error { return w.close() }
