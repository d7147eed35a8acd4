package ledger_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"

	"github.com/evidencevault/vault/internal/ledger"
)

// ExampleLog_Append appends two entries to a tenant's log and checks the
// second one's proof offline, with the public key alone.
func ExampleLog_Append() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	l := ledger.New(newMemStore(), keySigner{key}, ledger.Config{
		Origin: func(tenant string) string { return "example.org/log/" + tenant },
		Prefix: func(tenant string) string { return "ledger/" + tenant + "/" },
		Leaf:   leafOf, // records are JSON strings holding the leaf
	})
	ctx := context.Background()
	for _, leaf := range []string{"first statement", "second statement"} {
		a, err := l.Append(ctx, "acme", entry(leaf, leaf), 0)
		if err != nil {
			panic(err)
		}
		cp, err := ledger.VerifyProof([]byte(leaf), &a.Proof, []*ecdsa.PublicKey{&key.PublicKey})
		fmt.Printf("entry %d in a tree of %d: %v\n", a.Index, cp.Size, err)
	}
	// Output:
	// entry 0 in a tree of 1: <nil>
	// entry 1 in a tree of 2: <nil>
}
