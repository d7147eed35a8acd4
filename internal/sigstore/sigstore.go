// Package sigstore writes the vault's receipts in Sigstore's formats, so
// that Sigstore's own tools verify them: a receipt as a Sigstore bundle
// v0.3 (the DSSE envelope, the public key's hint, the RFC 3161
// timestamps of its signature; cosign v3 verify-blob-attestation --bundle),
// and a trusted root naming the timestamp authorities (--trusted-root).
// Both are built from the sigstore protobuf-specs types and serialised
// with protojson, as Sigstore's clients read them.
package sigstore

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evidencevault/vault/internal/receipt"
)

// BundleMediaType is the media type of the bundles Bundle writes.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// TrustedRootMediaType is the media type of the trusted roots TrustedRoot
// writes.
const TrustedRootMediaType = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"

// Bundle returns the receipt env, with the RFC 3161 timestamps (DER
// TimeStampResp) of its signature, as a Sigstore bundle v0.3 in JSON. The
// public key is named by its hint, the receipt's key id: verifiers give
// the key itself (cosign --key). The bundle carries no Rekor entry: the
// vault's own log proves the receipt's place (docs/receipt.md).
func Bundle(env *receipt.Envelope, timestamps [][]byte) ([]byte, error) {
	if env == nil || len(env.Signatures) != 1 {
		return nil, errors.New("sigstore: a bundle holds an envelope with exactly one signature")
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, fmt.Errorf("sigstore: payload: %w", err)
	}
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil {
		return nil, fmt.Errorf("sigstore: signature: %w", err)
	}
	var stamps []*protocommon.RFC3161SignedTimestamp
	for _, tsr := range timestamps {
		stamps = append(stamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: tsr})
	}
	b := &protobundle.Bundle{
		MediaType: BundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{
				PublicKey: &protocommon.PublicKeyIdentifier{Hint: env.Signatures[0].KeyID},
			},
			TimestampVerificationData: &protobundle.TimestampVerificationData{Rfc3161Timestamps: stamps},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: payload, PayloadType: env.PayloadType,
			// No keyid in the envelope: DSSE does not sign it, and
			// Sigstore's verifiers skip a signature whose keyid is not
			// their own SSH-style fingerprint of the key.
			Signatures: []*protodsse.Signature{{Sig: sig}},
		}},
	}
	out, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("sigstore: bundle: %w", err)
	}
	return out, nil
}

// Authority is a timestamp authority as a trusted root names it: its
// certificate chain, the authority's own certificate first and its root
// last, its URL, and since when it is trusted.
type Authority struct {
	Chain []*x509.Certificate
	URI   string
	Since time.Time
}

// TrustedRoot returns a Sigstore trusted root that trusts the timestamp
// authorities and nothing else (no Fulcio, no Rekor, no CT log): what
// cosign's --trusted-root needs to check a receipt bundle's timestamps.
func TrustedRoot(authorities ...Authority) ([]byte, error) {
	tr := &prototrustroot.TrustedRoot{MediaType: TrustedRootMediaType}
	for _, a := range authorities {
		if len(a.Chain) == 0 {
			return nil, errors.New("sigstore: a timestamp authority without certificates")
		}
		chain := &protocommon.X509CertificateChain{}
		for _, c := range a.Chain {
			chain.Certificates = append(chain.Certificates, &protocommon.X509Certificate{RawBytes: c.Raw})
		}
		subject := a.Chain[0].Subject
		since := a.Since
		if since.IsZero() {
			since = a.Chain[0].NotBefore
		}
		ca := &prototrustroot.CertificateAuthority{
			Subject:   &protocommon.DistinguishedName{CommonName: subject.CommonName},
			Uri:       a.URI,
			CertChain: chain,
			ValidFor:  &protocommon.TimeRange{Start: timestamppb.New(since)},
		}
		if len(subject.Organization) > 0 {
			ca.Subject.Organization = subject.Organization[0]
		}
		tr.TimestampAuthorities = append(tr.TimestampAuthorities, ca)
	}
	out, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(tr)
	if err != nil {
		return nil, fmt.Errorf("sigstore: trusted root: %w", err)
	}
	return out, nil
}
