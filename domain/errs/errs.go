// Package errs holds the typed errors the domain and application layers return.
// Ports map each Kind to a transport status once, at the edge, with errors.As.
package errs

import (
	"errors"
	"time"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

const (
	// KindInternal is a fault of ours; the caller can only retry later.
	KindInternal Kind = iota
	// KindInvalid means the input broke a rule; Field names the part at fault.
	KindInvalid
	// KindNotFound means the thing does not exist for this caller.
	KindNotFound
	// KindUnauthorized means credentials are missing or unknown.
	KindUnauthorized
	// KindForbidden means the caller is known but may not do this.
	KindForbidden
	// KindUnavailable means a dependency is down; retrying later may succeed.
	KindUnavailable
	// KindConflict means the request collides with the current state.
	KindConflict
	// KindRateLimited means the caller spent a budget; RetryAfter says when to
	// come back.
	KindRateLimited
)

// Error is a domain error with a stable machine-readable slug.
type Error struct {
	Kind   Kind
	Slug   string // stable identifier, e.g. "content-too-long"
	Field  string // JSON field at fault, if any, e.g. "content"
	Detail string // human-readable explanation
	Err    error  // underlying cause, never shown to callers
	// RetryAfter is when a KindUnavailable is worth retrying, if known.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	msg := e.Slug
	if e.Field != "" {
		msg += " (" + e.Field + ")"
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Invalid reports a broken input rule on field.
func Invalid(field, slug, detail string) *Error {
	return &Error{Kind: KindInvalid, Field: field, Slug: slug, Detail: detail}
}

// NotFound reports a missing resource.
func NotFound(slug, detail string) *Error {
	return &Error{Kind: KindNotFound, Slug: slug, Detail: detail}
}

// Unauthorized reports missing or unknown credentials.
func Unauthorized(slug, detail string) *Error {
	return &Error{Kind: KindUnauthorized, Slug: slug, Detail: detail}
}

// Forbidden reports a known caller that may not act.
func Forbidden(slug, detail string) *Error {
	return &Error{Kind: KindForbidden, Slug: slug, Detail: detail}
}

// Unavailable reports a dependency failure, wrapping its cause.
func Unavailable(slug, detail string, cause error) *Error {
	return &Error{Kind: KindUnavailable, Slug: slug, Detail: detail, Err: cause}
}

// RateLimited reports a spent budget, worth retrying after retry.
func RateLimited(slug, detail string, retry time.Duration) *Error {
	return &Error{Kind: KindRateLimited, Slug: slug, Detail: detail, RetryAfter: retry}
}

// KindOf returns the Kind of err, KindInternal when err is not an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}
