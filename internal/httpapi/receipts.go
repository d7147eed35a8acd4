package httpapi

import (
	"encoding/json"
	"fmt"
	"github.com/evidencevault/vault/internal/sigstore"
	"net/http"

	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/evidencevault/vault/openapi"
)

// contract serves the API's OpenAPI document.
func (s *Server) contract(w http.ResponseWriter, r *http.Request) error {
	return writeTagged(w, r, "application/yaml", openapi.Document, "no-cache")
}

func (s *Server) keys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.v.Keys(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"keys": keys})
	return nil
}

// verifierPolicy names the deployment's timestamp authority and witnesses
// (the operator's word, for verifiers to take or replace).
func (s *Server) verifierPolicy(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, "application/json", s.v.VerifierPolicy())
	return nil
}

func (s *Server) receipt(w http.ResponseWriter, r *http.Request) error {
	rc, err := s.v.Receipt(r.Context(), r.PathValue("receipt"))
	if err != nil {
		return err
	}
	body, err := marshalJSON(rc.Bundle())
	if err != nil {
		return err
	}
	return writeReceipt(w, r, rc, "application/json", body)
}

// writeReceipt serves what is made of a receipt: for good once it is
// timestamped and witnessed, until then revalidated every time.
func writeReceipt(w http.ResponseWriter, r *http.Request, rc *vault.Receipt, contentType string, body []byte) error {
	if rc.Pending {
		return writeTagged(w, r, contentType, body, "no-cache")
	}
	return writeImmutable(w, r, contentType, body)
}

// sigstoreBundle serves a receipt as a Sigstore bundle v0.3, for cosign
// verify-blob-attestation --bundle (docs/receipt.md).
func (s *Server) sigstoreBundle(w http.ResponseWriter, r *http.Request) error {
	rc, err := s.v.Receipt(r.Context(), r.PathValue("receipt"))
	if err != nil {
		return err
	}
	body, err := sigstore.Bundle(rc.Envelope, rc.Timestamps)
	if err != nil {
		return err
	}
	return writeReceipt(w, r, rc, sigstore.BundleMediaType, body)
}

// verifyRequest is the body of POST /v1/verify.
type verifyRequest struct {
	Receipt json.RawMessage `json:"receipt"`
	SHA256  string          `json:"sha256,omitempty"`
	// Key is the caller's own pin of the vault's key (PEM): trust then
	// starts from it rather than from the vault's say-so.
	Key string `json:"key,omitempty"`
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request) error {
	var req verifyRequest
	var pinned *receipt.Key
	check := func([]string) []vault.FieldError {
		var fields []vault.FieldError
		if len(req.Receipt) == 0 || string(req.Receipt) == "null" {
			fields = append(fields, vault.FieldError{Pointer: "/receipt", Detail: "is required: the receipt bundle (or its DSSE envelope) as JSON"})
		}
		if req.Key != "" {
			k, err := receipt.ParsePublicKey([]byte(req.Key))
			if err != nil {
				fields = append(fields, vault.FieldError{Pointer: "/key", Detail: "must be a P-256 public key in PEM (SubjectPublicKeyInfo): " + err.Error()})
			}
			pinned = &k
		}
		return fields
	}
	if err := decodeLimited(w, r, maxVerifyBody, &req, check); err != nil {
		return err
	}
	if fields := check(nil); fields != nil {
		return &vault.Error{Code: vault.CodeInvalid, Message: fmt.Sprintf("%d field(s) are invalid", len(fields)), Fields: fields}
	}
	v, err := s.v.Verify(r.Context(), req.Receipt, req.SHA256, pinned)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", v)
	return nil
}
