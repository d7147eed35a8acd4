package memstore

import (
	"context"
	"errors"
	"strings"
	"time"
)

// ErrInjected is the error the fault helpers answer with unless told
// otherwise: a storage failure, as a dropped connection would cause.
var ErrInjected = errors.New("memstore: injected fault")

// Call is one operation asked of the bucket.
type Call struct {
	Op  string // the method: Create, Put, Get, List, Versions, Stat, Retain, Open, CreateMultipart, ...
	Key string // the key, or the prefix of a List
	// Version is the version id of a call on one version (GetVersion,
	// Stat, Retain, Hold, Open); "" for others.
	Version string
	N       int // the how-manieth call of Op this is, from 1
}

// Fault looks at a call before it runs; a non-nil error is the call's
// answer and the call changes nothing.
type Fault func(ctx context.Context, c Call) error

type fault struct{ f Fault }

// Inject adds a fault; remove takes it out again.
func (b *Bucket) Inject(f Fault) (remove func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := &fault{f}
	b.faults = append(b.faults, h)
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for i, x := range b.faults {
			if x == h {
				b.faults = append(b.faults[:i], b.faults[i+1:]...)
				return
			}
		}
	}
}

// enter records a call and runs the faults; it is called before the
// bucket's lock is taken, so that a slow fault slows only its call.
func (b *Bucket) enter(ctx context.Context, op, key string) error {
	return b.enterVersion(ctx, op, key, "")
}

// enterVersion is enter for a call on one version of key.
func (b *Bucket) enterVersion(ctx context.Context, op, key, version string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	b.counts[op]++
	c := Call{Op: op, Key: key, Version: version, N: b.counts[op]}
	b.calls = append(b.calls, c)
	faults := make([]Fault, len(b.faults))
	for i, f := range b.faults {
		faults[i] = f.f
	}
	b.mu.Unlock()
	for _, f := range faults {
		if err := f(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// FailNth fails the nth call of op (counted over the bucket's life) with
// err, or ErrInjected if err is nil.
func FailNth(op string, n int, err error) Fault {
	return func(_ context.Context, c Call) error {
		if c.Op == op && c.N == n {
			return orInjected(err)
		}
		return nil
	}
}

// Fail fails every call of op on a key containing part with err, or
// ErrInjected if err is nil. vault.ErrExists as err makes conditional
// creates find the key taken (a precondition failure).
func Fail(op, part string, err error) Fault {
	return func(_ context.Context, c Call) error {
		if c.Op == op && strings.Contains(c.Key, part) {
			return orInjected(err)
		}
		return nil
	}
}

// Delay holds every call of op on a key containing part for d, or until
// its context ends.
func Delay(op, part string, d time.Duration) Fault {
	return func(ctx context.Context, c Call) error {
		if c.Op != op || !strings.Contains(c.Key, part) {
			return nil
		}
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func orInjected(err error) error {
	if err == nil {
		return ErrInjected
	}
	return err
}

// CutReads makes every stream Open returns end after n bytes with
// io.ErrUnexpectedEOF, as a connection cut mid-object does, until heal.
func (b *Bucket) CutReads(n int64) (heal func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cutAfter = n
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.cutAfter = 0
	}
}
