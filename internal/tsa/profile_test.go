package tsa

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/evidencevault/vault/internal/devtsa"
)

// token is a real response of the development authority.
func token(t testing.TB) []byte {
	t.Helper()
	a, err := devtsa.New(devtsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	defer srv.Close()
	c, err := New(Config{URL: srv.URL, Trust: Trust{Roots: []*x509.Certificate{a.Root()}}})
	if err != nil {
		t.Fatal(err)
	}
	tsr, _, err := c.Stamp(context.Background(), []byte("a receipt's signature"))
	if err != nil {
		t.Fatal(err)
	}
	return tsr
}

// header splits a DER element into its header and its content.
func header(b []byte) (head, body []byte) {
	n := 2
	if b[1]&0x80 != 0 {
		n += int(b[1] & 0x7f)
	}
	return b[:n], b[n:]
}

func TestCheckProfile(t *testing.T) {
	tsr := token(t)
	_, body := header(tsr)
	n := len(body)
	// The status, its first element, with the code moved to 1.
	granted := slices.Clone(tsr)
	at := len(tsr) - n
	if granted[at] != 0x30 || granted[at+2] != 0x02 || granted[at+3] != 1 || granted[at+4] != 0 {
		t.Fatalf("the token does not start with a status of code 0: % x", granted[at:at+5])
	}
	granted[at+4] = 1
	tests := []struct {
		name string
		tsr  []byte
		ok   bool
	}{
		{"the authority's token", tsr, true},
		{"a byte after it", append(slices.Clone(tsr), 0), false},
		{"its length with a leading zero", slices.Concat([]byte{0x30, 0x84, 0, byte(n >> 16), byte(n >> 8), byte(n)}, body), false},
		{"BER's indefinite length", slices.Concat([]byte{0x30, 0x80}, body, []byte{0, 0}), false},
		{"granted with modifications", granted, false},
		{"cut short", tsr[:len(tsr)-1], false},
		{"a SET", slices.Concat([]byte{0x31}, tsr[1:]), false},
	}
	for _, tt := range tests {
		_, err := checkProfile(tt.tsr)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, errProfile) {
			t.Errorf("%s: got %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func TestCheckGenTime(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"20261203081500Z", true},
		{"20261203081500.5Z", true},
		{"20261203081500.123456789Z", true},
		{"20261203081500.1234567891Z", false},
		{"20261203081500.50Z", false},
		{"20261203081500.Z", false},
		{"20261203081500+0100", false},
		{"20260230081500Z", false},
		{"20261203241500Z", false},
		{"20261203081560Z", false},
		{"261203081500Z", false},
	}
	for _, tt := range tests {
		if err := checkGenTime(tt.in); (err == nil) != tt.ok {
			t.Errorf("checkGenTime(%q): got %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}

func FuzzCheckProfile(f *testing.F) {
	tsr := token(f)
	f.Add(tsr)
	f.Add(tsr[:len(tsr)/2])
	f.Add([]byte{0x30, 0x80, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := checkProfile(b); err != nil && !errors.Is(err, errProfile) {
			t.Fatalf("refused without saying it is the profile: %v", err)
		}
	})
}
