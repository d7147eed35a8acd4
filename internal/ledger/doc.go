// Package ledger keeps tamper-evident, append-only Merkle logs of opaque
// entries, one per tenant, on object storage with conditional writes
// alone. It follows the design of Certificate Transparency (RFC 6962) and
// Go's checksum database: RFC 6962 hashing, stored hash tiles and proofs
// from golang.org/x/mod/sumdb/tlog, checkpoints in the C2SP
// tlog-checkpoint format (https://c2sp.org/tlog-checkpoint) signed as C2SP
// signed notes (https://c2sp.org/signed-note) with
// golang.org/x/mod/sumdb/note, ECDSA P-256 (signature type 0x02). Like
// Tessera on S3, it orders appends by the conditional creation of one
// object per position, and batches concurrent appends of a process into
// shared commits; with a scratch store, appends of separate processes
// share commits too, through a lease (sequence.go).
//
// An entry is an id, its leaf data (what the tree commits to) and the
// record the log keeps for it; the log knows nothing of what they mean.
// Append returns the entry's index, the signed checkpoint of the commit
// that integrated it and the inclusion proof; it never appends an id
// twice after the position the caller names.
//
// Verification (OpenCheckpoint, VerifyInclusion, VerifyConsistency,
// VerifyProof) is pure and works offline. docs/ledger.md describes the
// protocol and its threat model.
package ledger
