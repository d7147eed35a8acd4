package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
)

// A client trusts a vault's log the way SSH trusts a host: it pins the
// log's key on first use (or is given it), derives the other keys from the
// log's signed key history, and keeps the newest checkpoint it verified so
// that any later one must extend it. Nothing the vault lists, and nothing
// in its bucket, can make another key trusted.

// Pin is what a client keeps of one log between runs.
type Pin struct {
	Origin string `json:"origin"`
	// API is where the log was met, for people reading the file.
	API string `json:"api,omitempty"`
	// Home says the log was met acting in the caller's own tenant (no
	// Vault-Tenant): the tenant the API's answers must stay in.
	Home bool `json:"home,omitempty"`
	// Key is the pinned key; the log's history must lead from it.
	Key vault.PublicKey `json:"key"`
	// Keys are the keys the history led to at Checkpoint, each for its
	// span of the log: what offline verification trusts.
	Keys []PinnedKey `json:"keys"`
	// Checkpoint is the newest signed checkpoint verified (a signed note).
	Checkpoint string    `json:"checkpoint"`
	PinnedAt   time.Time `json:"pinnedAt"`
	CheckedAt  time.Time `json:"checkedAt"`
}

// PinnedKey is a key of a pinned log and the span of entries it signs
// (Until -1: the log's current key).
type PinnedKey struct {
	vault.PublicKey
	From  int64 `json:"from"`
	Until int64 `json:"until"`
}

// Trust returns what the pin trusts, offline.
func (p *Pin) Trust(basis string) (vault.Trust, error) {
	t := vault.Trust{Basis: basis}
	for _, k := range p.Keys {
		key, err := receipt.ParsePublicKey([]byte(k.PEM))
		if err != nil || key.ID != k.KeyID {
			return vault.Trust{}, fmt.Errorf("client: pinned key %s of %s does not parse as itself", k.KeyID, p.Origin)
		}
		t.Keys = append(t.Keys, vault.TrustedKey{Key: key, From: k.From, Until: k.Until})
	}
	return t, nil
}

// Pins keeps pins between runs; evault keeps them in its config directory.
type Pins interface {
	// Pin returns the pin of a log, nil if there is none.
	Pin(origin string) (*Pin, error)
	// All returns every pin kept.
	All() ([]Pin, error)
	Keep(p Pin) error
	// Where names the store, for messages.
	Where() string
}

// View is a log as the client verified it: the keys it trusts and the
// latest checkpoint, consistent with every one kept before.
type View struct {
	Origin string
	Trust  vault.Trust
	Latest ledger.Checkpoint
	Signed []byte
	// Pinned are the keys trust starts from.
	Pinned []receipt.Key
	// FirstUse is set when the key was pinned by this call; Kept is the
	// size of the checkpoint kept before, 0 if none.
	FirstUse bool
	Kept     int64
}

// TrustError is a log the client refuses: its key is no signed rotation
// from the pinned one, or its history does not extend the one kept.
type TrustError struct {
	Origin string
	Detail string
	Err    error
}

func (e *TrustError) Error() string { return "log " + e.Origin + ": " + e.Detail }
func (e *TrustError) Unwrap() error { return e.Err }

// KeyHistory returns the log's key events proven in its checkpoint of size
// (the latest if 0).
func (c *Client) KeyHistory(ctx context.Context, size int64) (*vault.KeyLog, error) {
	var q url.Values
	if size > 0 {
		q = url.Values{"size": {strconv.FormatInt(size, 10)}}
	}
	var kl vault.KeyLog
	if _, err := c.do(ctx, "GET", "/v1/log/keys", q, nil, &kl); err != nil {
		return nil, err
	}
	return &kl, nil
}

// Open verifies the caller's tenant's log as it is now. With keys, trust
// starts from them and no pin is read or kept. Otherwise the pin of the
// log in pins is used, or, on first use, the log's current key is pinned;
// the latest checkpoint must extend the one kept, and becomes the one kept.
func (c *Client) Open(ctx context.Context, pins Pins, keys []receipt.Key) (*View, error) {
	return c.OpenChecked(ctx, pins, keys, nil)
}

// OpenChecked is Open with check run on the verified view before anything
// is pinned or kept: a view check refuses leaves pins as they were, so
// that a checkpoint a witness policy refuses never becomes the one kept,
// nor an impostor's key, met first, the one pinned.
func (c *Client) OpenChecked(ctx context.Context, pins Pins, keys []receipt.Key, check func(*View) error) (*View, error) {
	kl, err := c.KeyHistory(ctx, 0)
	if err != nil {
		return nil, err
	}
	v := &View{Origin: kl.Origin, Signed: []byte(kl.Checkpoint), Pinned: keys}
	var pin *Pin
	var homeKnown bool
	if keys == nil {
		if homeKnown, err = c.logOfTenant(kl.Origin, pins); err != nil {
			return nil, err
		}
		if pin, err = pins.Pin(kl.Origin); err != nil {
			return nil, err
		}
		if pin != nil {
			k, err := receipt.ParsePublicKey([]byte(pin.Key.PEM))
			if err != nil {
				return nil, fmt.Errorf("client: the key pinned for %s in %s: %w", kl.Origin, pins.Where(), err)
			}
			v.Pinned = []receipt.Key{k}
		} else if len(kl.Events) == 0 {
			// A log that records no key yet: the vault's current key.
			listed, err := c.Keys(ctx)
			if err != nil {
				return nil, err
			}
			if len(listed) == 0 {
				return nil, &TrustError{Origin: kl.Origin, Detail: "the vault lists no key and its log records none: nothing to pin"}
			}
			v.Pinned, v.FirstUse = listed[:1], true
		}
	}
	v.Trust, v.Latest, err = vault.TrustLog(ctx, kl.Origin, v.Signed, kl.Events, v.Pinned...)
	var untrusted *vault.UntrustedKeyError
	switch {
	case errors.As(err, &untrusted) && pin != nil:
		return nil, &TrustError{Origin: kl.Origin, Err: err, Detail: fmt.Sprintf(
			"it is signed by key %s, which is no signed rotation from key %s that you pinned on %s (%s): refusing it. If the vault's operator told you of a new key, check it with --key, or remove the log's entry from that file to pin again",
			untrusted.Current, untrusted.Pinned, pin.PinnedAt.Format(time.DateOnly), pins.Where())}
	case errors.As(err, &untrusted):
		return nil, &TrustError{Origin: kl.Origin, Err: err, Detail: fmt.Sprintf(
			"it is signed by key %s, which is no signed rotation from the key %s you gave: refusing it", untrusted.Current, untrusted.Pinned)}
	case err != nil:
		return nil, &TrustError{Origin: kl.Origin, Err: err, Detail: "its key history or checkpoint does not verify: " + err.Error()}
	}
	if check != nil {
		if err := check(v); err != nil {
			return nil, err
		}
	}
	if keys != nil {
		return v, nil
	}
	now := time.Now().UTC()
	if pin == nil {
		current := v.Trust.Keys[len(v.Trust.Keys)-1].Key
		if v.Pinned == nil {
			v.Pinned = []receipt.Key{current}
		}
		v.FirstUse = true
		pin = &Pin{Origin: kl.Origin, API: c.base.String(), Home: c.opts.Tenant == "", Key: publicKey(v.Pinned[0]), PinnedAt: now}
	} else if pin.Checkpoint != "" {
		kept, err := v.openOlder(ctx, c, []byte(pin.Checkpoint))
		if err != nil {
			return nil, &TrustError{Origin: kl.Origin, Err: err, Detail: fmt.Sprintf("the checkpoint you kept (%s) is not part of the log as the vault shows it now: %v", pins.Where(), err)}
		}
		v.Kept = kept.Size
	}
	if c.opts.Tenant == "" && !homeKnown {
		// The first answer without a tenant binds the own tenant, also
		// to a log pinned before with --tenant (or by an older evault).
		pin.Home = true
	}
	pin.Checkpoint, pin.CheckedAt, pin.Keys = string(v.Signed), now, pinnedKeys(v.Trust)
	if err := pins.Keep(*pin); err != nil {
		return nil, err
	}
	return v, nil
}

// logOfTenant checks the log the vault answers with against the pins
// kept, on every open: a log of this vault under a new name (another
// bucket, a look-alike) would otherwise be pinned on first use and its
// key trusted, and another tenant's log, pinned already, would stand in
// for the one asked for. Its name must be a vault log's, of the tenant
// the client acts in: the one it names, or else the one its earlier
// answers without a tenant were in; and in the bucket of the logs pinned
// for this API.
func (c *Client) logOfTenant(origin string, pins Pins) (homeKnown bool, err error) {
	bucket, tenant, ok := vault.ParseLogOrigin(origin)
	if !ok {
		return false, &TrustError{Origin: origin, Detail: "it is not named as a vault's log is, evidencevault.dev/ledger/BUCKET/TENANT in ASCII: refusing it"}
	}
	if c.opts.Tenant != "" && tenant != c.opts.Tenant {
		return false, &TrustError{Origin: origin, Detail: fmt.Sprintf("the vault answers tenant %s with the log of tenant %s: refusing it", c.opts.Tenant, tenant)}
	}
	all, err := pins.All()
	if err != nil {
		return false, err
	}
	for _, p := range all {
		other, otherTenant, ok := vault.ParseLogOrigin(p.Origin)
		switch {
		case !ok || p.API != c.base.String():
		case other != bucket:
			return false, &TrustError{Origin: origin, Detail: fmt.Sprintf(
				"you pinned this vault's logs in bucket %s (%s, in %s); it now names bucket %s: refusing a log under a new name. If the vault's operator told you the vault moved, remove the old entries from that file",
				other, p.Origin, pins.Where(), bucket)}
		case p.Home && otherTenant != tenant && c.opts.Tenant == "":
			return false, &TrustError{Origin: origin, Detail: fmt.Sprintf(
				"your own tenant's log here was %s's (%s, in %s); the vault now answers with tenant %s's: refusing it. To act in another tenant, name it with --tenant; if your account moved to tenant %s, remove the entry of %s from that file",
				otherTenant, p.Origin, pins.Where(), tenant, tenant, p.Origin)}
		case p.Home:
			homeKnown = true
		}
	}
	return homeKnown, nil
}

// openOlder opens a signed checkpoint of the view's log and proves that
// the latest extends it.
func (v *View) openOlder(ctx context.Context, c *Client, signed []byte) (ledger.Checkpoint, error) {
	cp, err := ledger.OpenCheckpoint(signed, v.Origin, receipt.PublicKeys(v.Trust.Public()))
	if err != nil {
		return ledger.Checkpoint{}, err
	}
	switch {
	case cp.Size > v.Latest.Size:
		return cp, fmt.Errorf("%w: it has %d entries; the vault's latest checkpoint has %d: the log was rolled back", ledger.ErrInvalid, cp.Size, v.Latest.Size)
	case cp.Size == v.Latest.Size:
		if cp.Hash != v.Latest.Hash {
			return cp, fmt.Errorf("%w: two trees of %d entries differ: the log was forked", ledger.ErrInvalid, cp.Size)
		}
		return cp, nil
	}
	p, err := c.ConsistencyProof(ctx, cp.Size, v.Latest.Size)
	if err != nil {
		return cp, err
	}
	if err := ledger.VerifyConsistency(cp, v.Latest, p.Hashes); err != nil {
		return cp, err
	}
	return cp, nil
}

// Extends proves that the view's latest checkpoint extends signed, an
// earlier checkpoint of the same log (a receipt's, or one to export at),
// signed by the key of its last entry.
func (v *View) Extends(ctx context.Context, c *Client, signed []byte) (ledger.Checkpoint, error) {
	cp, err := v.openOlder(ctx, c, signed)
	if err != nil {
		return cp, &TrustError{Origin: v.Origin, Err: err, Detail: fmt.Sprintf("its checkpoint of size %d is not part of the log the vault shows now: %v", cp.Size, err)}
	}
	var signers []receipt.Key
	for _, k := range v.Trust.Keys {
		if v.Trust.Allows(k.Key.ID, cp.Size-1) {
			signers = append(signers, k.Key)
		}
	}
	if _, err := ledger.OpenCheckpoint(signed, v.Origin, receipt.PublicKeys(signers)); err != nil {
		return cp, &TrustError{Origin: v.Origin, Err: err, Detail: fmt.Sprintf("its checkpoint of size %d is not signed by the key of its last entry", cp.Size)}
	}
	return cp, nil
}

func publicKey(k receipt.Key) vault.PublicKey {
	return vault.PublicKey{KeyID: k.ID, Algorithm: receipt.Algorithm, PEM: string(k.PEM())}
}

func pinnedKeys(t vault.Trust) []PinnedKey {
	out := make([]PinnedKey, len(t.Keys))
	for i, k := range t.Keys {
		out[i] = PinnedKey{PublicKey: publicKey(k.Key), From: k.From, Until: k.Until}
	}
	return out
}
