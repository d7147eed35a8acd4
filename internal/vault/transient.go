package vault

import (
	"context"
	"strings"
)

// transient keeps progress the vault re-checks and may lose: the hash
// state of a multipart seal and the attempts at an idempotency key, both
// written over as they go. In Scratch, under transientPrefix (which
// expires), when the vault has one, so that they leave no locked versions
// in the evidence bucket; among the records otherwise. Upload sessions
// are not transient: the claim orders chain entries by the session's
// storage time, which only a version in the evidence bucket keeps
// unaltered (docs/design.md, issue 17).
type transient struct {
	scratch Scratch
	records Records
}

// transientPrefix is where transient state lives in Scratch; the bucket
// expires it after a month (s3store.TransientExpiryDays, and the stack).
const transientPrefix = "transient/"

func (t transient) create(ctx context.Context, key string, body []byte) error {
	if t.scratch == nil {
		return t.records.Create(ctx, key, body, nil)
	}
	_, swapped, err := t.scratch.Swap(ctx, transientPrefix+key, body, "")
	if err == nil && !swapped {
		err = ErrExists
	}
	return err
}

func (t transient) put(ctx context.Context, key string, body []byte) error {
	if t.scratch == nil {
		return t.records.Put(ctx, key, body)
	}
	return t.scratch.Put(ctx, transientPrefix+key, body)
}

// get returns ErrNotFound when key holds nothing.
func (t transient) get(ctx context.Context, key string) ([]byte, error) {
	if t.scratch == nil {
		return t.records.Get(ctx, key)
	}
	body, _, found, err := t.scratch.Get(ctx, transientPrefix+key)
	if err == nil && !found {
		err = ErrNotFound
	}
	return body, err
}

// list returns the keys under prefix.
func (t transient) list(ctx context.Context, prefix string) ([]string, error) {
	if t.scratch == nil {
		objs, err := t.records.List(ctx, prefix)
		keys := make([]string, len(objs))
		for i, o := range objs {
			keys[i] = o.Key
		}
		return keys, err
	}
	keys, err := t.scratch.List(ctx, transientPrefix+prefix)
	for i, k := range keys {
		keys[i] = strings.TrimPrefix(k, transientPrefix)
	}
	return keys, err
}
