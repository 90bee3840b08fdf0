package memory

import (
	"errors"
	"fmt"
)

// BankError reports a Memory Bank call that did not succeed.
// Transient errors (5xx, 408, 429, timeouts, connection errors, an open breaker)
// may succeed on retry; the others are permanent and fail the operation.
type BankError struct {
	Transient  bool
	StatusCode int    // upstream HTTP status, 0 when none was received
	Reason     string // short explanation safe to show the caller
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

// ErrNoAnswer marks a call that was sent but got no answer (it timed out, or the
// connection broke): the Memory Bank may have carried it out all the same.
var ErrNoAnswer = errors.New("the Memory Bank may have acted on a call it did not answer")
