package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
)

func (s *Server) startUpload(w http.ResponseWriter, r *http.Request) error {
	// The query's problems and the body's come in one answer: fixing one
	// should not reveal the other.
	opts, qerr := uploadOptions(r)
	var doc vault.Document
	err := decodeChecked(w, r, &doc, func(broken []string) []vault.FieldError { return vault.CheckDocument(doc, broken...) })
	var re *requestError
	switch {
	case err != nil && qerr != nil && errors.As(err, &re) && re.fields != nil:
		re.fields = append(qerr.fields, re.fields...)
		re.detail = fmt.Sprintf("%d field(s) of the query and the body are refused; each is listed (docs/api.md describes the request)", len(re.fields))
		return re
	case err != nil:
		return err
	case qerr != nil:
		if fields := vault.CheckDocument(doc); fields != nil {
			qerr.fields = append(qerr.fields, fields...)
			qerr.detail = queryDetail(qerr.fields)
		}
		return qerr
	}
	t, err := s.v.BeginUpload(r.Context(), r.PathValue("dossier"), doc, opts)
	var same *vault.Unchanged
	if errors.As(err, &same) {
		// Not an error: the document's latest version has these bytes.
		writeJSON(w, http.StatusOK, "application/json", unchangedBody{State: "unchanged", Version: same.Version, Receipt: same.Receipt.Bundle()})
		return nil
	}
	if err != nil {
		return err
	}
	complete := "/v1/uploads/" + t.UploadID + "/complete"
	w.Header().Set("Location", complete)
	writeJSON(w, http.StatusCreated, "application/json", struct {
		vault.Ticket
		Complete string `json:"complete"`
	}{t, complete})
	return nil
}

// unchangedBody answers an upload of the bytes the document already has.
type unchangedBody struct {
	State   string        `json:"state"`
	Version vault.Version `json:"version"`
	Receipt vault.Bundle  `json:"receipt"`
}

// uploadOptions reads ?multipart=, ?partSize= and ?newVersion=.
func uploadOptions(r *http.Request) (vault.UploadOptions, *requestError) {
	q := r.URL.Query()
	var opts vault.UploadOptions
	var fields []vault.FieldError
	boolParam := func(name string) bool {
		switch v := q.Get(name); v {
		case "", "false":
			return false
		case "true":
			return true
		}
		fields = append(fields, vault.FieldError{Pointer: "/" + name, Detail: "must be true or false"})
		return false
	}
	opts.Multipart, opts.NewVersion = boolParam("multipart"), boolParam("newVersion")
	if v := q.Get("partSize"); v != "" {
		n, err := number(v)
		switch {
		case err != nil || n < 1:
			fields = append(fields, vault.FieldError{Pointer: "/partSize", Detail: "must be a whole number of bytes"})
		case !opts.Multipart:
			fields = append(fields, vault.FieldError{Pointer: "/partSize", Detail: "applies only with multipart=true"})
		}
		opts.PartSize = n
	}
	if fields != nil {
		return opts, &requestError{kind: badQuery, detail: queryDetail(fields), fields: fields}
	}
	return opts, nil
}

// receiptBody is how the API returns a sealed receipt: the bundle as
// stored (envelope and log proof), and its predicate decoded for
// convenience.
type receiptBody struct {
	ReceiptID string                 `json:"receiptId"`
	Subject   receipt.Subject        `json:"subject"`
	Predicate vault.ReceiptPredicate `json:"predicate"`
	Envelope  *receipt.Envelope      `json:"envelope"`
	Log       *ledger.Proof          `json:"log"`
	// Timestamps are the RFC 3161 timestamps of the signature.
	Timestamps [][]byte `json:"timestamps,omitempty"`
}

func (s *Server) complete(w http.ResponseWriter, r *http.Request) error {
	rc, err := s.v.Complete(r.Context(), r.PathValue("upload"))
	var pending *vault.SealPending
	if errors.As(err, &pending) {
		// Not an error: a large object is still being hashed, and the
		// next call continues where this one stopped.
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusAccepted, "application/json", map[string]any{
			"uploadId": pending.UploadID, "state": "sealing", "hashedBytes": pending.Hashed, "size": pending.Size})
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", receiptBody{rc.Predicate.ReceiptID, rc.Subject, rc.Predicate, rc.Envelope, rc.Log, rc.Timestamps})
	return nil
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) error {
	st, err := s.v.Upload(r.Context(), r.PathValue("upload"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", st)
	return nil
}

func (s *Server) abortUpload(w http.ResponseWriter, r *http.Request) error {
	if err := s.v.AbortUpload(r.Context(), r.PathValue("upload")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// partsRequest is the body of POST /v1/uploads/{upload}/parts.
type partsRequest struct {
	Parts []vault.PartURL `json:"parts"`
}

func (s *Server) presignParts(w http.ResponseWriter, r *http.Request) error {
	var in partsRequest
	if err := decodeJSON(w, r, maxPartsBody, &in); err != nil {
		return err
	}
	parts, err := s.v.PresignParts(r.Context(), r.PathValue("upload"), in.Parts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"parts": parts})
	return nil
}
