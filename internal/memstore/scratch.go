package memstore

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Scratch is a bucket without versioning or Object Lock in memory: the
// vault's transient state (vault.Scratch), with the Bucket's faults
// (Inject) and call log, its operations named Scratch.Get, Scratch.Swap,
// Scratch.Put, Scratch.List and Scratch.Delete.
type Scratch struct {
	*Bucket // faults and calls only

	smu     sync.Mutex
	objects map[string]scratchObject
	tags    int
}

type scratchObject struct {
	body []byte
	tag  string
}

// NewScratch returns an empty scratch bucket.
func NewScratch(name string) *Scratch {
	return &Scratch{Bucket: New(name), objects: map[string]scratchObject{}}
}

func (s *Scratch) write(key string, body []byte) string {
	s.tags++
	tag := `"` + strconv.Itoa(s.tags) + `"`
	s.objects[key] = scratchObject{body: slices.Clone(body), tag: tag}
	return tag
}

// Get returns key's body and tag.
func (s *Scratch) Get(ctx context.Context, key string) ([]byte, string, bool, error) {
	if err := s.enter(ctx, "Scratch.Get", key); err != nil {
		return nil, "", false, err
	}
	s.smu.Lock()
	defer s.smu.Unlock()
	o, ok := s.objects[key]
	return slices.Clone(o.body), o.tag, ok, nil
}

// Swap writes body at key if its tag is tag, or with "" if key is absent.
func (s *Scratch) Swap(ctx context.Context, key string, body []byte, tag string) (string, bool, error) {
	if err := s.enter(ctx, "Scratch.Swap", key); err != nil {
		return "", false, err
	}
	s.smu.Lock()
	defer s.smu.Unlock()
	o, ok := s.objects[key]
	if (tag == "" && ok) || (tag != "" && (!ok || o.tag != tag)) {
		return "", false, nil
	}
	return s.write(key, body), true, nil
}

// Put writes body at key.
func (s *Scratch) Put(ctx context.Context, key string, body []byte) error {
	if err := s.enter(ctx, "Scratch.Put", key); err != nil {
		return err
	}
	s.smu.Lock()
	defer s.smu.Unlock()
	s.write(key, body)
	return nil
}

// List returns the keys under prefix in lexical order.
func (s *Scratch) List(ctx context.Context, prefix string) ([]string, error) {
	if err := s.enter(ctx, "Scratch.List", prefix); err != nil {
		return nil, err
	}
	s.smu.Lock()
	defer s.smu.Unlock()
	var keys []string
	for k := range s.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// Delete removes keys.
func (s *Scratch) Delete(ctx context.Context, keys []string) error {
	if err := s.enter(ctx, "Scratch.Delete", strings.Join(keys, ",")); err != nil {
		return err
	}
	s.smu.Lock()
	defer s.smu.Unlock()
	for _, k := range keys {
		delete(s.objects, k)
	}
	return nil
}

// Overwrite writes body at key as anyone with the bucket's credentials
// could, and returns its tag.
func (s *Scratch) Overwrite(key string, body []byte) string {
	s.smu.Lock()
	defer s.smu.Unlock()
	return s.write(key, body)
}

// Body returns what key holds.
func (s *Scratch) Body(key string) ([]byte, bool) {
	s.smu.Lock()
	defer s.smu.Unlock()
	o, ok := s.objects[key]
	return slices.Clone(o.body), ok
}
