package receipt_test

import (
	"bytes"
	"context"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"math/big"
	"testing"

	"github.com/evidencevault/vault/internal/receipt"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// TestTwinSignature: the twin verifies as the signature does (which is
// why what binds signature bytes must know it), and the twin of the twin
// is the signature.
func TestTwinSignature(t *testing.T) {
	s := newSigner(t)
	env, _, err := receipt.Parse(sign(t, s))
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	twin, err := receipt.TwinSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(twin, sig) {
		t.Fatal("got the signature itself, want its twin")
	}
	env.Signatures[0].Sig = base64.StdEncoding.EncodeToString(twin)
	if _, _, err := receipt.Verify(context.Background(), env, []receipt.Key{s.Key()}); err != nil {
		t.Errorf("twin: got %v, want it to verify", err)
	}
	back, err := receipt.TwinSignature(twin)
	if err != nil || !bytes.Equal(back, sig) {
		t.Errorf("twin of the twin: got %x (%v), want %x", back, err, sig)
	}
}

func TestTwinSignatureRefusesMalformed(t *testing.T) {
	der := func(r, s *big.Int) []byte { b, _ := asn1.Marshal(struct{ R, S *big.Int }{r, s}); return b }
	n, _ := new(big.Int).SetString("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", 16)
	one := big.NewInt(1)
	tests := []struct {
		name string
		sig  []byte
	}{
		{"empty", nil},
		{"not DER", []byte("signature")},
		{"trailing bytes", append(der(one, one), 0)},
		{"s zero", der(one, big.NewInt(0))},
		{"r zero", der(big.NewInt(0), one)},
		{"s the group order", der(one, n)},
		{"r negative", der(big.NewInt(-1), one)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := receipt.TwinSignature(tt.sig); !errors.Is(err, receipt.ErrMalformed) {
				t.Errorf("got %x (%v), want ErrMalformed", got, err)
			}
		})
	}
}

// FuzzTwinSignature: whatever the bytes, no panic, and a twin made is
// one that twins back to the same DER.
func FuzzTwinSignature(f *testing.F) {
	b, _ := asn1.Marshal(struct{ R, S *big.Int }{big.NewInt(7), big.NewInt(9)})
	f.Add(b)
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, sig []byte) {
		twin, err := receipt.TwinSignature(sig)
		if err != nil {
			return
		}
		back, err := receipt.TwinSignature(twin)
		if err != nil {
			t.Fatalf("twin %x of %x does not twin: %v", twin, sig, err)
		}
		if again, _ := receipt.TwinSignature(back); !bytes.Equal(again, twin) {
			t.Fatalf("twin of %x is not stable", sig)
		}
	})
}

// TestVerifySingle: a record its signer signs once is refused with a
// second signature beside the first, wherever it stands.
func TestVerifySingle(t *testing.T) {
	s := newSigner(t)
	other := dsse.Signature{KeyID: "nobody", Sig: base64.StdEncoding.EncodeToString([]byte("not a signature"))}
	for _, tt := range []struct {
		name string
		edit func(e *receipt.Envelope)
		want error
	}{
		{"one signature", func(*receipt.Envelope) {}, nil},
		{"another before it", func(e *receipt.Envelope) { e.Signatures = append([]dsse.Signature{other}, e.Signatures...) }, receipt.ErrMalformed},
		{"another after it", func(e *receipt.Envelope) { e.Signatures = append(e.Signatures, other) }, receipt.ErrMalformed},
		{"none", func(e *receipt.Envelope) { e.Signatures = nil }, receipt.ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env, _, err := receipt.Parse(sign(t, s))
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(env)
			if _, _, err := receipt.VerifySingle(context.Background(), env, []receipt.Key{s.Key()}); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}
