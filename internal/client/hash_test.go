package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

func TestHashReaderParts(t *testing.T) {
	const part = hashChunk + 3 // parts that straddle read chunks
	for _, size := range []int{1, part - 1, part, part + 1, 3*part + 7, 2*hashChunk + 1} {
		data := make([]byte, size)
		rand.NewChaCha8([32]byte{byte(size)}).Read(data)
		got, err := hashReader(context.Background(), bytes.NewReader(data), part, nil)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if got.SHA256 != hex.EncodeToString(sum[:]) || got.Size != int64(size) {
			t.Errorf("size %d: got %s (%d bytes), want %x", size, got.SHA256, got.Size, sum)
		}
		var want []string
		for off := 0; off < size; off += part {
			s := sha256.Sum256(data[off:min(size, off+part)])
			want = append(want, hex.EncodeToString(s[:]))
		}
		if len(got.Parts) != len(want) {
			t.Fatalf("size %d: got %d parts, want %d", size, len(got.Parts), len(want))
		}
		for i := range want {
			if got.Parts[i] != want[i] {
				t.Errorf("size %d part %d: got %s, want %s", size, i+1, got.Parts[i], want[i])
			}
		}
	}
}
