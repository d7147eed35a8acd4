package client

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Retry policy: a 429 or a 503 (the vault's "unavailable", API Gateway's
// throttling) or a connection lost before an answer is tried again, after
// Retry-After when the answer gives one, else after an exponential backoff
// with jitter; never past the call's timeout or its context (Ctrl-C).
const (
	backoffBase = 250 * time.Millisecond
	backoffMax  = 10 * time.Second
	// retryAfterMax caps a server's Retry-After.
	retryAfterMax = time.Minute
)

// repeatable reports whether sending rq twice does what sending it once
// does: reads, deletes, POSTs that only read or are idempotent by design
// (complete, verify, part URLs), and creating POSTs with an
// Idempotency-Key.
func (rq request) repeatable() bool {
	switch rq.method {
	case http.MethodGet, http.MethodHead, http.MethodDelete:
		return true
	}
	return rq.idempotencyKey != "" || rq.path == "/v1/verify" || hasSuffix(rq.path, "/complete") || hasSuffix(rq.path, "/parts")
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

// retryAfter reads how long an answer asks to wait: 0 for the client's
// choice, -1 when trying again would not help.
func retryAfter(resp *http.Response) time.Duration {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return -1
	}
	return max(parseRetryAfter(resp.Header.Get("Retry-After")), 0)
}

// parseRetryAfter reads a Retry-After value (seconds or an HTTP date),
// capped; -1 if there is none.
func parseRetryAfter(v string) time.Duration {
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return min(time.Duration(secs)*time.Second, retryAfterMax)
	}
	if at, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(at), 0), retryAfterMax)
	}
	return -1
}

// backoff is the wait before retry attempt+1: what the server asked, or
// an exponential backoff with full jitter.
func backoff(attempt int, asked time.Duration) time.Duration {
	if asked > 0 {
		return asked
	}
	ceiling := min(backoffBase<<attempt, backoffMax)
	return time.Duration(rand.Int64N(int64(ceiling)) + 1)
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// newIdempotencyKey returns a random key for one creating call.
func newIdempotencyKey() string {
	var b [16]byte
	crand.Read(b[:])
	return hex.EncodeToString(b[:])
}
