// Package tamper holds the tamper suite: tests that attack a vault as an
// operator with MinIO's root credentials would, with an ordinary S3 client
// (minio-go) on a real MinIO, one test per attack. Each attack must be
// named by the audit and refused by evault, or survived with the data the
// vault locked; docs/ledger.md lists them with what detects each.
package tamper
