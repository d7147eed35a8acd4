package bundle_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/evidencevault/vault/internal/bundle"
	"github.com/evidencevault/vault/internal/vault"
)

// The end-to-end tests (internal/evault) export real bundles and spoil
// them; these cover bundles whose frame is already wrong.
func TestVerifyNamesBrokenFrame(t *testing.T) {
	sums := "0000000000000000000000000000000000000000000000000000000000000000  MANIFEST.json\n"
	tests := []struct {
		name  string
		files fstest.MapFS
		item  string
	}{
		{"empty", fstest.MapFS{}, bundle.SumsFile},
		{"bad sums line", fstest.MapFS{bundle.SumsFile: {Data: []byte("abc  ../x\n")}}, bundle.SumsFile},
		{"no manifest", fstest.MapFS{bundle.SumsFile: {Data: []byte(sums)}}, bundle.ManifestFile},
		{"other format", fstest.MapFS{bundle.SumsFile: {Data: []byte(sums)}, bundle.ManifestFile: {Data: []byte(`{"format":"x"}`)}}, bundle.ManifestFile},
		{"missing key", fstest.MapFS{bundle.SumsFile: {Data: []byte(sums)},
			bundle.ManifestFile: {Data: []byte(`{"format":"` + bundle.Format + `","keys":["keys/k.pem"]}`)}}, "keys/k.pem"},
		{"unsigned checkpoint", fstest.MapFS{bundle.SumsFile: {Data: []byte(sums)},
			bundle.ManifestFile:   {Data: []byte(`{"format":"` + bundle.Format + `","log":{"origin":"o","size":1}}`)},
			bundle.CheckpointFile: {Data: []byte("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")}}, bundle.CheckpointFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := bundle.Verify(context.Background(), tt.files, nil, nil, vault.Policy{})
			first := rep.First()
			if first == nil || first.Name != tt.item {
				t.Errorf("got first failure %+v, want %s", first, tt.item)
			}
		})
	}
}

// FuzzVerify: a bundle comes from outside; no content may crash the
// verifier or pass without a signature by a trusted key.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"format":"`+bundle.Format+`","keys":[],"documents":[{"path":"a","file":"files/a","receipt":"receipts/a.receipt.json"}]}`),
		[]byte("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  files/a\n"), []byte("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n— o AAAA\n"))
	f.Fuzz(func(t *testing.T, manifest, sums, checkpoint []byte) {
		fsys := fstest.MapFS{
			bundle.ManifestFile: {Data: manifest}, bundle.SumsFile: {Data: sums}, bundle.CheckpointFile: {Data: checkpoint},
			"files/a": {Data: nil}, "receipts/a.receipt.json": {Data: []byte(`{}`)},
		}
		rep := bundle.Verify(context.Background(), fsys, nil, nil, vault.Policy{})
		if rep.OK() {
			t.Errorf("a bundle without any key passed: %+v", rep)
		}
		for _, it := range rep.Items {
			if !it.OK && strings.TrimSpace(it.Detail) == "" {
				t.Errorf("failure without a reason: %+v", it)
			}
		}
	})
}
