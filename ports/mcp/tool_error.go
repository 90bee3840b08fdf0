package mcp

import (
	"errors"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// toolError is what a failed use case tells the model: the slug of the
// problem /api/v1 would answer, the field at fault, and the detail, as
// "memory-not-found: no such memory" or "content-too-long (content): …".
// The SDK sends it as a tool error (isError), which the model can read and
// act on, not as a protocol error. A fault of ours is not described; the
// decorator logged it.
func toolError(err error) error {
	var e *errs.Error
	if !errors.As(err, &e) {
		return errors.New("internal: an unexpected error occurred; retry later")
	}
	msg := e.Slug
	if e.Field != "" {
		msg += " (" + e.Field + ")"
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Kind == errs.KindUnavailable || e.Kind == errs.KindRateLimited {
		msg += " (retry later)"
	}
	return errors.New(msg)
}
