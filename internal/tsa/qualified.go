package tsa

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
)

var (
	// oidQCStatements is the qcStatements extension (RFC 3739).
	oidQCStatements = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}
	// oidQualifiedTimestamp is ETSI EN 319 422's esi4-qtstStatement-1: the
	// token claims to be a qualified electronic timestamp under eIDAS.
	oidQualifiedTimestamp = asn1.ObjectIdentifier{0, 4, 0, 19422, 1, 1}
)

// qcStatement is one QCStatement of RFC 3739.
type qcStatement struct {
	ID   asn1.ObjectIdentifier
	Info asn1.RawValue `asn1:"optional"`
}

// qualified reports whether a token's TSTInfo extensions carry the
// qualified-timestamp statement. That the authority is a qualified trust
// service is the trust anchors' to say (the EU Trusted List's roots).
func qualified(exts []pkix.Extension) (bool, error) {
	for _, e := range exts {
		if !e.Id.Equal(oidQCStatements) {
			continue
		}
		var sts []qcStatement
		rest, err := asn1.Unmarshal(e.Value, &sts)
		if err != nil || len(rest) > 0 {
			return false, errors.New("malformed qcStatements extension in the token")
		}
		for _, s := range sts {
			if s.ID.Equal(oidQualifiedTimestamp) {
				return true, nil
			}
		}
	}
	return false, nil
}
