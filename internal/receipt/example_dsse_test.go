package receipt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/secure-systems-lab/go-securesystemslib/signerverifier"
)

// Verifying the documented receipt with securesystemslib's DSSE verifier
// and the public key alone, as docs/receipt.md shows.
func Example_dsseTooling() {
	key, _ := os.ReadFile("../../docs/examples/key.pem")
	data, _ := os.ReadFile("../../docs/examples/receipt.json")
	var env dsse.Envelope
	json.Unmarshal(data, &env)
	v, _ := signerverifier.NewECDSASignerVerifierFromSSLibKey(&signerverifier.SSLibKey{
		KeyType: "ecdsa", Scheme: "ecdsa-sha2-nistp256",
		KeyID: env.Signatures[0].KeyID, KeyVal: signerverifier.KeyVal{Public: string(key)},
	})
	ev, _ := dsse.NewEnvelopeVerifier(v)
	_, err := ev.Verify(context.Background(), &env)
	fmt.Println("verified:", err == nil)

	env.Payload = "e30=" // {} instead of the statement
	_, err = ev.Verify(context.Background(), &env)
	fmt.Println("altered verified:", err == nil)
	// Output:
	// verified: true
	// altered verified: false
}
