package digest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/evidencevault/vault/internal/digest"
)

func data(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(n), byte(n >> 8)}).Read(b)
	return b
}

func hexSum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestCopyWritesEveryByteToEverySink(t *testing.T) {
	for _, size := range []int{0, 1, digest.ChunkSize - 1, digest.ChunkSize, digest.ChunkSize + 1, 3*digest.ChunkSize + 7} {
		in := data(size)
		a, b := sha256.New(), sha256.New()
		var chunks int
		// One byte per Read: fill must gather whole chunks anyway.
		n, err := digest.Copy(context.Background(), iotest.HalfReader(bytes.NewReader(in)), func(int) bool { chunks++; return true }, a, b)
		if err != nil || n != int64(size) {
			t.Fatalf("size %d: got %d bytes, %v; want %d, nil", size, n, err, size)
		}
		if got, want := hex.EncodeToString(a.Sum(nil)), hexSum(in); got != want || hex.EncodeToString(b.Sum(nil)) != want {
			t.Errorf("size %d: got sums %s and %x, want %s", size, got, b.Sum(nil), want)
		}
		if want := (size + digest.ChunkSize - 1) / digest.ChunkSize; chunks != want {
			t.Errorf("size %d: got %d chunks, want %d", size, chunks, want)
		}
	}
}

// A connection cut mid-object is an error, never the end: the bytes seen
// so far are not the object.
func TestCopyReportsACutRead(t *testing.T) {
	cut := io.MultiReader(bytes.NewReader(data(digest.ChunkSize+10)), iotest.ErrReader(io.ErrUnexpectedEOF))
	n, err := digest.Copy(context.Background(), cut, nil, sha256.New())
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("got %d bytes, %v; want io.ErrUnexpectedEOF", n, err)
	}
}

// The hash state saved after a chunk resumes to the same digest: the
// seal's hand-over between calls.
func TestCopyStopsBetweenChunksWithAConsistentState(t *testing.T) {
	in := data(2*digest.ChunkSize + 100)
	h := sha256.New()
	var offset int64
	n, err := digest.Copy(context.Background(), bytes.NewReader(in), func(n int) bool { offset += int64(n); return false }, h)
	if !errors.Is(err, digest.ErrStopped) || n != digest.ChunkSize || offset != n {
		t.Fatalf("got %d bytes (counted %d), %v; want one chunk and ErrStopped", n, offset, err)
	}
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	resumed := sha256.New()
	if err := resumed.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	if _, err := digest.Copy(context.Background(), bytes.NewReader(in[offset:]), nil, resumed); err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(resumed.Sum(nil)), hexSum(in); got != want {
		t.Errorf("resumed digest: got %s, want %s", got, want)
	}
}

func TestCopyHonoursItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := digest.Copy(ctx, bytes.NewReader(data(10)), nil, sha256.New()); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestParts(t *testing.T) {
	const part = digest.ChunkSize + 3 // parts that straddle read chunks
	for _, size := range []int{0, 1, part - 1, part, part + 1, 3*part + 7} {
		in := data(size)
		p := digest.NewParts(part)
		if _, err := digest.Copy(context.Background(), bytes.NewReader(in), nil, sha256.New(), p); err != nil {
			t.Fatal(err)
		}
		want := []string{hexSum(nil)}
		if size > 0 {
			want = nil
			for off := 0; off < size; off += part {
				want = append(want, hexSum(in[off:min(size, off+part)]))
			}
		}
		got := p.Sums()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("size %d: got %d parts %v, want %d %v", size, len(got), got, len(want), want)
		}
	}
}

// Example hashes a stream and its 4-byte parts in one read.
func Example() {
	whole, parts := sha256.New(), digest.NewParts(4)
	n, err := digest.Copy(context.Background(), bytes.NewReader([]byte("technical file")), nil, whole, parts)
	if err != nil {
		panic(err)
	}
	fmt.Println(n, len(parts.Sums()))
	fmt.Printf("%x\n", whole.Sum(nil))
	// Output:
	// 14 4
	// 1eef802e15a97416d30dd6ccb07db522ec7b9d787dd79c36c912ddd4e34d5fab
}

type failingWriter struct{ after int }

func (f *failingWriter) Write(b []byte) (int, error) {
	if f.after -= len(b); f.after < 0 {
		return 0, errors.New("sink full")
	}
	return len(b), nil
}

// A sink that fails fails the copy; a stop leaves every sink's goroutine
// finished, whichever sinks are slower.
func TestCopyWithManySinks(t *testing.T) {
	in := data(5*digest.ChunkSize + 3)
	_, err := digest.Copy(context.Background(), bytes.NewReader(in), nil, sha256.New(), &failingWriter{after: 2 * digest.ChunkSize})
	if err == nil || err.Error() != "sink full" {
		t.Errorf("failing second sink: got %v, want its error", err)
	}
	_, err = digest.Copy(context.Background(), bytes.NewReader(in), nil, &failingWriter{after: digest.ChunkSize}, sha256.New())
	if err == nil || err.Error() != "sink full" {
		t.Errorf("failing first sink: got %v, want its error", err)
	}
	chunks := 0
	n, err := digest.Copy(context.Background(), bytes.NewReader(in), func(int) bool { chunks++; return chunks < 2 }, sha256.New(), digest.NewParts(7))
	if !errors.Is(err, digest.ErrStopped) || n != 2*digest.ChunkSize {
		t.Errorf("stop after two chunks: got %d bytes, %v", n, err)
	}
}
