// Package devtsa is a Time-Stamping Authority for development and tests:
// the RFC 3161 protocol over HTTP (github.com/digitorus/timestamp) with a
// development CA of its own, so that `make run` and the tests timestamp
// receipts the way a deployed vault does with a real (qualified) one. Its
// tokens verify with `openssl ts -verify` against its root.
package devtsa

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/digitorus/timestamp"
)

// Policy is the policy of the development authority's tokens, under the
// arc ITU-T X.660 sets aside for examples.
var Policy = asn1.ObjectIdentifier{2, 999, 3161, 1}

// Options configure an authority.
type Options struct {
	// Dir, when set, keeps the CA and the authority's key between runs
	// (tsa-key.pem, tsa-chain.pem), so tokens of an earlier run verify
	// with the same root.
	Dir string
	// Qualified marks tokens as qualified electronic timestamps (ETSI EN
	// 319 422), as a qualified trust service's are; only for tests of
	// the policy: a development authority is no qualified one.
	Qualified bool
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Authority is a running development TSA's state: its keys and chain.
type Authority struct {
	key    crypto.Signer
	leaf   *x509.Certificate
	root   *x509.Certificate
	opts   Options
	issued atomic.Int64
	down   atomic.Bool
}

// New makes an authority, with a new CA unless o.Dir holds one.
func New(o Options) (*Authority, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	a := &Authority{opts: o}
	if o.Dir != "" {
		if err := a.load(); err == nil {
			return a, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if err := a.generate(); err != nil {
		return nil, err
	}
	if o.Dir != "" {
		if err := a.save(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *Authority) generate() error {
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("devtsa: %w", err)
	}
	now := time.Now().Add(-time.Hour)
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Evidence Vault development TSA root", Organization: []string{"Evidence Vault (development)"}},
		NotBefore: now, NotAfter: now.AddDate(30, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return fmt.Errorf("devtsa: root: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("devtsa: %w", err)
	}
	// RFC 3161 §2.3: the one key purpose timeStamping, marked critical.
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		return fmt.Errorf("devtsa: %w", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Evidence Vault development TSA", Organization: []string{"Evidence Vault (development)"}},
		NotBefore: now, NotAfter: now.AddDate(30, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}},
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return fmt.Errorf("devtsa: %w", err)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, key.Public(), rootKey)
	if err != nil {
		return fmt.Errorf("devtsa: leaf: %w", err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return fmt.Errorf("devtsa: %w", err)
	}
	a.key, a.leaf, a.root = key, leaf, root
	return nil
}

func (a *Authority) save() error {
	der, err := x509.MarshalPKCS8PrivateKey(a.key)
	if err != nil {
		return fmt.Errorf("devtsa: %w", err)
	}
	if err := os.WriteFile(filepath.Join(a.opts.Dir, "tsa-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("devtsa: %w", err)
	}
	if err := os.WriteFile(filepath.Join(a.opts.Dir, "tsa-chain.pem"), a.ChainPEM(), 0o644); err != nil {
		return fmt.Errorf("devtsa: %w", err)
	}
	return nil
}

func (a *Authority) load() error {
	keyPEM, err := os.ReadFile(filepath.Join(a.opts.Dir, "tsa-key.pem"))
	if err != nil {
		return err
	}
	chainPEM, err := os.ReadFile(filepath.Join(a.opts.Dir, "tsa-chain.pem"))
	if err != nil {
		return err
	}
	b, _ := pem.Decode(keyPEM)
	if b == nil {
		return errors.New("devtsa: tsa-key.pem holds no PEM key")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return fmt.Errorf("devtsa: tsa-key.pem: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return errors.New("devtsa: tsa-key.pem holds no signing key")
	}
	var certs []*x509.Certificate
	for rest := chainPEM; ; {
		var cb *pem.Block
		if cb, rest = pem.Decode(rest); cb == nil {
			break
		}
		c, err := x509.ParseCertificate(cb.Bytes)
		if err != nil {
			return fmt.Errorf("devtsa: tsa-chain.pem: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) != 2 {
		return fmt.Errorf("devtsa: tsa-chain.pem holds %d certificates, want the authority's and its root", len(certs))
	}
	a.key, a.leaf, a.root = signer, certs[0], certs[1]
	return nil
}

// RootPEM is the trust anchor of the authority's tokens.
func (a *Authority) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.root.Raw})
}

// ChainPEM is the authority's certificate followed by its root.
func (a *Authority) ChainPEM() []byte {
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.leaf.Raw}), a.RootPEM()...)
}

// Root and Leaf are the authority's certificates.
func (a *Authority) Root() *x509.Certificate { return a.root }
func (a *Authority) Leaf() *x509.Certificate { return a.leaf }

// Issued is how many tokens the authority has issued.
func (a *Authority) Issued() int64 { return a.issued.Load() }

// SetDown makes the authority answer 503 to every request while down is
// true, as an authority that cannot be reached does to its clients.
func (a *Authority) SetDown(down bool) { a.down.Store(down) }

// ServeHTTP answers RFC 3161 requests (POST application/timestamp-query).
func (a *Authority) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.down.Load() {
		http.Error(w, "time stamping is down", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST an RFC 3161 TimeStampReq", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	resp, err := a.respond(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = w.Write(resp)
}

// respond answers one request: a token, or a status refusing it.
func (a *Authority) respond(body []byte) ([]byte, error) {
	req, err := timestamp.ParseRequest(body)
	if err != nil {
		return timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.BadDataFormat)
	}
	switch req.HashAlgorithm {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		return timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.BadAlgorithm)
	}
	if len(req.TSAPolicyOID) > 0 && !req.TSAPolicyOID.Equal(Policy) {
		return timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.UnacceptedPolicy)
	}
	ts := timestamp.Timestamp{
		HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage,
		Time: a.opts.Now().UTC(), Accuracy: time.Second, Nonce: req.Nonce, Policy: Policy,
		AddTSACertificate: req.Certificates,
		Qualified:         a.opts.Qualified,
	}
	resp, err := ts.CreateResponseWithOpts(a.leaf, a.key, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("devtsa: %w", err)
	}
	a.issued.Add(1)
	return resp, nil
}
