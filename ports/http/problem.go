package http

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

// problem is an RFC 9457 problem detail. Type is a stable URN built from the
// error's slug; Field names the request part at fault, when there is one.
type problem struct {
	Type      string `json:"type" doc:"urn:custom-gpt-adapter:problem:<slug>, stable." example:"urn:custom-gpt-adapter:problem:limit-out-of-range"`
	Title     string `json:"title" example:"Unprocessable Entity"`
	Status    int    `json:"status" example:"422"`
	Detail    string `json:"detail,omitempty" doc:"What went wrong, for a person." example:"limit must be between 1 and 50"`
	Field     string `json:"field,omitempty" doc:"The part of the request at fault." example:"limit"`
	Instance  string `json:"instance,omitempty" example:"/api/v1/search"`
	RequestID string `json:"request_id,omitempty" example:"0193a6f0-7c1e-7b3a-9f51-2c4d5e6f7a8b"`
	// ViolatedPolicies is the member draft-ietf-httpapi-ratelimit-headers defines for a 429.
	ViolatedPolicies []string `json:"violated-policies,omitempty" doc:"On a 429, the budgets that are spent: app (the whole GPT) or user (this user)." example:"[\"user\"]"`
}

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
	writeProblem(w, r, status, e.Slug, e.Field, e.Detail)
}

// retryAfter is a Retry-After in whole seconds, rounded up: the time the error
// knows (an open breaker's), or 5 s when it knows none.
func retryAfter(d time.Duration) string {
	if d <= 0 {
		return "5"
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, slug, field, detail string) {
	sendProblem(w, newProblem(r, status, slug, field, detail))
}

func newProblem(r *http.Request, status int, slug, field, detail string) problem {
	return problem{
		Type:      "urn:custom-gpt-adapter:problem:" + slug,
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    detail,
		Field:     field,
		Instance:  r.URL.Path,
		RequestID: request.ID(r.Context()),
	}
}

func sendProblem(w http.ResponseWriter, p problem) {
	status := p.Status
	body, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeInternal answers a fault of ours without describing it to the caller.
func writeInternal(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, http.StatusInternalServerError, "internal", "", "an unexpected error occurred")
}

func badRequest(w http.ResponseWriter, r *http.Request, slug, field, detail string) {
	writeProblem(w, r, http.StatusBadRequest, slug, field, detail)
}
