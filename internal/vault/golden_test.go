package vault_test

import (
	"bytes"
	"context"

	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/vault"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from this run")

// TestReceiptsGolden pins, byte for byte, what sealing writes for the same
// inputs, clock and randomness: receipt bundles, version chain entries, the
// dossier record, the published key and every object of the log. A change
// to any of them changes what auditors hold; it must be deliberate
// (go test -run Golden -update) and reviewed in the diff of the golden file.
func TestReceiptsGolden(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 2026)
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	clock := func() time.Time { return at }
	b := memstore.New("evidence", memstore.WithClock(clock))
	signer := newSigner(t)
	svc := vault.New(b.Storage(), signer, vault.Config{Bucket: b.Bucket(), Now: clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	d, err := svc.CreateDossier(as(alice), dossierInput(udiA, false))
	if err != nil {
		t.Fatal(err)
	}
	seal := func(path string, body []byte) {
		t.Helper()
		tk, err := svc.StartUpload(as(alice), d.ID, document(path, body))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Send(tk.Upload, body); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Complete(as(alice), tk.UploadID); err != nil {
			t.Fatal(err)
		}
	}
	seal("reports/validation.txt", []byte("software validation, revision A\n"))
	seal("reports/validation.txt", []byte("software validation, revision B\n"))
	seal("clinical/evaluation.txt", []byte("clinical evaluation report\n"))

	// A multipart upload: its digest is streamed by the seal.
	body := bytes.Repeat([]byte("imaging set\n"), (vault.MinPartSize+1000)/12)
	tk, err := svc.StartMultipartUpload(as(alice), d.ID, document("clinical/imaging.txt", body), vault.MinPartSize)
	if err != nil {
		t.Fatal(err)
	}
	pre, err := svc.PresignParts(as(alice), tk.UploadID, partURLs(body, *tk.Multipart))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pre {
		part := body[int64(i)*tk.Multipart.PartSize : min(int64(len(body)), int64(i+1)*tk.Multipart.PartSize)]
		if err := b.Send(p.Presigned, part); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Complete(as(alice), tk.UploadID); err != nil {
		t.Fatal(err)
	}

	if err := svc.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := dump(b)
	golden := "testdata/receipts.golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("what sealing stores differs from %s:\n%s", golden, firstDifference(got, want))
	}
}

// dump lists every object an auditor depends on, with its body; evidence
// and upload sessions (the vault's working state, not its record) are
// given by digest or left out.
func dump(b *memstore.Bucket) []byte {
	var out bytes.Buffer
	for _, key := range b.Keys() {
		body, ok := b.Latest(key)
		switch {
		case !ok:
			fmt.Fprintf(&out, "== %s (deleted)\n", key)
		case strings.Contains(key, "/uploads/"):
			continue
		case strings.HasSuffix(key, "/head.json"):
			// A hint, written behind the commits: how often is not a record.
			fmt.Fprintf(&out, "== %s\n%s\n", key, bytes.TrimRight(body, "\n"))
		case strings.HasPrefix(key, vault.EvidencePrefix) || strings.Contains(key, "/tile/"):
			sum := sha256.Sum256(body)
			fmt.Fprintf(&out, "== %s sha256:%s (%d bytes, %d versions)\n", key, hex.EncodeToString(sum[:]), len(body), b.VersionCount(key))
		default:
			fmt.Fprintf(&out, "== %s (%d versions)\n%s\n", key, b.VersionCount(key), bytes.TrimRight(body, "\n"))
		}
	}
	return out.Bytes()
}

func firstDifference(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got  %q\n want %q", i+1, gl, wl)
		}
	}
	return "(same lines)"
}
