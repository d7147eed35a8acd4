package s3store

// SetMaxRecord lowers what Get reads, for a test; the returned func puts
// it back.
func SetMaxRecord(n int64) (restore func()) {
	old := maxRecord
	maxRecord = n
	return func() { maxRecord = old }
}
