package kmssign_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"
	"github.com/evidencevault/vault/internal/kmssign"
	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
)

// fakeKMS answers KMS's JSON 1.1 protocol (X-Amz-Target: TrentService.*)
// for one P-256 key, with response bodies shaped like
// testdata/*.json, which follow the KMS API reference. No KMS-compatible
// server could be obtained here (local-kms is refused by the module proxy)
// and no recording of real KMS responses for a key whose private half we
// hold exists, so the signatures are made with a local key; what this
// tests is the request the signer sends and how it reads the answers.
type fakeKMS struct {
	t        *testing.T
	key      *ecdsa.PrivateKey
	keySpec  string
	usage    string
	badSig   bool
	failWith string
	requests []map[string]any
}

const keyARN = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

func (f *fakeKMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		f.t.Errorf("request body is not JSON: %s", body)
	}
	req["_target"] = r.Header.Get("X-Amz-Target")
	req["_contentType"] = r.Header.Get("Content-Type")
	f.requests = append(f.requests, req)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if f.failWith != "" {
		w.WriteHeader(400)
		json.NewEncoder(w).Encode(map[string]string{"__type": f.failWith, "message": "Key '" + keyARN + "' does not exist"})
		return
	}
	switch r.Header.Get("X-Amz-Target") {
	case "TrentService.GetPublicKey":
		der, _ := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
		f.answer(w, "get-public-key.json", map[string]string{"{{PublicKey}}": base64.StdEncoding.EncodeToString(der), "{{KeySpec}}": f.keySpec, "{{KeyUsage}}": f.usage})
	case "TrentService.Sign":
		msg, _ := base64.StdEncoding.DecodeString(req["Message"].(string))
		sig, _ := ecdsa.SignASN1(rand.Reader, f.key, msg)
		if f.badSig {
			sig[len(sig)-1] ^= 1
		}
		f.answer(w, "sign.json", map[string]string{"{{Signature}}": base64.StdEncoding.EncodeToString(sig)})
	default:
		w.WriteHeader(400)
		json.NewEncoder(w).Encode(map[string]string{"__type": "UnknownOperationException"})
	}
}

func (f *fakeKMS) answer(w http.ResponseWriter, file string, fill map[string]string) {
	data, err := os.ReadFile("testdata/" + file)
	if err != nil {
		f.t.Fatal(err)
	}
	s := string(data)
	for k, v := range fill {
		s = strings.ReplaceAll(s, k, v)
	}
	w.Write([]byte(s))
}

func newKMS(t *testing.T, f *fakeKMS) *kms.Client {
	t.Helper()
	f.t = t
	if f.key == nil {
		f.key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if f.keySpec == "" {
		f.keySpec, f.usage = "ECC_NIST_P256", "SIGN_VERIFY"
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return kms.New(kms.Options{Region: "eu-central-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
}

func TestReceiptsAndCheckpointsSignedByKMSVerifyLikeLocalOnes(t *testing.T) {
	f := &fakeKMS{}
	s, err := kmssign.New(context.Background(), newKMS(t, f), "alias/evidence-vault-receipts")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := receipt.NewKey(&f.key.PublicKey)
	if id, _ := s.KeyID(); id != want.ID {
		t.Errorf("got key id %s, want %s", id, want.ID)
	}
	st := receipt.Statement{Subject: []receipt.Subject{{Name: "a.pdf", Digest: map[string]string{"sha256": strings.Repeat("ab", 32)}}},
		PredicateType: "https://evidencevault.dev/receipt/v1", Predicate: json.RawMessage(`{"receiptId":"rcp_x"}`)}
	env, err := receipt.Sign(context.Background(), st, s)
	if err != nil {
		t.Fatal(err)
	}
	if key, _, err := receipt.Verify(context.Background(), env, []receipt.Key{want}); err != nil || key.ID != want.ID {
		t.Errorf("receipt signed through KMS: got %v, %v", key.ID, err)
	}
	cp := ledger.Checkpoint{Origin: "evidencevault.dev/ledger/evidence/acme", Size: 3, Hash: sha256.Sum256([]byte("root"))}
	signed, err := ledger.SignCheckpoint(context.Background(), s, cp)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ledger.OpenCheckpoint(signed, cp.Origin, []*ecdsa.PublicKey{want.Public}); err != nil || got.Size != 3 {
		t.Errorf("checkpoint signed through KMS: got %+v, %v", got, err)
	}

	// What went to KMS: the public key once, then only SHA-256 digests.
	if len(f.requests) != 3 {
		t.Fatalf("got %d requests, want GetPublicKey and two Sign", len(f.requests))
	}
	tests := []struct{ field, want string }{
		{"_target", "TrentService.Sign"}, {"_contentType", "application/x-amz-json-1.1"}, {"KeyId", "alias/evidence-vault-receipts"},
		{"MessageType", "DIGEST"}, {"SigningAlgorithm", "ECDSA_SHA_256"},
	}
	for _, tt := range tests {
		if got := f.requests[1][tt.field]; got != tt.want {
			t.Errorf("Sign request %s: got %v, want %s", tt.field, got, tt.want)
		}
	}
	if f.requests[0]["_target"] != "TrentService.GetPublicKey" {
		t.Errorf("first request: got %v, want GetPublicKey", f.requests[0]["_target"])
	}
	if msg, _ := base64.StdEncoding.DecodeString(f.requests[1]["Message"].(string)); len(msg) != sha256.Size {
		t.Errorf("Sign sent %d bytes, want a 32-byte digest", len(msg))
	}
}

func TestKMSAnswersRefused(t *testing.T) {
	tests := []struct {
		name string
		f    fakeKMS
		at   string // "new" or "sign"
		want string
	}{
		{"RSA key", fakeKMS{keySpec: "RSA_2048", usage: "SIGN_VERIFY"}, "new", "ECC_NIST_P256"},
		{"encryption key", fakeKMS{keySpec: "ECC_NIST_P256", usage: "ENCRYPT_DECRYPT"}, "new", "SIGN_VERIFY"},
		{"no such key", fakeKMS{failWith: "NotFoundException"}, "new", "NotFoundException"},
		{"signature that does not verify", fakeKMS{badSig: true}, "sign", "does not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.f
			s, err := kmssign.New(context.Background(), newKMS(t, &f), keyARN)
			if tt.at == "sign" && err == nil {
				_, err = s.Sign(context.Background(), []byte("statement"))
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error saying %s", err, tt.want)
			}
			var ae smithy.APIError
			if tt.f.failWith != "" && (!errors.As(err, &ae) || ae.ErrorCode() != tt.f.failWith) {
				t.Errorf("got %v, want the KMS error code reachable with errors.As", err)
			}
		})
	}
}
