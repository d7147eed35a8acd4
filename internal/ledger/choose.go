package ledger

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// The log writes each commit once (If-None-Match), but anyone with the
// bucket's credentials can write other versions beside it, and a key's
// holder can sign one after the key retired, inside the span it signed
// for. Storage's order of versions proves nothing: MinIO lists them by a
// modification time its root can set. So the log's commit at a position
// is chosen by what only the log could sign: a checkpoint of the current
// key, the commit's own or the newest one stored.

// opened is a version of an object that open accepted, with the signed
// checkpoint it carries and the tree that checkpoint signs.
type opened struct {
	body   []byte
	cp     Checkpoint
	signed string
}

// commitVersion reads the log's commit at start: of the versions open
// accepts (returning the checkpoint each signs), the one choose picks.
// open is told when there are several: a version must then show that
// its entries make its checkpoint's tree, since anyone can copy a signed
// checkpoint into a commit of their own. open is called on the chosen
// version last, so that what it records is that version's. refused says
// why other versions, when there are, are not the log's; err is the first
// refusal when none is accepted, and body nil with err nil means no
// version at all.
func (l *Log) commitVersion(ctx context.Context, tl *tenantLog, start int64, open func(data []byte, several bool) (opened, error)) (body []byte, refused, err error) {
	key := tl.commitKey(start)
	versions, err := l.store.Versions(ctx, key)
	if err != nil {
		return nil, nil, fmt.Errorf("ledger: read versions of %s: %w", key, err)
	}
	var accepted []opened
	for _, v := range versions {
		o, err := open(v, len(versions) > 1)
		if err != nil {
			refused = cmpOr(refused, err)
			continue
		}
		o.body = v
		accepted = append(accepted, o)
	}
	if len(accepted) == 0 {
		return nil, refused, refused
	}
	chosen := accepted[0]
	if len(accepted) > 1 {
		i, own, err := l.choose(ctx, tl, key, accepted)
		if err != nil {
			return nil, err, err
		}
		chosen = accepted[i]
		refused = fmt.Errorf("%w: %d versions verify; the log's is the one its current key's checkpoints hold", ErrInvalid, len(accepted))
		if !own {
			refused = fmt.Errorf("%w (%w)", refused, errByAnchor)
		}
	} else if len(versions) > 1 && refused == nil {
		refused = fmt.Errorf("%w: it holds %d versions; the log writes one", ErrInvalid, len(versions))
	}
	if len(accepted) > 1 || len(versions) > 1 && !bytes.Equal(chosen.body, versions[len(versions)-1]) {
		if _, err := open(chosen.body, true); err != nil {
			return nil, nil, fmt.Errorf("ledger: %s: reopen: %w", key, err)
		}
	}
	return chosen.body, refused, nil
}

// holds reports whether the tree cp signs has leaves at start: what a
// commit read without its tree recomputed must show when it is one of
// several versions. Tiles are read into a cache of the check's own, since
// cp need not be the log's.
func (l *Log) holds(ctx context.Context, tl *tenantLog, start int64, leaves []tlog.Hash, cp Checkpoint) error {
	r := verified{tree: cp.Tree(), tiles: tiles{store: l.store, prefix: tl.prefix, cache: &tileCache{}, ctx: ctx}}
	if ok, err := leavesAt(r, start, leaves); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: the commit at %d holds entries its checkpoint's tree does not", ErrInvalid, start)
	}
	return nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// errByAnchor marks a commit chosen among versions by the current key's
// checkpoint rather than by its own signature: its tree is the log's, but
// the object is not known to be the log's, so readers take its entries
// and write nothing of it (no finishing, no head hint).
var errByAnchor = errors.New("ledger: chosen by the current key's checkpoint")

// choose picks the log's among versions that all verify: the one its
// current key signed, or else one whose tree is a prefix of the newest
// checkpoint the current key signed and from whose end the log's commits
// reach that checkpoint. A retired key's holder can cut the log's own
// entries into other commits; every such cut holds the log's tree, so
// what matters is only that the walk arrives (reaches). Ids are not in
// the tree: versions that hold one place under other ids leave no way to
// tell the log's, and are refused.
// own says the chosen version is the one its current key signed.
func (l *Log) choose(ctx context.Context, tl *tenantLog, key string, vs []opened) (chosen int, own bool, err error) {
	current, err := l.currentKeys(ctx, tl)
	if err != nil {
		return 0, false, err
	}
	var ownKey []int
	for i, v := range vs {
		if _, err := OpenCheckpoint([]byte(v.signed), tl.origin, current); err == nil {
			ownKey = append(ownKey, i)
		}
	}
	// The current key's newest checkpoint, found on first need.
	var w *walk
	consistent := func(v opened) (bool, error) {
		if w == nil {
			var largest int64
			for _, v := range vs {
				largest = max(largest, v.cp.Size)
			}
			a, err := l.anchor(ctx, tl, current, largest)
			if err != nil {
				return false, err
			}
			w = &walk{l: l, tl: tl, anchor: a, r: l.reader(ctx, tl, &state{cp: a}), reached: map[int64]bool{}}
			tl.mustReach.Store(max(tl.mustReach.Load(), a.Size))
		}
		return w.holds(v)
	}
	chosen = -1
	if len(ownKey) == 1 {
		chosen, own = ownKey[0], true
	} else {
		for i, v := range vs {
			ok, err := consistent(v)
			if err != nil {
				return 0, false, err
			}
			if !ok {
				continue
			}
			if ok, err = w.reaches(ctx, v.cp.Size); err != nil {
				return 0, false, err
			}
			if ok && (chosen < 0 || v.cp.Size < vs[chosen].cp.Size) {
				chosen = i
			}
		}
		if chosen < 0 {
			return 0, false, &TamperedError{Key: key, Detail: fmt.Sprintf("%d versions verify and none leads along the log's tree to its checkpoint of size %d", len(vs), w.anchor.Size)}
		}
	}
	for i, v := range vs {
		if i == chosen || !idsDisagree(vs[chosen].body, v.body) {
			continue
		}
		ok, err := consistent(v)
		if err != nil {
			return 0, false, err
		}
		if _, oerr := OpenCheckpoint([]byte(v.signed), tl.origin, current); ok || oerr == nil {
			return 0, false, &TamperedError{Key: key, Detail: "versions hold the log's entries under different ids"}
		}
	}
	return chosen, own, nil
}

// walk finds paths along the log's tree, as the current key's checkpoint
// anchor has it: every commit version whose tree is a prefix of the
// anchor's lands on the same state, so a position is all a path needs.
type walk struct {
	l       *Log
	tl      *tenantLog
	anchor  Checkpoint
	r       overlay
	reached map[int64]bool
}

// holds reports whether a version's tree is the anchor's at its size.
func (w *walk) holds(v opened) (bool, error) {
	if v.cp.Size > w.anchor.Size {
		return false, nil
	}
	root, err := tlog.TreeHash(v.cp.Size, w.r)
	if err != nil {
		return false, fmt.Errorf("ledger: the tree of the checkpoint of size %d: %w", w.anchor.Size, err)
	}
	return root == v.cp.Hash, nil
}

// reaches reports whether commits stored from pos on lead to the anchor:
// versions that parse at pos, sign a prefix of the anchor's tree and hold
// its leaves. Each position is read once.
func (w *walk) reaches(ctx context.Context, pos int64) (bool, error) {
	if pos == w.anchor.Size {
		return true, nil
	}
	if ok, seen := w.reached[pos]; seen {
		return ok, nil
	}
	w.reached[pos] = false // a cycle cannot happen (sizes grow), but be safe
	versions, err := w.l.store.Versions(ctx, w.tl.commitKey(pos))
	if err != nil {
		return false, fmt.Errorf("ledger: read versions of %s: %w", w.tl.commitKey(pos), err)
	}
	for _, data := range versions {
		c, leaves, err := w.l.parseCommit(data, pos)
		if err != nil {
			continue
		}
		cp, err := w.l.open(ctx, w.tl, []byte(c.Checkpoint))
		if err != nil || cp.Size != c.Size {
			continue
		}
		if ok, err := w.holds(opened{cp: cp}); err != nil || !ok {
			if err != nil {
				return false, err
			}
			continue
		}
		if ok, err := leavesAt(w.r, pos, leaves); err != nil || !ok {
			if err != nil {
				return false, err
			}
			continue
		}
		if ok, err := w.reaches(ctx, c.Size); err != nil || ok {
			w.reached[pos] = ok
			return ok, err
		}
	}
	return false, nil
}

// idsDisagree reports whether two commits at one position name an entry
// they both hold by different ids.
func idsDisagree(a, b []byte) bool {
	var ca, cb struct {
		Entries []struct {
			ID string `json:"id"`
		} `json:"entries"`
	}
	if json.Unmarshal(a, &ca) != nil || json.Unmarshal(b, &cb) != nil {
		return false
	}
	for i := range min(len(ca.Entries), len(cb.Entries)) {
		if ca.Entries[i].ID != cb.Entries[i].ID {
			return true
		}
	}
	return false
}

// currentKeys are the keys that sign the log's newest checkpoints: those
// that may sign at any size from now on, as the key history says; without
// one, a signing log's own key, else every key.
func (l *Log) currentKeys(ctx context.Context, tl *tenantLog) ([]*ecdsa.PublicKey, error) {
	switch {
	case l.cfg.SignersAt != nil:
		keys, err := l.cfg.SignersAt(ctx, tl.tenant, math.MaxInt64)
		if err != nil {
			return nil, fmt.Errorf("ledger: keys: %w", err)
		}
		return keys, nil
	case l.signer != nil:
		own, ok := l.signer.Public().(*ecdsa.PublicKey)
		if !ok {
			return nil, errors.New("ledger: the checkpoint signer's key is not an ECDSA key")
		}
		return []*ecdsa.PublicKey{own}, nil
	}
	return tl.keys.get(ctx, false)
}

// anchor finds a checkpoint the current keys signed of at least size
// atLeast: the largest stored one any version of which they signed, kept
// for the process's next need. It is paid only when versions of a commit
// disagree.
func (l *Log) anchor(ctx context.Context, tl *tenantLog, current []*ecdsa.PublicKey, atLeast int64) (Checkpoint, error) {
	if cp := tl.anchor.Load(); cp != nil && cp.Size >= atLeast {
		return *cp, nil
	}
	keys, err := l.store.List(ctx, tl.prefix+"checkpoint/")
	if err != nil {
		return Checkpoint{}, fmt.Errorf("ledger: list checkpoints: %w", err)
	}
	type stored struct {
		key  string
		size int64
	}
	var sizes []stored
	for _, k := range keys {
		if n, err := strconv.ParseInt(strings.TrimPrefix(k, tl.prefix+"checkpoint/"), 10, 64); err == nil {
			sizes = append(sizes, stored{k, n})
		}
	}
	slices.SortFunc(sizes, func(a, b stored) int { return cmp.Compare(b.size, a.size) })
	for _, s := range sizes {
		versions, err := l.store.Versions(ctx, s.key)
		if err != nil {
			return Checkpoint{}, fmt.Errorf("ledger: read versions of %s: %w", s.key, err)
		}
		for _, v := range versions {
			if cp, err := OpenCheckpoint(v, tl.origin, current); err == nil && cp.Size == s.size && cp.Size >= atLeast {
				tl.anchor.Store(&cp)
				return cp, nil
			}
		}
	}
	return Checkpoint{}, &TamperedError{Key: tl.prefix + "checkpoint/", Detail: "versions of a commit disagree, and no checkpoint is signed by the log's current key"}
}
