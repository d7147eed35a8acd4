// Package tsa asks a Time-Stamping Authority for RFC 3161 timestamps over
// receipt signatures and checks them, so that when a receipt was signed
// rests on a party other than the vault. Requests and responses are the
// RFC 3161 protocol over HTTP (github.com/digitorus/timestamp); checks are
// sigstore's (github.com/sigstore/timestamp-authority/v2/pkg/verification):
// the token's signature, its chain to the configured anchors with the
// timeStamping key purpose, the nonce, the policy and the imprint. A
// qualified electronic timestamp (eIDAS Art. 42) is recognised by the
// ETSI EN 319 422 statement in the token (qualified.go).
package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/digitorus/timestamp"
)

// ErrUnavailable wraps every failure to get a timestamp that a later
// attempt may not meet: the authority could not be reached, answered with
// an HTTP error, or refused the request. A token that arrives but does not
// verify is not unavailable: it is wrapped in ErrInvalid.
var ErrUnavailable = errors.New("tsa: unavailable")

// ErrInvalid wraps every reason a token does not verify.
var ErrInvalid = errors.New("tsa: invalid timestamp")

// Trust says which tokens count: those of an authority whose certificate
// chains to Roots (through Intermediates or the token's own certificates)
// for time stamping, under Policy when one is set, and qualified (ETSI EN
// 319 422) when Qualified is set.
type Trust struct {
	Roots         []*x509.Certificate
	Intermediates []*x509.Certificate
	Policy        asn1.ObjectIdentifier
	Qualified     bool
}

// Stamp is what a verified token says.
type Stamp struct {
	// Time is the authority's genTime.
	Time time.Time
	// Accuracy is the token's stated accuracy, 0 when it states none.
	Accuracy time.Duration
	// Serial is the token's serial number, unique per authority.
	Serial *big.Int
	// Policy is the authority's policy for the token.
	Policy asn1.ObjectIdentifier
	// Authority is the subject of the certificate that signed the token.
	Authority string
	// Qualified is true when the token claims to be a qualified electronic
	// timestamp (ETSI EN 319 422 esi4-qtstStatement-1).
	Qualified bool
}

// Config is how the vault reaches its authority.
type Config struct {
	// URL is the authority's RFC 3161 HTTP endpoint.
	URL string
	// Header is added to every request, for authorities that want
	// authentication (an Authorization header, an API key).
	Header http.Header
	// Trust is what the authority's tokens must satisfy; Trust.Policy is
	// also the policy requested.
	Trust Trust
	// Timeout bounds one request; 10 seconds if 0.
	Timeout time.Duration
	// HTTP is the client; http.DefaultClient's transport if nil.
	HTTP *http.Client
}

// Client requests timestamps from one authority.
type Client struct {
	cfg  Config
	http *http.Client
}

// New returns a client of the authority c names.
func New(c Config) (*Client, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("tsa: URL %q: want the authority's http(s) endpoint", c.URL)
	}
	if len(c.Trust.Roots) == 0 {
		return nil, errors.New("tsa: no trust anchors: the authority's root certificates are needed to check its tokens")
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{cfg: c, http: hc}, nil
}

// Trust is what this client's tokens are checked against.
func (c *Client) Trust() Trust { return c.cfg.Trust }

// Stamp asks the authority for a timestamp over message (a receipt's
// signature) and returns the DER TimeStampResp once it verifies under the
// client's trust, with what it says.
func (c *Client) Stamp(ctx context.Context, message []byte) ([]byte, Stamp, error) {
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, Stamp{}, fmt.Errorf("tsa: nonce: %w", err)
	}
	req, err := timestamp.CreateRequest(bytes.NewReader(message), &timestamp.RequestOptions{
		Hash: crypto.SHA256, Certificates: true, TSAPolicyOID: c.cfg.Trust.Policy, Nonce: nonce})
	if err != nil {
		return nil, Stamp{}, fmt.Errorf("tsa: request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL, bytes.NewReader(req))
	if err != nil {
		return nil, Stamp{}, fmt.Errorf("tsa: request: %w", err)
	}
	for k, vs := range c.cfg.Header {
		hr.Header[k] = vs
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, Stamp{}, fmt.Errorf("%w: %s: %v", ErrUnavailable, c.cfg.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, Stamp{}, fmt.Errorf("%w: %s: %v", ErrUnavailable, c.cfg.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, Stamp{}, fmt.Errorf("%w: %s answered %s", ErrUnavailable, c.cfg.URL, resp.Status)
	}
	var malformed timestamp.ParseError
	if _, err := timestamp.ParseResponse(body); err != nil && !errors.As(err, &malformed) {
		// A well-formed answer without a token: the authority's status.
		return nil, Stamp{}, fmt.Errorf("%w: %s refused the request: %v", ErrUnavailable, c.cfg.URL, err)
	}
	st, err := verify(body, message, c.cfg.Trust, nonce)
	if err != nil {
		return nil, Stamp{}, err
	}
	return body, st, nil
}

// ParseCertificates reads PEM certificates (a chain or a set of anchors).
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("tsa: certificate: %w", err)
		}
		// Held to the profile's rules for certificates, as the portal
		// holds the same PEM when it compiles a policy.
		if err := checkTrusted(b.Bytes); err != nil {
			return nil, fmt.Errorf("tsa: certificate %s: %w", c.Subject, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("tsa: no PEM certificate found")
	}
	return certs, nil
}

// ParsePolicy reads a policy OID in dotted form, such as 1.3.6.1.4.1.601.10.3.1.
func ParsePolicy(s string) (asn1.ObjectIdentifier, error) {
	parts := strings.Split(s, ".")
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || strconv.Itoa(n) != p {
			return nil, fmt.Errorf("tsa: policy %q: want a dotted OID such as 1.2.3.4", s)
		}
		oid[i] = n
	}
	if len(oid) < 2 {
		return nil, fmt.Errorf("tsa: policy %q: want a dotted OID such as 1.2.3.4", s)
	}
	return oid, nil
}
