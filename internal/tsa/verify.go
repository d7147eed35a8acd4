package tsa

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"math/big"
	"slices"

	"github.com/sigstore/timestamp-authority/v2/pkg/verification"
)

// Verify checks that tsr, a DER TimeStampResp, is a timestamp over
// message by an authority t trusts, and returns what it says. Errors wrap
// ErrInvalid.
func (t Trust) Verify(tsr, message []byte) (Stamp, error) {
	return verify(tsr, message, t, nil)
}

func verify(tsr, message []byte, t Trust, nonce *big.Int) (Stamp, error) {
	if len(t.Roots) == 0 {
		return Stamp{}, fmt.Errorf("%w: no trust anchors for timestamps", ErrInvalid)
	}
	for _, r := range t.Roots {
		if !anchor(r) {
			return Stamp{}, fmt.Errorf("%w: trust anchor %s is neither a CA certificate nor a time-stamping authority's own", ErrInvalid, r.Subject)
		}
	}
	signer, err := checkProfile(tsr)
	if err != nil {
		return Stamp{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	ts, err := verification.VerifyTimestampResponse(tsr, bytes.NewReader(message), verification.VerifyOpts{
		Roots: t.Roots, Intermediates: t.Intermediates, OID: t.Policy, Nonce: nonce})
	if err != nil {
		return Stamp{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	q, err := qualified(ts.Extensions)
	if err != nil {
		return Stamp{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if t.Qualified && !q {
		return Stamp{}, fmt.Errorf("%w: not a qualified electronic timestamp (no ETSI EN 319 422 esi4-qtstStatement-1 in the token)", ErrInvalid)
	}
	st := Stamp{Time: ts.Time.UTC(), Accuracy: ts.Accuracy, Serial: ts.SerialNumber, Policy: ts.Policy,
		Qualified: q, Authority: authorityOf(ts.Certificates, signer)}
	return st, nil
}

// authorityOf names the token's signer: the carried certificate the
// signer info names (checkProfile found it byte for byte), not one that
// merely allows time stamping, as a CA above the signer may.
func authorityOf(certs []*x509.Certificate, signer []byte) string {
	for _, c := range certs {
		if bytes.Equal(c.Raw, signer) {
			return c.Subject.String()
		}
	}
	return ""
}

// anchor reports whether c may anchor a token's chain: a CA certificate,
// or an authority's own certificate pinned as it is. Go's x509 would also
// take a certificate that is neither (a version 1 root); the browser's
// chain validation does not, and the two must agree.
func anchor(c *x509.Certificate) bool {
	return c.BasicConstraintsValid && c.IsCA || slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageTimeStamping)
}
