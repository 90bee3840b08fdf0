package memory

import (
	"errors"
	"fmt"
	"time"
)

// BankError reports a Memory Bank call that did not succeed.
// Transient errors (5xx, 408, 429, timeouts, connection errors, an open breaker)
// may succeed on retry; the others are permanent and fail the operation.
type BankError struct {
	Transient  bool
	StatusCode int    // upstream HTTP status, 0 when none was received
	Reason     string // short explanation safe to show the caller
	// RetryAfter, when positive, says the call was never sent: the Memory Bank
	// is known to be unavailable (an open breaker) or our budget toward it is
	// spent, for about this long. Such a call did nothing and may simply wait.
	RetryAfter time.Duration
	Err        error
}

func (e *BankError) Error() string {
	s := "memory bank: " + e.Reason
	if e.StatusCode != 0 {
		s = fmt.Sprintf("%s (status %d)", s, e.StatusCode)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *BankError) Unwrap() error { return e.Err }

// IsTransient tells whether err is worth retrying. Errors that are not BankErrors
// (our own faults, context deadlines) are treated as transient.
func IsTransient(err error) bool {
	var be *BankError
	if errors.As(err, &be) {
		return be.Transient
	}
	return true
}

// NotSent tells whether err is a call that was held back without reaching the
// Memory Bank, and how long to wait before trying again.
func NotSent(err error) (retryAfter time.Duration, ok bool) {
	var be *BankError
	if errors.As(err, &be) && be.RetryAfter > 0 {
		return be.RetryAfter, true
	}
	return 0, false
}

// ErrNoAnswer marks a call that was sent but got no answer (it timed out, or the
// connection broke): the Memory Bank may have carried it out all the same.
var ErrNoAnswer = errors.New("the Memory Bank may have acted on a call it did not answer")

// ErrWorkLost marks work the Memory Bank accepted and did not finish: its
// event failed, or the Memory Bank no longer knows it. It is transient: the
// next attempt looks for what it may have stored, then asks again.
var ErrWorkLost = errors.New("the Memory Bank did not finish work it accepted")
