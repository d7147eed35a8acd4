package receipt_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/evidencevault/vault/internal/receipt"
)

func newSigner(t testing.TB) *receipt.LocalSigner {
	t.Helper()
	s, err := receipt.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func statement() receipt.Statement {
	return receipt.Statement{
		Subject:       []receipt.Subject{{Name: "reports/cer.pdf", Digest: map[string]string{"sha256": strings.Repeat("ab", 32)}}},
		PredicateType: "https://evidencevault.dev/receipt/v1",
		Predicate:     json.RawMessage(`{"receiptId":"rcp_x","size":268435456}`),
	}
}

func sign(t *testing.T, s receipt.Signer) []byte {
	t.Helper()
	env, err := receipt.Sign(context.Background(), statement(), s)
	if err != nil {
		t.Fatal(err)
	}
	data, err := receipt.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSignParseVerify(t *testing.T) {
	ctx := context.Background()
	s := newSigner(t)
	env, st, err := receipt.Parse(sign(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if st.Type != receipt.StatementType || st.Subject[0].Name != "reports/cer.pdf" {
		t.Errorf("got statement %+v", st)
	}
	if got, want := string(st.Predicate), `{"receiptId":"rcp_x","size":268435456}`; got != want {
		t.Errorf("got predicate %s, want %s", got, want)
	}
	k, _, err := receipt.Verify(ctx, env, []receipt.Key{newSigner(t).Key(), s.Key()})
	if err != nil {
		t.Fatal(err)
	}
	if k.ID != s.Key().ID {
		t.Errorf("got key %s, want %s", k.ID, s.Key().ID)
	}
}

func TestVerifyRefusesTampering(t *testing.T) {
	ctx := context.Background()
	s := newSigner(t)
	data := sign(t, s)
	tamper := func(f func(e *receipt.Envelope)) *receipt.Envelope {
		env, _, err := receipt.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		f(env)
		return env
	}
	payload := func(edit func(string) string) func(*receipt.Envelope) {
		return func(e *receipt.Envelope) {
			raw, _ := base64.StdEncoding.DecodeString(e.Payload)
			e.Payload = base64.StdEncoding.EncodeToString([]byte(edit(string(raw))))
		}
	}
	other := newSigner(t)
	tests := []struct {
		name string
		env  *receipt.Envelope
		keys []receipt.Key
		want error
	}{
		{"digest changed", tamper(payload(func(p string) string { return strings.Replace(p, "abab", "abac", 1) })), []receipt.Key{s.Key()}, receipt.ErrBadSignature},
		{"size changed", tamper(payload(func(p string) string { return strings.Replace(p, "268435456", "268435457", 1) })), []receipt.Key{s.Key()}, receipt.ErrBadSignature},
		{"signature flipped", tamper(func(e *receipt.Envelope) {
			sig, _ := base64.StdEncoding.DecodeString(e.Signatures[0].Sig)
			sig[len(sig)-1] ^= 1
			e.Signatures[0].Sig = base64.StdEncoding.EncodeToString(sig)
		}), []receipt.Key{s.Key()}, receipt.ErrBadSignature},
		{"payload type changed", tamper(func(e *receipt.Envelope) { e.PayloadType = "application/json" }), []receipt.Key{s.Key()}, receipt.ErrMalformed},
		{"signed by a stranger", tamper(func(*receipt.Envelope) {}), []receipt.Key{other.Key()}, receipt.ErrUnknownKey},
		{"stranger's key id claimed", tamper(func(e *receipt.Envelope) { e.Signatures[0].KeyID = other.Key().ID }), []receipt.Key{other.Key()}, receipt.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := receipt.Verify(ctx, tt.env, tt.keys)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseRefusesMalformed(t *testing.T) {
	good := sign(t, newSigner(t))
	var env map[string]any
	json.Unmarshal(good, &env)
	withPayload := func(p string) string {
		e := map[string]any{"payloadType": receipt.PayloadType, "payload": base64.StdEncoding.EncodeToString([]byte(p)), "signatures": env["signatures"]}
		b, _ := json.Marshal(e)
		return string(b)
	}
	tests := map[string]string{
		"not json":           "receipt",
		"trailing data":      string(good) + "{}",
		"unknown field":      strings.Replace(string(good), `"payloadType"`, `"extra": 1, "payloadType"`, 1),
		"no signatures":      `{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}`,
		"payload not base64": `{"payloadType":"application/vnd.in-toto+json","payload":"!!","signatures":[{"keyid":"k","sig":"AA=="}]}`,
		"statement v0.1":     withPayload(`{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"a","digest":{"sha256":"` + strings.Repeat("ab", 32) + `"}}],"predicateType":"p","predicate":{}}`),
		"no subject":         withPayload(`{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"p","predicate":{}}`),
		"bad digest":         withPayload(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"xyz"}}],"predicateType":"p","predicate":{}}`),
		"no predicate":       withPayload(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + strings.Repeat("ab", 32) + `"}}],"predicateType":"p"}`),
		"too large":          strings.Repeat(" ", receipt.MaxEnvelopeSize+1),
		"payload URL-safe": reencode(t, []byte(withPayload(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"??????>>>>>>","digest":{"sha256":"`+strings.Repeat("ab", 32)+`"}}],"predicateType":"p","predicate":{}}`)),
			"payload", base64.URLEncoding.EncodeToString),
		"payload non-canonical": reencode(t, good, "payload", func(b []byte) string {
			return nonCanonical(t, b)
		}),
		"payload with a newline": reencode(t, good, "payload", func(b []byte) string {
			s := base64.StdEncoding.EncodeToString(b)
			return s[:4] + "\n" + s[4:]
		}),
		"signature non-canonical": reencode(t, good, "sig", func(b []byte) string { return nonCanonical(t, b) }),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if _, _, err := receipt.Parse([]byte(data)); !errors.Is(err, receipt.ErrMalformed) {
				t.Errorf("got %v, want receipt.ErrMalformed", err)
			}
		})
	}
}

// reencode writes the payload (or the first signature, "sig") of an
// envelope with enc: the same bytes, another way.
func reencode(t *testing.T, data []byte, member string, enc func([]byte) string) string {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatal(err)
	}
	at, field := env, member
	if member == "sig" {
		at = env["signatures"].([]any)[0].(map[string]any)
	}
	raw, err := base64.StdEncoding.DecodeString(at[field].(string))
	if err != nil {
		t.Fatal(err)
	}
	if s := enc(raw); s == at[field] {
		t.Fatalf("%s: the encoding is the canonical one", member)
	} else {
		at[field] = s
	}
	b, _ := json.Marshal(env)
	return string(b)
}

// nonCanonical encodes b in standard base64 with the unused bits before
// its padding set. Bytes that base64 would not pad get a space first:
// whitespace after a payload's JSON, and Parse refuses before any
// signature is checked.
func nonCanonical(t *testing.T, b []byte) string {
	t.Helper()
	if len(b)%3 == 0 {
		b = append(b, ' ')
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	s := []byte(base64.StdEncoding.EncodeToString(b))
	at := len(s) - 1 - strings.Count(string(s), "=")
	s[at] = alphabet[strings.IndexByte(alphabet, s[at])+1]
	return string(s)
}

// TestIndependentVerification checks a receipt the way a third party would,
// with nothing but the standard library and the public key: DSSE's PAE
// encoding written out from the spec, SHA-256, ECDSA over P-256.
func TestIndependentVerification(t *testing.T) {
	s := newSigner(t)
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
			Sig   string `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(sign(t, s), &env); err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	pae := "DSSEv1 " + strconv.Itoa(len(env.PayloadType)) + " " + env.PayloadType + " " + strconv.Itoa(len(payload)) + " " + string(payload)
	digest := sha256.Sum256([]byte(pae))
	pub, err := receipt.ParsePublicKey(s.Key().PEM())
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(pub.Public, digest[:], sig) {
		t.Fatal("signature does not verify by hand")
	}
	if env.Signatures[0].KeyID != pub.ID {
		t.Errorf("got keyid %s, want %s", env.Signatures[0].KeyID, pub.ID)
	}
}

func TestKeyID(t *testing.T) {
	s := newSigner(t)
	k, err := receipt.ParsePublicKey(s.Key().PEM())
	if err != nil {
		t.Fatal(err)
	}
	if k.ID != s.Key().ID || len(k.ID) != 64 {
		t.Errorf("got %q, want %q (64 hex digits)", k.ID, s.Key().ID)
	}
	if _, err := receipt.ParsePublicKey([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")); err == nil {
		t.Error("garbage key accepted")
	}
	if _, err := receipt.NewLocalSigner([]byte("not a key")); err == nil {
		t.Error("garbage signing key accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"k","sig":"AA=="}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, st, err := receipt.Parse(data)
		if err != nil {
			if !errors.Is(err, receipt.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if env.PayloadType != receipt.PayloadType || st.Type != receipt.StatementType || len(st.Subject) == 0 || len(env.Signatures) == 0 {
			t.Fatalf("accepted an envelope that breaks the rules: %+v %+v", env, st)
		}
	})
}

// A receipt signed with a local key verifies with the public key alone.
func Example() {
	pemKey, _ := receipt.GenerateKey()
	signer, _ := receipt.NewLocalSigner(pemKey)

	env, _ := receipt.Sign(context.Background(), receipt.Statement{
		Subject:       []receipt.Subject{{Name: "risk/fmea.xlsx", Digest: map[string]string{"sha256": strings.Repeat("0", 64)}}},
		PredicateType: "https://evidencevault.dev/receipt/v1",
		Predicate:     json.RawMessage(`{"receiptId":"rcp_example"}`),
	}, signer)
	data, _ := receipt.Marshal(env)

	published, _ := receipt.ParsePublicKey(signer.Key().PEM())
	parsed, _, _ := receipt.Parse(data)
	key, st, err := receipt.Verify(context.Background(), parsed, []receipt.Key{published})
	fmt.Println(err, key.ID == published.ID, st.Subject[0].Name, st.PredicateType)
	// Output: <nil> true risk/fmea.xlsx https://evidencevault.dev/receipt/v1
}

// TestVerifyAll: a statement signed by two keys proves both; one signature
// missing or altered fails.
func TestVerifyAll(t *testing.T) {
	a, b, c := newSigner(t), newSigner(t), newSigner(t)
	env, err := receipt.Sign(context.Background(), statement(), a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(env.Signatures) != 2 {
		t.Fatalf("got %d signatures, want 2", len(env.Signatures))
	}
	if _, err := receipt.VerifyAll(context.Background(), env, a.Key(), b.Key()); err != nil {
		t.Errorf("both keys: %v", err)
	}
	if _, err := receipt.VerifyAll(context.Background(), env, a.Key(), c.Key()); !errors.Is(err, receipt.ErrUnknownKey) {
		t.Errorf("a key that did not sign: got %v, want ErrUnknownKey", err)
	}
	one := *env
	one.Signatures = env.Signatures[:1]
	if _, err := receipt.VerifyAll(context.Background(), &one, a.Key(), b.Key()); err == nil {
		t.Error("one signature passed for two keys")
	}
}

// TestSignedPayloads: records the vault signs that are not statements open
// only with their payload type and a key that signed them.
func TestSignedPayloads(t *testing.T) {
	ctx := context.Background()
	s, other := newSigner(t), newSigner(t)
	env, err := receipt.SignPayload(ctx, "application/vnd.example+json", []byte(`{"a":1}`), s)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(env)
	altered := bytes.Replace(data, []byte(env.Payload), []byte(base64.StdEncoding.EncodeToString([]byte(`{"a":2}`))), 1)
	tests := []struct {
		name string
		data []byte
		typ  string
		keys []receipt.Key
		want error
	}{
		{"signed", data, "application/vnd.example+json", []receipt.Key{s.Key()}, nil},
		{"another type", data, "application/vnd.other+json", []receipt.Key{s.Key()}, receipt.ErrMalformed},
		{"another key", data, "application/vnd.example+json", []receipt.Key{other.Key()}, receipt.ErrUnknownKey},
		{"altered", altered, "application/vnd.example+json", []receipt.Key{s.Key()}, receipt.ErrBadSignature},
		{"not an envelope", []byte(`{"payload":1}`), "application/vnd.example+json", []receipt.Key{s.Key()}, receipt.ErrMalformed},
	}
	for _, tt := range tests {
		got, err := receipt.OpenPayload(ctx, tt.data, tt.typ, tt.keys)
		switch {
		case tt.want == nil && (err != nil || string(got) != `{"a":1}`):
			t.Errorf("%s: got %q, %v; want the payload", tt.name, got, err)
		case tt.want != nil && !errors.Is(err, tt.want):
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}
