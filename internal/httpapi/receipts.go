package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/evidencevault/vault/internal/vault"
)

func (s *Server) keys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.v.Keys(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"keys": keys})
	return nil
}

func (s *Server) receipt(w http.ResponseWriter, r *http.Request) error {
	rc, err := s.v.Receipt(r.Context(), r.PathValue("receipt"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", rc.Bundle())
	return nil
}

// verifyRequest is the body of POST /v1/verify.
type verifyRequest struct {
	Receipt json.RawMessage `json:"receipt"`
	SHA256  string          `json:"sha256,omitempty"`
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request) error {
	var req verifyRequest
	if err := decodeJSON(w, r, maxVerifyBody, &req); err != nil {
		return err
	}
	if len(req.Receipt) == 0 {
		return &vault.Error{Code: vault.CodeInvalid, Message: "1 field is invalid",
			Fields: []vault.FieldError{{Pointer: "/receipt", Detail: "is required: the receipt bundle (or its DSSE envelope) as JSON"}}}
	}
	v, err := s.v.Verify(r.Context(), req.Receipt, req.SHA256)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", v)
	return nil
}
