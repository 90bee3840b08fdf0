package memorybank

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sony/gobreaker/v2"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

const maxReasonRunes = 300

var (
	// errCancelled marks a call its caller abandoned: it says nothing about the Memory
	// Bank's health, so the breaker excludes it.
	errCancelled = errors.New("cancelled by caller")
	// errCallTimeout is the cause of our own per-call deadline, told apart from the caller's.
	errCallTimeout = errors.New("memory bank call timed out")
	// errMalformed reports a 2xx answer we could not read.
	errMalformed = errors.New("malformed response")
)

func cancelledError(ctx context.Context) *memory.BankError {
	return &memory.BankError{Transient: true, Reason: "request cancelled", Err: fmt.Errorf("%w: %w", errCancelled, ctx.Err())}
}

// transportError classifies a failure to get an answer at all.
func transportError(caller, call context.Context, err error) *memory.BankError {
	if caller.Err() != nil {
		return cancelledError(caller)
	}
	// Unless the connection was never made, the request may have reached the
	// server and been carried out even though no answer came back.
	var opErr *net.OpError
	if !errors.As(err, &opErr) || opErr.Op != "dial" {
		err = fmt.Errorf("%w: %w", memory.ErrNoAnswer, err)
	}
	var netErr net.Error
	if errors.Is(context.Cause(call), errCallTimeout) || (errors.As(err, &netErr) && netErr.Timeout()) {
		return &memory.BankError{Transient: true, Reason: "timeout", Err: err}
	}
	return &memory.BankError{Transient: true, Reason: "unreachable", Err: err}
}

// notFoundError reports a memory that is missing or belongs to another scope, the same
// way for both, so that a caller never learns that another scope's memory exists. It
// wraps a permanent BankError: retrying cannot help, and the breaker counts it as the
// healthy answer it is.
func notFoundError(cause *memory.BankError) error {
	if cause == nil {
		cause = &memory.BankError{Reason: "memory not found"}
	}
	return &errs.Error{Kind: errs.KindNotFound, Slug: "memory-not-found", Detail: "no memory with this id", Err: cause}
}

func breakerError(err error, retryAfter time.Duration) *memory.BankError {
	return &memory.BankError{Transient: true, Reason: "circuit open", RetryAfter: retryAfter, Err: err}
}

func isBreakerRejection(err error) bool {
	return errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests)
}

func malformedError(status int, err error) *memory.BankError {
	return &memory.BankError{Transient: true, StatusCode: status, Reason: "malformed response", Err: fmt.Errorf("%w: %w", errMalformed, err)}
}

// statusError classifies a non-2xx answer. Only permanent errors expose the server's
// own explanation as Reason: a 5xx detail tends to leak internals (vector store hosts,
// stack traces), so it stays in Err for the logs.
func statusError(status int, body []byte) *memory.BankError {
	detail := reasonFromBody(body)
	if status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests {
		be := &memory.BankError{Transient: true, StatusCode: status, Reason: statusReason(status)}
		if detail != "" {
			be.Err = errors.New(detail)
		}
		return be
	}
	if detail == "" {
		detail = statusReason(status)
	}
	return &memory.BankError{StatusCode: status, Reason: detail}
}

func statusReason(status int) string {
	if text := http.StatusText(status); text != "" {
		return strings.ToLower(text)
	}
	return "unexpected status"
}

// reasonFromBody picks the explanation out of the error shapes both flavors use:
// FastAPI's {"detail": ...}, and the platform's {"message": ...} or {"error": ..., "details": ...}.
func reasonFromBody(body []byte) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return ""
	}
	for _, key := range [...]string{"detail", "message", "error", "details"} {
		raw, ok := fields[key]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			s = compactJSON(raw)
		}
		if s = boundReason(s); s != "" {
			return s
		}
	}
	return ""
}

func compactJSON(raw json.RawMessage) string {
	if string(raw) == "null" {
		return ""
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return ""
	}
	return b.String()
}

// boundReason makes an untrusted explanation printable and short.
func boundReason(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= maxReasonRunes {
		return s
	}
	runes := []rune(s)
	return string(runes[:maxReasonRunes]) + "…"
}

// mayHaveActed marks the failed answer of a write that may hide a change made
// all the same: a 500 (mem0's own crash after the write), and a 502 or 504
// (mem0's open-source server answers 502 for any failure of its LLM or vector
// store, server/errors.py; a proxy answers them when mem0 did not answer in
// time). A retry must look for the change before making it again.
func mayHaveActed(err error) error {
	var be *memory.BankError
	if !errors.As(err, &be) || errors.Is(err, memory.ErrNoAnswer) {
		return err
	}
	switch be.StatusCode {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		c := *be
		if c.Err != nil {
			c.Err = fmt.Errorf("%w: %w", memory.ErrNoAnswer, c.Err)
		} else {
			c.Err = memory.ErrNoAnswer
		}
		return &c
	}
	return err
}
