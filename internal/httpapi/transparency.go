package httpapi

// The routes of the tenant's transparency log: signed checkpoints and proofs.

import (
	"net/http"
	"strconv"

	"github.com/evidencevault/vault/internal/vault"
)

// checkpoint serves the latest signed checkpoint of the caller's tenant's
// log, or the one at a size, as the C2SP signed note itself.
func (s *Server) checkpoint(w http.ResponseWriter, r *http.Request) error {
	var size int64
	if p := r.PathValue("size"); p != "" {
		n, err := positive(p, "/size", "size")
		if err != nil {
			return err
		}
		size = n
	}
	cp, err := s.v.Checkpoint(r.Context(), size)
	if err != nil {
		return err
	}
	w.Header().Set("X-Log-Origin", cp.Origin)
	w.Header().Set("X-Log-Size", strconv.FormatInt(cp.Size, 10))
	if size > 0 && !cp.Pending {
		// The checkpoint at a size is one stored object: it never changes
		// (once witnessed, where witnesses cosign).
		return writeImmutable(w, r, "text/plain; charset=utf-8", cp.Signed)
	}
	if size > 0 {
		return writeTagged(w, r, "text/plain; charset=utf-8", cp.Signed, "no-cache")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(cp.Signed)
	return err
}

// keyHistory serves the log's key events at ?size=n (the latest
// checkpoint without), each proven in that checkpoint.
func (s *Server) keyHistory(w http.ResponseWriter, r *http.Request) error {
	var size int64
	if q := r.URL.Query().Get("size"); q != "" {
		n, err := positive(q, "/size", "size")
		if err != nil {
			return err
		}
		size = n
	}
	kl, err := s.v.KeyHistory(r.Context(), size)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", kl)
	return nil
}

// logEntries serves ?start=i&end=j[&dossier=d]: the entries from i up to
// j, at most ledger.MaxEntries of them.
func (s *Server) logEntries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var fields []vault.FieldError
	start, err := number(q.Get("start"))
	if err != nil || start < 0 {
		fields = append(fields, vault.FieldError{Pointer: "/start", Detail: "must be an entry index, 0 or more"})
	}
	end, err := number(q.Get("end"))
	if err != nil || end < 1 {
		fields = append(fields, vault.FieldError{Pointer: "/end", Detail: "must be the index after the last entry wanted, 1 or more"})
	}
	if fields == nil && start >= end {
		fields = append(fields, vault.FieldError{Pointer: "/start", Detail: "must be smaller than end"})
	}
	if fields != nil {
		return &requestError{kind: badQuery, detail: "log entries need start and end", fields: fields}
	}
	out, err := s.v.LogEntries(r.Context(), start, end, q.Get("dossier"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", out)
	return nil
}

// inclusionProof serves ?index=i&size=n.
func (s *Server) inclusionProof(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var fields []vault.FieldError
	index, err := number(q.Get("index"))
	if err != nil || index < 0 {
		fields = append(fields, vault.FieldError{Pointer: "/index", Detail: "must be an entry index, 0 or more"})
	}
	size, err := number(q.Get("size"))
	if err != nil || size < 1 {
		fields = append(fields, vault.FieldError{Pointer: "/size", Detail: "must be a checkpoint's tree size, 1 or more"})
	}
	if fields != nil {
		return &requestError{kind: badQuery, detail: "an inclusion proof needs index and size", fields: fields}
	}
	p, err := s.v.InclusionProof(r.Context(), index, size)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", p)
	return nil
}

// consistencyProof serves ?from=m&to=n.
func (s *Server) consistencyProof(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var fields []vault.FieldError
	from, err := number(q.Get("from"))
	if err != nil || from < 1 {
		fields = append(fields, vault.FieldError{Pointer: "/from", Detail: "must be the size of an earlier checkpoint, 1 or more"})
	}
	to, err := number(q.Get("to"))
	if err != nil || to < 1 {
		fields = append(fields, vault.FieldError{Pointer: "/to", Detail: "must be the size of a checkpoint, 1 or more"})
	}
	if fields == nil && from > to {
		fields = append(fields, vault.FieldError{Pointer: "/from", Detail: "must not be larger than to"})
	}
	if fields != nil {
		return &requestError{kind: badQuery, detail: "a consistency proof needs from and to", fields: fields}
	}
	p, err := s.v.ConsistencyProof(r.Context(), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", p)
	return nil
}

func positive(s, pointer, name string) (int64, error) {
	n, err := number(s)
	if err != nil || n < 1 {
		return 0, &requestError{kind: badQuery, detail: name + " must be a whole number from 1",
			fields: []vault.FieldError{{Pointer: pointer, Detail: "must be a whole number from 1"}}}
	}
	return n, nil
}
