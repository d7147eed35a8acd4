package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/evidencevault/vault/internal/digest"
)

// Digests are a file's SHA-256 and, when it is planned in parts, the
// SHA-256 of each part.
type Digests struct {
	Size   int64    `json:"size"`
	SHA256 string   `json:"sha256"`
	Parts  []string `json:"parts,omitempty"`
}

// HashFile reads path once and returns its SHA-256 and, if partSize > 0,
// the SHA-256 of each partSize slice. The file digest and the part digests
// are computed on separate goroutines over the same buffers
// (internal/digest), so that both cost one read and about one hash of wall
// time. progress, when non-nil, hears of each chunk hashed.
func HashFile(ctx context.Context, path string, partSize int64, progress func(int64)) (Digests, error) {
	f, err := os.Open(path)
	if err != nil {
		return Digests{}, fmt.Errorf("client: hash: %w", err)
	}
	defer f.Close()
	return hashReader(ctx, f, partSize, progress)
}

func hashReader(ctx context.Context, r io.Reader, partSize int64, progress func(int64)) (Digests, error) {
	whole := sha256.New()
	sinks := []io.Writer{whole}
	var parts *digest.Parts
	if partSize > 0 {
		parts = digest.NewParts(partSize)
		sinks = append(sinks, parts)
	}
	n, err := digest.Copy(ctx, r, func(n int) bool {
		if progress != nil {
			progress(int64(n))
		}
		return true
	}, sinks...)
	if err != nil {
		return Digests{}, fmt.Errorf("client: hash: %w", err)
	}
	d := Digests{Size: n, SHA256: hex.EncodeToString(whole.Sum(nil))}
	if parts != nil {
		d.Parts = parts.Sums()
	}
	return d, nil
}
