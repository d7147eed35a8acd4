package tsa_test

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/devtsa"
	"github.com/evidencevault/vault/internal/tsa"
)

func authority(t *testing.T, o devtsa.Options) (*devtsa.Authority, *httptest.Server) {
	t.Helper()
	a, err := devtsa.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return a, srv
}

func client(t *testing.T, url string, trust tsa.Trust) *tsa.Client {
	t.Helper()
	c, err := tsa.New(tsa.Config{URL: url, Trust: trust, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStampVerifies(t *testing.T) {
	a, srv := authority(t, devtsa.Options{})
	trust := tsa.Trust{Roots: []*x509.Certificate{a.Root()}, Policy: devtsa.Policy}
	sig := []byte("a receipt's signature")
	before := time.Now().Add(-time.Second)
	tsr, st, err := client(t, srv.URL, trust).Stamp(context.Background(), sig)
	if err != nil {
		t.Fatal(err)
	}
	if st.Time.Before(before.Truncate(time.Second)) || st.Time.After(time.Now().Add(time.Second)) {
		t.Errorf("got genTime %v, want about now", st.Time)
	}
	if !st.Policy.Equal(devtsa.Policy) || st.Qualified || !strings.Contains(st.Authority, "development TSA") {
		t.Errorf("got %+v, want the development authority's unqualified policy", st)
	}
	again, err := trust.Verify(tsr, sig)
	if err != nil || !again.Time.Equal(st.Time) || again.Serial.Cmp(st.Serial) != 0 {
		t.Fatalf("got %+v, %v, want the stamp again", again, err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	a, srv := authority(t, devtsa.Options{})
	other, _ := authority(t, devtsa.Options{})
	trust := tsa.Trust{Roots: []*x509.Certificate{a.Root()}}
	sig := []byte("signature")
	tsr, _, err := client(t, srv.URL, trust).Stamp(context.Background(), sig)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), tsr...)
	flipped[len(flipped)-10] ^= 1
	for _, tc := range []struct {
		name    string
		tsr     []byte
		message []byte
		trust   tsa.Trust
	}{
		{"another message", tsr, []byte("signaturf"), trust},
		{"another authority's root", tsr, sig, tsa.Trust{Roots: []*x509.Certificate{other.Root()}}},
		{"no anchors", tsr, sig, tsa.Trust{}},
		{"another policy", tsr, sig, tsa.Trust{Roots: trust.Roots, Policy: asn1.ObjectIdentifier{1, 2, 3}}},
		{"qualified required", tsr, sig, tsa.Trust{Roots: trust.Roots, Qualified: true}},
		{"a flipped bit", flipped, sig, trust},
		{"truncated", tsr[:len(tsr)/2], sig, trust},
		{"empty", nil, sig, trust},
	} {
		if _, err := tc.trust.Verify(tc.tsr, tc.message); !errors.Is(err, tsa.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", tc.name, err)
		}
	}
}

func TestQualified(t *testing.T) {
	a, srv := authority(t, devtsa.Options{Qualified: true})
	trust := tsa.Trust{Roots: []*x509.Certificate{a.Root()}, Qualified: true}
	tsr, st, err := client(t, srv.URL, trust).Stamp(context.Background(), []byte("sig"))
	if err != nil || !st.Qualified {
		t.Fatalf("got %+v, %v, want a qualified stamp", st, err)
	}
	if _, err := trust.Verify(tsr, []byte("sig")); err != nil {
		t.Fatal(err)
	}
}

func TestStampUnavailable(t *testing.T) {
	a, srv := authority(t, devtsa.Options{})
	trust := tsa.Trust{Roots: []*x509.Certificate{a.Root()}}
	a.SetDown(true)
	if _, _, err := client(t, srv.URL, trust).Stamp(context.Background(), []byte("sig")); !errors.Is(err, tsa.ErrUnavailable) {
		t.Errorf("down: got %v, want ErrUnavailable", err)
	}
	a.SetDown(false)
	refused := tsa.Trust{Roots: trust.Roots, Policy: asn1.ObjectIdentifier{1, 2, 3}}
	if _, _, err := client(t, srv.URL, refused).Stamp(context.Background(), []byte("sig")); !errors.Is(err, tsa.ErrUnavailable) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("unaccepted policy: got %v, want a refusal", err)
	}
	srv.Close()
	if _, _, err := client(t, srv.URL, trust).Stamp(context.Background(), []byte("sig")); !errors.Is(err, tsa.ErrUnavailable) {
		t.Errorf("closed: got %v, want ErrUnavailable", err)
	}
	other, _ := authority(t, devtsa.Options{})
	osrv := httptest.NewServer(other)
	defer osrv.Close()
	if _, _, err := client(t, osrv.URL, trust).Stamp(context.Background(), []byte("sig")); !errors.Is(err, tsa.ErrInvalid) {
		t.Errorf("an authority not trusted: got %v, want ErrInvalid", err)
	}
}

// TestOpenSSLVerifies checks a token the way an auditor would, with
// openssl ts -verify against the authority's root.
func TestOpenSSLVerifies(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is needed: ", err)
	}
	a, srv := authority(t, devtsa.Options{})
	sig := []byte("the receipt's signature bytes")
	tsr, _, err := client(t, srv.URL, tsa.Trust{Roots: []*x509.Certificate{a.Root()}}).Stamp(context.Background(), sig)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	in, data, root := write("r.tsr", tsr), write("sig.bin", sig), write("root.pem", a.RootPEM())
	if out, err := exec.Command(openssl, "ts", "-verify", "-in", in, "-data", data, "-CAfile", root).CombinedOutput(); err != nil || !strings.Contains(string(out), "Verification: OK") {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
	other := write("other.bin", []byte("another signature"))
	if out, err := exec.Command(openssl, "ts", "-verify", "-in", in, "-data", other, "-CAfile", root).CombinedOutput(); err == nil {
		t.Fatalf("openssl ts -verify of other data: got success, want failure\n%s", out)
	}
}

func FuzzVerify(f *testing.F) {
	a, err := devtsa.New(devtsa.Options{})
	if err != nil {
		f.Fatal(err)
	}
	srv := httptest.NewServer(a)
	defer srv.Close()
	trust := tsa.Trust{Roots: []*x509.Certificate{a.Root()}}
	c, err := tsa.New(tsa.Config{URL: srv.URL, Trust: trust})
	if err != nil {
		f.Fatal(err)
	}
	tsr, _, err := c.Stamp(context.Background(), []byte("sig"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tsr)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := trust.Verify(data, []byte("sig"))
		if err == nil && st.Time.IsZero() {
			t.Fatal("a verified stamp without a time")
		}
	})
}

func TestParsePolicy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{{"1.2.3.4", "1.2.3.4"}, {"2.999.3161.1", "2.999.3161.1"}, {"1", ""}, {"1..2", ""}, {"1.2.x", ""}, {"", ""}, {"1.02", ""}} {
		got, err := tsa.ParsePolicy(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%q: got %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("%q: got %v, %v, want %s", tc.in, got, err, tc.want)
		}
	}
}
