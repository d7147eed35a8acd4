// Package digest computes SHA-256 digests of streams in constant memory at
// close to the speed of the slower of reading and hashing: chunks are read
// ahead into a fixed set of buffers while the last ones are hashed, and each
// chunk is written to every sink on its own goroutine. The vault's seal
// hashes stored objects with it, resuming saved hash states; the client
// hashes files with it, and the parts of a multipart plan in the same read.
package digest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"sync"
	"sync/atomic"
)

const (
	// ChunkSize is the read size; Buffers chunks are in memory at most.
	ChunkSize = 4 << 20
	Buffers   = 3
)

// ErrStopped is returned by Copy when after asked it to stop.
var ErrStopped = errors.New("digest: stopped")

// Copy reads src until it ends (io.EOF) and writes every byte to each of
// sinks, in order. Any other read error, io.ErrUnexpectedEOF from a cut
// connection among them, is returned as it came, never taken for the end.
//
// The first sink is written on the calling goroutine, each other sink on
// its own, so that two hashes of the same bytes take about the time of
// one. After the first sink has taken each chunk, and before it takes the
// next, Copy calls after (unless nil) with the chunk's length: the first
// sink then holds exactly the bytes counted so far, so that a hash state
// saved there matches the count. A false answer stops the copy with
// ErrStopped. Copy returns once every sink has taken what it was given,
// with the number of bytes the first one took.
func Copy(ctx context.Context, src io.Reader, after func(n int) bool, sinks ...io.Writer) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	free := make(chan *chunk, Buffers)
	for range Buffers {
		free <- &chunk{buf: make([]byte, ChunkSize)}
	}
	full := make(chan *chunk, Buffers)
	go read(ctx, src, free, full)

	// The other sinks each follow on their own goroutine.
	others := make([]chan *chunk, len(sinks)-1)
	errs := make([]error, len(sinks)-1)
	var wg sync.WaitGroup
	for i, w := range sinks[1:] {
		others[i] = make(chan *chunk, Buffers)
		wg.Go(func() {
			for c := range others[i] {
				if errs[i] == nil {
					_, errs[i] = w.Write(c.data)
				}
				c.release(free)
			}
		})
	}
	var total int64
	err := func() error {
		for c := range full {
			if c.err != nil {
				return c.err
			}
			c.refs.Store(int32(len(sinks)))
			for _, ch := range others {
				ch <- c
			}
			n := len(c.data)
			_, werr := sinks[0].Write(c.data)
			c.release(free)
			if werr != nil {
				return werr
			}
			total += int64(n)
			if after != nil && !after(n) {
				return ErrStopped
			}
		}
		return ctx.Err()
	}()
	cancel()
	for range full { // let the reader finish its read and exit
	}
	for _, ch := range others {
		close(ch)
	}
	wg.Wait()
	if err == nil {
		err = errors.Join(errs...)
	}
	return total, err
}

// chunk is one read of src, shared by the sinks: the last to take it
// gives its buffer back.
type chunk struct {
	buf  []byte
	data []byte
	err  error
	refs atomic.Int32
}

func (c *chunk) release(free chan<- *chunk) {
	if c.refs.Add(-1) == 0 {
		free <- c
	}
}

// read fills free chunks from src and hands them on, until src ends, fails
// or ctx is done.
func read(ctx context.Context, src io.Reader, free <-chan *chunk, full chan<- *chunk) {
	defer close(full)
	for {
		var c *chunk
		select {
		case c = <-free:
		case <-ctx.Done():
			return
		}
		n, err := fill(src, c.buf)
		if n > 0 {
			c.data, c.err = c.buf[:n], nil
			full <- c
		}
		if err != nil {
			if err != io.EOF {
				full <- &chunk{err: err}
			}
			return
		}
	}
}

// fill reads into buf until it is full or src fails; it returns io.EOF
// only for the end of src.
func fill(src io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := src.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Parts is a sink that hashes each PartSize slice of what it is given: the
// part digests of a multipart upload plan.
type Parts struct {
	size   int64
	h      hash.Hash
	inPart int64
	sums   []string
}

// NewParts returns a Parts sink for parts of size bytes.
func NewParts(size int64) *Parts { return &Parts{size: size, h: sha256.New()} }

// Write hashes b into the current part, starting new parts as they fill.
func (p *Parts) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		m := int(min(int64(len(b)), p.size-p.inPart))
		p.h.Write(b[:m])
		b, p.inPart = b[m:], p.inPart+int64(m)
		if p.inPart == p.size {
			p.sums = append(p.sums, hex.EncodeToString(p.h.Sum(nil)))
			p.h.Reset()
			p.inPart = 0
		}
	}
	return n, nil
}

// Sums returns the SHA-256 of each part, hex, the last one possibly short;
// an empty stream has one part, of no bytes.
func (p *Parts) Sums() []string {
	if p.inPart > 0 || len(p.sums) == 0 {
		return append(p.sums, hex.EncodeToString(p.h.Sum(nil)))
	}
	return p.sums
}
