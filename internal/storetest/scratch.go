package storetest

import (
	"slices"
	"testing"

	"github.com/evidencevault/vault/internal/vault"
)

// RunScratch is the contract of the scratch store (vault.Scratch), on a
// fresh one each: the compare-and-swap a sequencer's lease rests on.
func RunScratch(t *testing.T, fresh func(t *testing.T) vault.Scratch) {
	t.Run("get of a missing key", func(t *testing.T) {
		s := fresh(t)
		if _, _, found, err := s.Get(ctx, "a/missing"); err != nil || found {
			t.Errorf("got found %v, err %v; want not found, no error", found, err)
		}
	})
	t.Run("swap is compare and swap", func(t *testing.T) {
		s := fresh(t)
		tag, ok, err := s.Swap(ctx, "lease", []byte("one"), "")
		if err != nil || !ok || tag == "" {
			t.Fatalf("create: got tag %q, swapped %v, err %v; want a tag", tag, ok, err)
		}
		if _, ok, err := s.Swap(ctx, "lease", []byte("again"), ""); err != nil || ok {
			t.Errorf("create over an existing key: got swapped %v, err %v; want false, no error", ok, err)
		}
		tag2, ok, err := s.Swap(ctx, "lease", []byte("two"), tag)
		if err != nil || !ok || tag2 == tag {
			t.Fatalf("swap with the current tag: got tag %q, swapped %v, err %v; want a new tag", tag2, ok, err)
		}
		if _, ok, err := s.Swap(ctx, "lease", []byte("stale"), tag); err != nil || ok {
			t.Errorf("swap with a stale tag: got swapped %v, err %v; want false, no error", ok, err)
		}
		if _, ok, err := s.Swap(ctx, "absent", []byte("x"), tag); err != nil || ok {
			t.Errorf("swap of a missing key with a tag: got swapped %v, err %v; want false, no error", ok, err)
		}
		body, got, found, err := s.Get(ctx, "lease")
		if err != nil || !found || string(body) != "two" || got != tag2 {
			t.Errorf("got %q tag %q (found %v, err %v), want \"two\" tag %q", body, got, found, err, tag2)
		}
		if err := s.Put(ctx, "lease", []byte("three")); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.Swap(ctx, "lease", []byte("four"), tag2); ok {
			t.Error("swap with the tag from before a Put succeeded")
		}
	})
	t.Run("list and delete", func(t *testing.T) {
		s := fresh(t)
		for _, k := range []string{"p/b", "p/a", "q/c"} {
			if err := s.Put(ctx, k, []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		keys, err := s.List(ctx, "p/")
		if err != nil || !slices.Equal(keys, []string{"p/a", "p/b"}) {
			t.Errorf("got %q (%v), want [p/a p/b]", keys, err)
		}
		if err := s.Delete(ctx, []string{"p/a", "p/b", "p/never"}); err != nil {
			t.Fatal(err)
		}
		if keys, err := s.List(ctx, "p/"); err != nil || len(keys) != 0 {
			t.Errorf("after delete got %q (%v), want none", keys, err)
		}
	})
}
