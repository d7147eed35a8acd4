// Package witnessing gets the checkpoints of the vault's logs cosigned by
// independent witnesses and checks a verifier's witness policy. Witnesses
// speak C2SP tlog-witness (POST /add-checkpoint with a consistency proof
// from the size they last cosigned; github.com/transparency-dev/witness's
// client) and answer with C2SP tlog-cosignature signatures, which are
// appended to the log's signed note: the note still opens under the log's
// key alone, and under each witness's key for whoever requires it. A
// witness cosigns only checkpoints consistent with every one it cosigned
// before, so a verifier that requires its cosignature needs no checkpoint
// of its own to be protected against a second history.
package witnessing

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	f_note "github.com/transparency-dev/formats/note"
	whttp "github.com/transparency-dev/witness/client/http"
	"github.com/transparency-dev/witness/witness"
	"golang.org/x/mod/sumdb/note"
)

// Witness is one witness: where it answers and the key it cosigns with.
type Witness struct {
	URL      *url.URL
	Verifier note.Verifier
	// Key is its public key as given (note vkey form), for verifiers
	// to be told which witnesses this deployment uses.
	Key string
}

// ParseVerifier reads a witness's public key in note vkey form
// (name+hash+base64), as witnesses publish it.
func ParseVerifier(vkey string) (note.Verifier, error) {
	vkey = strings.TrimSpace(vkey)
	v, err := f_note.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		return nil, fmt.Errorf("witnessing: witness key %q: %v", vkey, err)
	}
	// The key itself, past name and hash (its first byte, the type, is
	// dropped: a standard and a cosignature Ed25519 key are one key).
	parts := strings.SplitN(vkey, "+", 3)
	key, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(key) < 2 {
		return nil, fmt.Errorf("witnessing: witness key %q: malformed key", vkey)
	}
	return keyed{Verifier: v, key: string(key[1:])}, nil
}

// Ed25519 reports whether a witness's key (note vkey form) is an Ed25519
// key, standard or cosignature/v1: the one kind every verifier of the
// vault checks (browsers have no ML-DSA in WebCrypto).
func Ed25519(vkey string) bool {
	parts := strings.SplitN(strings.TrimSpace(vkey), "+", 3)
	if len(parts) != 3 {
		return false
	}
	key, err := base64.StdEncoding.DecodeString(parts[2])
	return err == nil && len(key) == 33 && (key[0] == 0x01 || key[0] == 0x04)
}

// keyed is a witness's verifier that knows its public key: the name is
// not signed by cosignature/v1, so one key under two names is one
// witness, and counts once.
type keyed struct {
	note.Verifier
	key string
}

// Check reports whether cosigned carries valid cosignatures of the
// client's quorum of its witnesses (and no invalid one of any).
func (c *Client) Check(cosigned []byte) error {
	p := Policy{Quorum: c.quorum}
	for _, w := range c.witnesses {
		p.Witnesses = append(p.Witnesses, w.Verifier)
	}
	_, err := p.Check(cosigned)
	return err
}

// Parse reads a witness given as "URL VKEY".
func Parse(s string) (Witness, error) {
	fields := strings.Fields(s)
	if len(fields) != 2 {
		return Witness{}, fmt.Errorf("witnessing: witness %q: want its URL and its key (vkey), separated by a space", s)
	}
	u, err := url.Parse(fields[0])
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Witness{}, fmt.Errorf("witnessing: witness URL %q: want an http(s) URL", fields[0])
	}
	v, err := ParseVerifier(fields[1])
	if err != nil {
		return Witness{}, err
	}
	return Witness{URL: u, Verifier: v, Key: strings.TrimSpace(fields[1])}, nil
}

// Prover returns the consistency proof of the log from size from to the
// checkpoint being cosigned, as tlog-witness carries it.
type Prover func(ctx context.Context, from uint64) ([][]byte, error)

// Client asks witnesses to cosign checkpoints.
type Client struct {
	witnesses []Witness
	quorum    int
	http      *http.Client
	timeout   time.Duration

	mu sync.Mutex
	// sizes is the size each witness last cosigned, by witness and
	// origin; a wrong guess costs one round trip (409 names the size).
	sizes map[string]uint64
}

// New returns a client of witnesses of which quorum must cosign a
// checkpoint (all of them if 0); each request waits at most timeout (10
// seconds if 0).
func New(witnesses []Witness, quorum int, timeout time.Duration) *Client {
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	if quorum <= 0 || quorum > len(witnesses) {
		quorum = len(witnesses)
	}
	return &Client{witnesses: witnesses, quorum: quorum, http: &http.Client{}, timeout: timeout, sizes: map[string]uint64{}}
}

// Quorum is how many of the client's witnesses must cosign a checkpoint.
func (c *Client) Quorum() int { return c.quorum }

// Witnesses returns the client's witnesses.
func (c *Client) Witnesses() []Witness { return c.witnesses }

// Keys returns the public keys (vkeys) of the client's witnesses.
func (c *Client) Keys() []string {
	keys := make([]string, len(c.witnesses))
	for i, w := range c.witnesses {
		keys[i] = w.Key
	}
	return keys
}

// Cosign sends checkpoint, a signed note of size of the log origin, to
// every witness and returns the note with the cosignatures that verify
// under their keys appended. Each witness that gives none is named in the
// error, which comes with whatever the others gave: the caller decides
// what is enough.
func (c *Client) Cosign(ctx context.Context, origin string, size uint64, checkpoint []byte, prove Prover) ([]byte, error) {
	type result struct {
		lines []byte
		err   error
	}
	results := make([]result, len(c.witnesses))
	var wg sync.WaitGroup
	for i, w := range c.witnesses {
		wg.Go(func() {
			lines, err := c.cosignOne(ctx, w, origin, size, checkpoint, prove)
			results[i] = result{lines, err}
		})
	}
	wg.Wait()
	out := bytes.Clone(checkpoint)
	var errs []error
	for i, r := range results {
		if r.err != nil {
			errs = append(errs, fmt.Errorf("witness %s (%s): %w", c.witnesses[i].Verifier.Name(), c.witnesses[i].URL, r.err))
			continue
		}
		out = append(out, r.lines...)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("witnessing: %w", errors.Join(errs...))
	}
	return out, nil
}

func (c *Client) cosignOne(ctx context.Context, w Witness, origin string, size uint64, checkpoint []byte, prove Prover) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	key := w.URL.String() + " " + origin
	c.mu.Lock()
	old := c.sizes[key]
	c.mu.Unlock()
	cl := whttp.NewWitness(w.URL, c.http)
	for attempt := 0; ; attempt++ {
		if old > size {
			return nil, fmt.Errorf("it has cosigned size %d, beyond this checkpoint's %d", old, size)
		}
		var proof [][]byte
		if old > 0 && old < size {
			var err error
			if proof, err = prove(ctx, old); err != nil {
				return nil, fmt.Errorf("consistency proof from %d: %w", old, err)
			}
		}
		sigs, theirs, err := cl.Update(ctx, old, checkpoint, proof)
		if errors.Is(err, witness.ErrCheckpointStale) && attempt == 0 {
			old = theirs
			continue
		}
		if err != nil {
			return nil, describe(err)
		}
		lines, err := verifiedLines(checkpoint, sigs, w.Verifier)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.sizes[key] < size {
			c.sizes[key] = size
		}
		c.mu.Unlock()
		return lines, nil
	}
}

// describe says what a witness's refusal means for the log.
func describe(err error) error {
	switch {
	case errors.Is(err, witness.ErrInvalidProof), errors.Is(err, witness.ErrRootMismatch):
		return fmt.Errorf("refused: the checkpoint is not consistent with the one it cosigned before (a second history): %w", err)
	case errors.Is(err, witness.ErrUnknownLog):
		return fmt.Errorf("refused: it does not witness this log: %w", err)
	case errors.Is(err, witness.ErrNoValidSignature):
		return fmt.Errorf("refused: the checkpoint is not signed by the key it knows for the log: %w", err)
	}
	return err
}

// verifiedLines keeps the signature lines a witness returned that verify
// under its key over the checkpoint.
func verifiedLines(checkpoint, sigs []byte, v note.Verifier) ([]byte, error) {
	if len(sigs) == 0 {
		return nil, errors.New("it answered without a cosignature")
	}
	n, err := note.Open(append(bytes.Clone(checkpoint), sigs...), note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("its cosignature does not verify under its key: %v", err)
	}
	var out []byte
	for _, s := range n.Sigs {
		out = fmt.Appendf(out, "— %s %s\n", s.Name, s.Base64)
	}
	return out, nil
}
