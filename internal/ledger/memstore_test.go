package ledger_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/evidencevault/vault/internal/ledger"
)

// memStore is a ledger.Store in memory with faults: the log's protocol is
// tested on it without an object store server, as Tessera tests its own.
type memStore struct {
	mu      sync.Mutex
	objects map[string][]byte   // each key's newest version
	older   map[string][][]byte // earlier versions, oldest first
	writes  map[string]int      // versions written per key
	// fail, when set, answers a call before it runs: a crash of the
	// calling process at that point leaves exactly what it leaves.
	fail func(op, key string) error
}

func newMemStore() *memStore {
	return &memStore{objects: map[string][]byte{}, older: map[string][][]byte{}, writes: map[string]int{}}
}

var errCrash = errors.New("injected crash")

func (m *memStore) check(op, key string) error {
	m.mu.Lock()
	f := m.fail
	m.mu.Unlock()
	if f != nil {
		return f(op, key)
	}
	return nil
}

// failing makes every call of op on a key containing part fail.
func (m *memStore) failing(op, part string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = func(o, key string) error {
		if o == op && strings.Contains(key, part) {
			return errCrash
		}
		return nil
	}
}

func (m *memStore) healed() { m.mu.Lock(); m.fail = nil; m.mu.Unlock() }

func (m *memStore) Create(ctx context.Context, key string, body []byte) (bool, error) {
	if err := m.check("create", key); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[key]; ok {
		return false, nil
	}
	m.objects[key] = slices.Clone(body)
	m.writes[key]++
	return true, nil
}

func (m *memStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := m.check("get", key); err != nil {
		return nil, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[key]
	return slices.Clone(b), ok, nil
}

func (m *memStore) Put(ctx context.Context, key string, body []byte) error {
	if err := m.check("put", key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.write(key, body)
	return nil
}

func (m *memStore) write(key string, body []byte) {
	if old, ok := m.objects[key]; ok {
		m.older[key] = append(m.older[key], old)
	}
	m.objects[key] = slices.Clone(body)
	m.writes[key]++
}

func (m *memStore) Versions(ctx context.Context, key string) ([][]byte, error) {
	if err := m.check("versions", key); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.older[key])
	if b, ok := m.objects[key]; ok {
		out = append(out, slices.Clone(b))
	}
	return out, nil
}

func (m *memStore) VersionCount(ctx context.Context, key string) (int, error) {
	if err := m.check("versions", key); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.older[key])
	if _, ok := m.objects[key]; ok {
		n++
	}
	return n, nil
}

func (m *memStore) List(ctx context.Context, prefix string) ([]string, error) {
	if err := m.check("list", prefix); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range m.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// overwrite writes a new version over an object, as an operator with
// bucket access could.
func (m *memStore) overwrite(key string, body []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.write(key, body)
}

// plant writes an object where none was, as the only version.
func (m *memStore) plant(key string, body []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[key] = slices.Clone(body)
}

func (m *memStore) count(part string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k := range m.objects {
		if strings.Contains(k, part) {
			n++
		}
	}
	return n
}

// keySigner signs checkpoints with an ECDSA P-256 key in memory.
type keySigner struct{ key *ecdsa.PrivateKey }

func newKeySigner(t testing.TB) keySigner {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return keySigner{k}
}

func (s keySigner) Public() crypto.PublicKey { return &s.key.PublicKey }

func (s keySigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	h := sha256.Sum256(msg)
	return ecdsa.SignASN1(rand.Reader, s.key, h[:])
}

// Records in these tests are JSON strings holding the leaf.
func record(leaf string) json.RawMessage { b, _ := json.Marshal(leaf); return b }

func leafOf(rec []byte) ([]byte, error) {
	var s string
	err := json.Unmarshal(rec, &s)
	return []byte(s), err
}

func entry(id, leaf string) ledger.Entry {
	return ledger.Entry{ID: id, Leaf: []byte(leaf), Record: record(leaf)}
}

// memKeeper keeps each entry's place in memory, as the vault keeps
// receipt bundles; it can be made to fail.
type memKeeper struct {
	mu     sync.Mutex
	places map[string]*ledger.Appended
	over   map[string][]*ledger.Appended // written over a place, newest first
	kept   int                           // entries given to Keep, repeats included
	fail   error                         // Keep's and Kept's answer while set
	lookup error                         // Kept's alone
}

func (k *memKeeper) Keep(_ context.Context, tenant string, entries []*ledger.Appended) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return k.fail
	}
	for _, a := range entries {
		k.places[tenant+"/"+a.ID] = a
		k.kept++
	}
	return nil
}

func (k *memKeeper) Kept(_ context.Context, tenant, id string) ([]*ledger.Appended, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := errors.Join(k.fail, k.lookup); err != nil {
		return nil, err
	}
	kept := k.over[tenant+"/"+id]
	if a, ok := k.places[tenant+"/"+id]; ok {
		kept = append(kept, a)
	}
	return kept, nil
}

func (k *memKeeper) failing(err error) { k.mu.Lock(); k.fail = err; k.mu.Unlock() }

// keepers maps each store to the keeper its processes share, as the vault
// keeps bundles in the same bucket as the log.
var keepers sync.Map

func keeperOf(store ledger.Store) *memKeeper {
	k, _ := keepers.LoadOrStore(store, &memKeeper{places: map[string]*ledger.Appended{}})
	return k.(*memKeeper)
}

// newLog returns one process's Log on store.
func newLog(store ledger.Store, s ledger.Signer, maxBatch int) *ledger.Log {
	return ledger.New(store, s, ledger.Config{
		Origin:   func(tenant string) string { return "example.org/log/" + tenant },
		Prefix:   func(tenant string) string { return "ledger/" + tenant + "/" },
		Leaf:     leafOf,
		Keeper:   keeperOf(store),
		MaxBatch: maxBatch,
	})
}
