package memstore_test

import (
	"testing"

	"github.com/evidencevault/vault/internal/memstore"
	"github.com/evidencevault/vault/internal/storetest"
	"github.com/evidencevault/vault/internal/vault"
)

// TestContract runs the storage contract that MinIO passes in s3store's
// tests: the fake behaves as the real bucket does where the vault looks.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Subject {
		b := memstore.New("evidence")
		return storetest.Subject{
			Storage: b.Storage(),
			Send:    func(p vault.Presigned, body []byte) error { return b.Send(p, body) },
			Hide:    func(key string) error { b.Hide(key); return nil },
			Remove:  b.Remove,
		}
	})
}

// TestScratchContract runs the scratch contract MinIO passes.
func TestScratchContract(t *testing.T) {
	storetest.RunScratch(t, func(t *testing.T) vault.Scratch { return memstore.NewScratch("scratch") })
}
