package http

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/problems"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// problem is the RFC 9457 answer every port gives (see ports/internal/problems).
type problem = problems.Problem

var kindStatus = map[errs.Kind]int{
	errs.KindInvalid:      http.StatusUnprocessableEntity,
	errs.KindNotFound:     http.StatusNotFound,
	errs.KindUnauthorized: http.StatusUnauthorized,
	errs.KindForbidden:    http.StatusForbidden,
	errs.KindUnavailable:  http.StatusServiceUnavailable,
	errs.KindConflict:     http.StatusConflict,
	errs.KindRateLimited:  http.StatusTooManyRequests,
}

// writeError maps an error to its problem response, once, at the edge.
// Internal errors are not described to the caller; the decorator logged them.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *errs.Error
	if !errors.As(err, &e) {
		writeInternal(w, r)
		return
	}
	status, ok := kindStatus[e.Kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	switch {
	case e.Slug == "invalid-token":
		// RFC 6750 section 3: tell the client to get a new token.
		w.Header().Set("WWW-Authenticate", `Bearer realm="custom-gpt-adapter", error="invalid_token", error_description=`+strconv.Quote(e.Detail))
	case status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="custom-gpt-adapter"`)
	case e.Slug == "insufficient-scope":
		w.Header().Set("WWW-Authenticate", `Bearer realm="custom-gpt-adapter", error="insufficient_scope", scope=`+strconv.Quote(e.Field))
	case status == http.StatusServiceUnavailable, status == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", retryAfter(e.RetryAfter))
	}
	problems.Write(w, r, status, e.Slug, e.Field, e.Detail)
}

// retryAfter is a Retry-After in whole seconds, rounded up: the time the error
// knows (an open breaker's), or 5 s when it knows none.
func retryAfter(d time.Duration) string {
	if d <= 0 {
		return "5"
	}
	return strconv.Itoa(problems.CeilSeconds(d))
}

// writeInternal answers a fault of ours without describing it to the caller.
func writeInternal(w http.ResponseWriter, r *http.Request) {
	problems.Write(w, r, http.StatusInternalServerError, "internal", "", "an unexpected error occurred")
}

func badRequest(w http.ResponseWriter, r *http.Request, slug, field, detail string) {
	problems.Write(w, r, http.StatusBadRequest, slug, field, detail)
}
