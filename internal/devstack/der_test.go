package devstack_test

import (
	"slices"
	"testing"
)

// der is one DER element, as a test takes a token apart to alter it.
type der struct {
	tag  byte
	body []byte
}

// readDER reads one definite-length DER element off the front of b.
func readDER(t *testing.T, b []byte) (der, []byte) {
	t.Helper()
	if len(b) < 2 {
		t.Fatalf("readDER: %d bytes", len(b))
	}
	n, at := int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 3 || len(b) < 2+k {
			t.Fatalf("readDER: length of %d bytes", k)
		}
		n = 0
		for _, x := range b[2 : 2+k] {
			n = n<<8 | int(x)
		}
		at += k
	}
	if len(b) < at+n {
		t.Fatalf("readDER: %d bytes of %d", len(b)-at, n)
	}
	return der{b[0], b[at : at+n]}, b[at+n:]
}

// children reads the elements a constructed element holds.
func (e der) children(t *testing.T) []der {
	t.Helper()
	var out []der
	for rest := e.body; len(rest) > 0; {
		var c der
		c, rest = readDER(t, rest)
		out = append(out, c)
	}
	return out
}

// bytes encodes e as DER: its length in the fewest bytes.
func (e der) bytes() []byte {
	n := len(e.body)
	var length []byte
	switch {
	case n < 0x80:
		length = []byte{byte(n)}
	case n < 0x100:
		length = []byte{0x81, byte(n)}
	case n < 0x10000:
		length = []byte{0x82, byte(n >> 8), byte(n)}
	default:
		length = []byte{0x83, byte(n >> 16), byte(n >> 8), byte(n)}
	}
	return slices.Concat([]byte{e.tag}, length, e.body)
}

// longLength encodes e with one needless leading zero byte in its
// length: BER allows it, DER does not.
func (e der) longLength() []byte {
	n := len(e.body)
	return slices.Concat([]byte{e.tag, 0x84, 0, byte(n >> 16), byte(n >> 8), byte(n)}, e.body)
}

// indefinite encodes e with BER's indefinite length, which DER forbids.
func (e der) indefinite() []byte {
	return slices.Concat([]byte{e.tag, 0x80}, e.body, []byte{0, 0})
}

// constructed builds a constructed element of tag from encoded children.
func constructed(tag byte, kids ...[]byte) der {
	return der{tag, slices.Concat(kids...)}
}

// encoded encodes each element.
func encoded(es []der) [][]byte {
	out := make([][]byte, len(es))
	for i, e := range es {
		out[i] = e.bytes()
	}
	return out
}
