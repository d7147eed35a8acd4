package sigstore_test

import (
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/sigstore"
	"github.com/evidencevault/vault/internal/vault"
)

// cosign is the real cosign v3 (scripts/cosign.sh builds it; make test
// gives its path in COSIGN_BIN).
func cosign(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("COSIGN_BIN"); bin != "" {
		return bin
	}
	bin, err := exec.LookPath("cosign")
	if err != nil {
		t.Fatal("cosign is needed: run scripts/cosign.sh and set COSIGN_BIN (make test does)")
	}
	return bin
}

// TestCosignVerifiesReceipt runs the commands docs/receipt.md gives
// auditors, with cosign itself, on a receipt the vault sealed.
func TestCosignVerifiesReceipt(t *testing.T) {
	bin := cosign(t)
	s := seal(t, true)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	b, err := sigstore.Bundle(s.r.Envelope, s.r.Timestamps)
	if err != nil {
		t.Fatal(err)
	}
	key, err := receipt.NewKey(s.signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	tr, err := sigstore.TrustedRoot(sigstore.Authority{Chain: []*x509.Certificate{s.authority.Leaf(), s.authority.Root()}, URI: "http://127.0.0.1/dev-tsa"})
	if err != nil {
		t.Fatal(err)
	}
	bundle, keyFile, root := write("sv.txt.sigstore.json", b), write("key.pem", key.PEM()), write("trusted_root.json", tr)
	file, other := write("sv.txt", s.body), write("other.txt", []byte("another file\n"))
	unstamped, err := sigstore.Bundle(s.r.Envelope, nil)
	if err != nil {
		t.Fatal(err)
	}
	bare := write("bare.sigstore.json", unstamped)
	run := func(args ...string) (string, error) {
		out, err := exec.Command(bin, append([]string{"verify-blob-attestation", "--key", keyFile, "--type", vault.PredicateType, "--insecure-ignore-tlog"}, args...)...).CombinedOutput()
		return string(out), err
	}
	for _, args := range [][]string{
		{"--bundle", bundle, file},
		{"--bundle", bundle, "--use-signed-timestamps", "--trusted-root", root, file},
	} {
		if out, err := run(args...); err != nil || !strings.Contains(out, "Verified OK") {
			t.Errorf("cosign %v: %v\n%s", args, err, out)
		}
	}
	for name, args := range map[string][]string{
		"another file":           {"--bundle", bundle, "--use-signed-timestamps", "--trusted-root", root, other},
		"no timestamp":           {"--bundle", bare, "--use-signed-timestamps", "--trusted-root", root, file},
		"another receipt type":   {"--bundle", bundle, "--type", "https://example.com/other", file},
		"a trusted root of none": {"--bundle", bundle, "--use-signed-timestamps", "--trusted-root", write("empty_root.json", []byte(`{"mediaType":"`+sigstore.TrustedRootMediaType+`"}`)), file},
	} {
		if out, err := run(args...); err == nil {
			t.Errorf("%s: cosign verified it:\n%s", name, out)
		}
	}
}
