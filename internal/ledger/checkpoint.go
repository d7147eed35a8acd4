package ledger

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is the body of a C2SP tlog-checkpoint: the log's origin, its
// size and the RFC 6962 root hash of its first Size leaves.
type Checkpoint struct {
	Origin string
	Size   int64
	Hash   tlog.Hash
}

// Tree is the checkpoint as tlog's Tree.
func (c Checkpoint) Tree() tlog.Tree { return tlog.Tree{N: c.Size, Hash: c.Hash} }

// Text formats the checkpoint body: origin, size and base64 root hash, one
// per line, each ending in a newline.
func (c Checkpoint) Text() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Hash[:]))
}

// MaxSize is the most entries a log may hold, 2^53-1: every size and
// index is then exact as a JSON number (a browser reads no larger one
// exactly), and x/mod's tlog, whose proof arithmetic loops forever on a
// size above 2^62, is never handed one.
const MaxSize = 1<<53 - 1

// ParseCheckpoint reads a checkpoint body strictly: a non-empty origin line,
// a decimal size without leading zeros and at most MaxSize, a base64
// SHA-256 hash. Extension lines are allowed by the format and ignored
// here; the vault writes none.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	if !bytes.HasSuffix(text, []byte("\n")) {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint does not end in a newline", ErrMalformed)
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if len(lines) < 3 {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint has %d lines, want at least 3", ErrMalformed, len(lines))
	}
	origin, sizeText, hashText := lines[0], lines[1], lines[2]
	if origin == "" || strings.TrimSpace(origin) != origin {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint origin %q", ErrMalformed, origin)
	}
	size, err := strconv.ParseInt(sizeText, 10, 64)
	if err != nil || size < 0 || size > MaxSize || strconv.FormatInt(size, 10) != sizeText {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint size %q", ErrMalformed, sizeText)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(hashText)
	if err != nil || len(raw) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint root hash %q", ErrMalformed, hashText)
	}
	for _, ext := range lines[3:] {
		if ext == "" {
			return Checkpoint{}, fmt.Errorf("%w: empty extension line in checkpoint", ErrMalformed)
		}
	}
	return Checkpoint{Origin: origin, Size: size, Hash: tlog.Hash(raw)}, nil
}
