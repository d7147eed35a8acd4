// Package memstore is a versioned object bucket in memory, for tests: the
// parts of S3's behaviour the vault depends on (versions and delete markers,
// conditional creates, Object Lock retention, SHA-256 checksums, multipart
// uploads, presigned PUTs bound to their declaration) and faults injected on
// demand (fail the Nth call, answer "exists", slow a call). Tessera keeps a
// memory object store beside its tests for the same reason: the protocol on
// top of storage can be tested quickly, and under faults a real server will
// not produce at will. The contract tests in internal/storetest run against
// this bucket and against MinIO alike, so that the two agree.
package memstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing/iotest"
	"time"

	"github.com/evidencevault/vault/internal/vault"
)

// Bucket is one in-memory bucket with versioning and Object Lock on.
type Bucket struct {
	name string
	now  func() time.Time

	mu         sync.Mutex
	seq        int                   // for upload ids and URL tokens
	versionSeq map[string]int        // versions ever written, per key
	objects    map[string][]*version // oldest first
	uploads    map[string]*upload
	grants     map[string]grant // presigned requests by token
	faults     []*fault
	cutAfter   int64 // Open streams end with a cut connection after this many bytes; 0: they do not
	calls      []Call
	counts     map[string]int // calls by operation, for Call.N
}

// version is one version of a key, or a delete marker.
type version struct {
	id           string
	body         []byte
	marker       bool
	contentType  string
	meta         map[string]string
	sha256       string // "" for joined multipart objects, as S3 keeps none
	lastModified time.Time
	lock         vault.Lock
	held         bool
}

// Option configures a Bucket.
type Option func(*Bucket)

// WithClock makes the bucket stamp versions with now instead of time.Now.
func WithClock(now func() time.Time) Option {
	return func(b *Bucket) {
		if now != nil {
			b.now = now
		}
	}
}

// New returns an empty bucket named name.
func New(name string, opts ...Option) *Bucket {
	b := &Bucket{name: name, now: time.Now, objects: map[string][]*version{}, versionSeq: map[string]int{}, uploads: map[string]*upload{},
		grants: map[string]grant{}, counts: map[string]int{}}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Bucket returns the bucket's name.
func (b *Bucket) Bucket() string { return b.name }

// nextID returns the id of key's next version. Ids count each key's own
// versions, so that they do not depend on writes to other keys.
func (b *Bucket) nextID(key string) string {
	b.versionSeq[key]++
	return fmt.Sprintf("v%06d", b.versionSeq[key])
}

// latest returns key's newest version, nil if it has none.
func (b *Bucket) latest(key string) *version {
	vs := b.objects[key]
	if len(vs) == 0 {
		return nil
	}
	return vs[len(vs)-1]
}

// find returns one version of key, the latest if id is "".
func (b *Bucket) find(key, id string) *version {
	if id == "" {
		return b.latest(key)
	}
	for _, v := range b.objects[key] {
		if v.id == id {
			return v
		}
	}
	return nil
}

func (b *Bucket) add(key string, v *version) *version {
	v.id = b.nextID(key)
	v.lastModified = b.now().UTC().Truncate(time.Millisecond)
	b.objects[key] = append(b.objects[key], v)
	return v
}

func sum(body []byte) string {
	s := sha256.Sum256(body)
	return hex.EncodeToString(s[:])
}

func lockOf(l *vault.Lock) vault.Lock {
	if l == nil {
		return vault.Lock{}
	}
	return vault.Lock{Mode: l.Mode, Until: l.Until.UTC()}
}

// Create writes body at key unless a version of key exists that is not a
// delete marker (S3's If-None-Match: *).
func (b *Bucket) Create(ctx context.Context, key string, body []byte, lock *vault.Lock) error {
	if err := b.enter(ctx, "Create", key); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if v := b.latest(key); v != nil && !v.marker {
		return vault.ErrExists
	}
	b.add(key, &version{body: bytes.Clone(body), sha256: sum(body), lock: lockOf(lock)})
	return nil
}

// Put writes a new version of key unconditionally.
func (b *Bucket) Put(ctx context.Context, key string, body []byte) error {
	if err := b.enter(ctx, "Put", key); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.add(key, &version{body: bytes.Clone(body), sha256: sum(body)})
	return nil
}

// Get returns the body of key's newest version that is not a delete
// marker, as s3store reads beneath someone else's marker.
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	if err := b.enter(ctx, "Get", key); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	vs := b.objects[key]
	for i := len(vs) - 1; i >= 0; i-- {
		if !vs[i].marker {
			return bytes.Clone(vs[i].body), nil
		}
	}
	return nil, fmt.Errorf("memstore: get %s: %w", key, vault.ErrNotFound)
}

// GetVersion returns one version's body.
func (b *Bucket) GetVersion(ctx context.Context, key, versionID string) ([]byte, error) {
	if err := b.enterVersion(ctx, "GetVersion", key, versionID); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v := b.find(key, versionID)
	if v == nil || v.marker || versionID == "" {
		return nil, fmt.Errorf("memstore: get %s@%s: %w", key, versionID, vault.ErrNotFound)
	}
	return bytes.Clone(v.body), nil
}

// List returns every key under prefix with all its versions, delete
// markers included, oldest first.
func (b *Bucket) List(ctx context.Context, prefix string) ([]vault.Object, error) {
	if err := b.enter(ctx, "List", prefix); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var keys []string
	for k := range b.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]vault.Object, len(keys))
	for i, k := range keys {
		out[i].Key = k
		for _, v := range b.objects[k] {
			out[i].Versions = append(out[i].Versions, vault.ObjectVersion{ID: v.id, LastModified: v.lastModified, DeleteMarker: v.marker})
		}
	}
	return out, nil
}

// Versions returns the version ids of key, newest first, without delete
// markers.
func (b *Bucket) Versions(ctx context.Context, key string) ([]string, error) {
	if err := b.enter(ctx, "Versions", key); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var ids []string
	vs := b.objects[key]
	for i := len(vs) - 1; i >= 0; i-- {
		if !vs[i].marker {
			ids = append(ids, vs[i].id)
		}
	}
	return ids, nil
}

// Stat describes one version of key, the latest if versionID is "".
func (b *Bucket) Stat(ctx context.Context, key, versionID string) (vault.ObjectInfo, error) {
	if err := b.enterVersion(ctx, "Stat", key, versionID); err != nil {
		return vault.ObjectInfo{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v := b.find(key, versionID)
	if v == nil || v.marker {
		return vault.ObjectInfo{}, fmt.Errorf("memstore: stat %s@%s: %w", key, versionID, vault.ErrNotFound)
	}
	return vault.ObjectInfo{
		Key: key, VersionID: v.id, Size: int64(len(v.body)), SHA256: v.sha256, ContentType: v.contentType,
		LastModified: v.lastModified, Metadata: maps.Clone(v.meta), LockMode: v.lock.Mode, RetainUntil: v.lock.Until, LegalHold: v.held,
	}, nil
}

// Retain sets one version's retention. As in S3, compliance retention can
// only be extended, and governance retention only by a caller who may
// bypass it (this bucket lets the vault, like a governance-mode bucket
// whose role may).
func (b *Bucket) Retain(ctx context.Context, key, versionID string, lock vault.Lock) error {
	if err := b.enterVersion(ctx, "Retain", key, versionID); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v := b.find(key, versionID)
	if v == nil || v.marker {
		return fmt.Errorf("memstore: retain %s@%s: %w", key, versionID, vault.ErrNotFound)
	}
	if v.lock.Mode == vault.Compliance && (lock.Mode != vault.Compliance || lock.Until.Before(v.lock.Until)) {
		return fmt.Errorf("memstore: retain %s@%s: compliance retention can only be extended", key, versionID)
	}
	v.lock = lockOf(&lock)
	return nil
}

// Hold sets or lifts one version's legal hold.
func (b *Bucket) Hold(ctx context.Context, key, versionID string, on bool) error {
	if err := b.enterVersion(ctx, "Hold", key, versionID); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v := b.find(key, versionID)
	if v == nil || v.marker {
		return fmt.Errorf("memstore: hold %s@%s: %w", key, versionID, vault.ErrNotFound)
	}
	v.held = on
	return nil
}

// Open streams one version from offset on.
func (b *Bucket) Open(ctx context.Context, key, versionID string, offset int64) (io.ReadCloser, error) {
	if err := b.enterVersion(ctx, "Open", key, versionID); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v := b.find(key, versionID)
	if v == nil || v.marker {
		return nil, fmt.Errorf("memstore: open %s@%s: %w", key, versionID, vault.ErrNotFound)
	}
	if offset < 0 || offset > int64(len(v.body)) {
		return nil, fmt.Errorf("memstore: open %s@%s: offset %d outside %d bytes", key, versionID, offset, len(v.body))
	}
	var r io.Reader = bytes.NewReader(v.body[offset:])
	if b.cutAfter > 0 {
		r = io.MultiReader(io.LimitReader(r, b.cutAfter), iotest.ErrReader(io.ErrUnexpectedEOF))
	}
	return io.NopCloser(r), nil
}

// Operator actions: what someone with the bucket's root credentials can do
// with an ordinary S3 client, for tamper tests.

// Overwrite writes a new version of key, as any PUT without a condition.
func (b *Bucket) Overwrite(key string, body []byte) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.add(key, &version{body: bytes.Clone(body), sha256: sum(body)}).id
}

// Hide puts a delete marker on key; locked versions stay beneath it.
func (b *Bucket) Hide(key string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.add(key, &version{marker: true}).id
}

// Remove deletes one version of key, unless Object Lock retains it.
func (b *Bucket) Remove(key, versionID string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	vs := b.objects[key]
	for i, v := range vs {
		if v.id != versionID {
			continue
		}
		if v.held {
			return fmt.Errorf("memstore: %s@%s is under legal hold", key, versionID)
		}
		if v.lock.Mode != "" && b.now().Before(v.lock.Until) {
			return fmt.Errorf("memstore: %s@%s is retained in %s mode until %s", key, versionID, v.lock.Mode, v.lock.Until.Format(time.RFC3339))
		}
		b.objects[key] = slices.Delete(vs, i, i+1)
		if len(b.objects[key]) == 0 {
			delete(b.objects, key)
		}
		return nil
	}
	return fmt.Errorf("memstore: remove %s@%s: %w", key, versionID, vault.ErrNotFound)
}

// Keys returns every key with any version, markers included, in order.
func (b *Bucket) Keys() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Sorted(maps.Keys(b.objects))
}

// Latest returns the latest body of key and whether it has one that is not
// a delete marker, without counting as a call.
func (b *Bucket) Latest(key string) ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v := b.latest(key)
	if v == nil || v.marker {
		return nil, false
	}
	return bytes.Clone(v.body), true
}

// VersionCount returns how many versions key has, delete markers included.
func (b *Bucket) VersionCount(key string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.objects[key])
}

// Calls returns the calls the bucket has answered, in order, since the
// last reset.
func (b *Bucket) Calls(reset bool) []Call {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := slices.Clone(b.calls)
	if reset {
		b.calls = nil
	}
	return out
}

// Storage returns the bucket in each of the vault's storage roles.
func (b *Bucket) Storage() vault.Storage {
	return vault.Storage{Records: b, Objects: b, Uploads: b, Presigner: b}
}

// The vault's storage, all in one bucket, as s3store provides it.
var (
	_ vault.Records   = (*Bucket)(nil)
	_ vault.Objects   = (*Bucket)(nil)
	_ vault.Uploads   = (*Bucket)(nil)
	_ vault.Presigner = (*Bucket)(nil)
)
