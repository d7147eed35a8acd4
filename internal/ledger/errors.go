package ledger

import "errors"

var (
	// ErrMalformed marks checkpoints, proofs and commits that cannot be read.
	ErrMalformed = errors.New("ledger: malformed")
	// ErrInvalid marks a proof or signature that does not hold: the log
	// disagrees with itself, which is what tampering looks like.
	ErrInvalid = errors.New("ledger: verification failed")
	// ErrNotFound is matched by every *NotFoundError.
	ErrNotFound = errors.New("ledger: not found")
	// ErrReadOnly: Append on a log made without a signer.
	ErrReadOnly = errors.New("ledger: append to a read-only log")
	// ErrClosed: Append after Close.
	ErrClosed = errors.New("ledger: append to a closed log")
	// ErrContended: other writers kept taking the next position.
	ErrContended = errors.New("ledger: log stayed contended")
	// ErrConflict is matched by every *ConflictError.
	ErrConflict = errors.New("ledger: object exists with other content")
	// ErrTampered is matched by every *TamperedError.
	ErrTampered = errors.New("ledger: the log holds an object it did not write")
)

// TamperedError is an object of the log's that no version of is what the
// log wrote there: a commit at the next position signed by another key,
// say. Key names it.
type TamperedError struct {
	Key    string
	Detail string
}

func (e *TamperedError) Error() string {
	return "ledger: " + e.Key + " is not an object this log wrote: " + e.Detail
}
func (e *TamperedError) Is(target error) bool { return target == ErrTampered }

// NotFoundError is a checkpoint, tree or proof the log does not hold.
// Detail says which, for the person who asked.
type NotFoundError struct {
	Origin string
	Detail string
}

func (e *NotFoundError) Error() string        { return "ledger: not found: " + e.Detail }
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ConflictError is an object the log derives from a commit (a tile or a
// checkpoint) found with other bytes than the commit implies: it was
// written by someone else, which only tampering or a second log under the
// same prefix explains.
type ConflictError struct {
	Key string
}

func (e *ConflictError) Error() string {
	return "ledger: " + e.Key + " exists with other content than its commit implies"
}
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }
