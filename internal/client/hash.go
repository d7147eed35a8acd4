package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// Digests are a file's SHA-256 and, when it is planned in parts, the
// SHA-256 of each part.
type Digests struct {
	Size   int64    `json:"size"`
	SHA256 string   `json:"sha256"`
	Parts  []string `json:"parts,omitempty"`
}

const hashChunk = 4 << 20

// HashFile reads path once and returns its SHA-256 and, if partSize > 0,
// the SHA-256 of each partSize slice. The file digest and the part digests
// are computed on separate goroutines over the same buffers, so that both
// cost one read and about one hash of wall time. progress, when non-nil,
// hears of each chunk read.
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
	var parts []string
	var part hash.Hash
	var inPart int64
	if partSize > 0 {
		part = sha256.New()
	}
	partWrite := func(b []byte) {
		for len(b) > 0 {
			n := int(min(int64(len(b)), partSize-inPart))
			part.Write(b[:n])
			b, inPart = b[n:], inPart+int64(n)
			if inPart == partSize {
				parts = append(parts, hex.EncodeToString(part.Sum(nil)))
				part.Reset()
				inPart = 0
			}
		}
	}
	type slot struct {
		buf  []byte
		n    int
		refs atomic.Int32
	}
	const buffers = 4
	free := make(chan *slot, buffers)
	for range buffers {
		free <- &slot{buf: make([]byte, hashChunk)}
	}
	consumers := 1
	if part != nil {
		consumers = 2
	}
	chans := make([]chan *slot, consumers)
	var wg sync.WaitGroup
	for i, write := range []func([]byte){func(b []byte) { whole.Write(b) }, partWrite}[:consumers] {
		chans[i] = make(chan *slot, buffers)
		wg.Go(func() {
			for s := range chans[i] {
				write(s.buf[:s.n])
				if s.refs.Add(-1) == 0 {
					free <- s
				}
			}
		})
	}
	var size int64
	var readErr error
	for readErr == nil {
		if readErr = ctx.Err(); readErr != nil {
			break
		}
		s := <-free
		s.n, readErr = io.ReadFull(r, s.buf)
		if s.n == 0 {
			free <- s
			continue
		}
		size += int64(s.n)
		s.refs.Store(int32(consumers))
		for _, ch := range chans {
			ch <- s
		}
		if progress != nil {
			progress(int64(s.n))
		}
	}
	for _, ch := range chans {
		close(ch)
	}
	wg.Wait()
	if readErr != io.EOF && readErr != io.ErrUnexpectedEOF {
		return Digests{}, fmt.Errorf("client: hash: %w", readErr)
	}
	if part != nil && (inPart > 0 || len(parts) == 0) {
		parts = append(parts, hex.EncodeToString(part.Sum(nil)))
	}
	return Digests{Size: size, SHA256: hex.EncodeToString(whole.Sum(nil)), Parts: parts}, nil
}
