package http

import (
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// problemCase is one way an operation can fail: the status it answers and,
// for the document, when, as a clause ("the body is over 1 MiB").
type problemCase struct {
	status int
	when   string
}

// The problems of the middleware, which every operation that runs it can
// answer; an operation lists the problems of its own handler in
// apiOperation.problems.
var (
	// authenticate, requireScope; the 429 of the rate limiter is documented
	// apart, with its headers (rateLimitedResponse).
	callerProblems = []problemCase{
		{http.StatusUnauthorized, "the API key or access token is missing, unknown, expired or revoked"},
		{http.StatusForbidden, "the application is disabled, or the access token lacks the scope this operation needs"},
		{http.StatusServiceUnavailable, "Postgres, Redis or the Memory Bank is unavailable (retry after Retry-After seconds)"},
	}
	// decodeJSON.
	bodyProblems = []problemCase{
		{http.StatusBadRequest, "the body is not one JSON object, or has a wrong type or an unknown field (field names it)"},
		{http.StatusRequestEntityTooLarge, "the body is over 1 MiB"},
		{http.StatusUnsupportedMediaType, "the body is not JSON"},
	}
	// Idempotent.
	keyProblems = []problemCase{
		{http.StatusBadRequest, "the Idempotency-Key header is malformed"},
		{http.StatusConflict, "a request with this Idempotency-Key is still running (retry after Retry-After seconds)"},
		{http.StatusRequestEntityTooLarge, "the body is over 1 MiB"},
		{http.StatusUnprocessableEntity, "the Idempotency-Key was used for another request"},
	}
)

// problemHeaders are the header fields a problem of status carries; new
// each time, as every response of the document is its own.
func problemHeaders(status int) map[string]*huma.Param {
	challenge := func(desc, example string) map[string]*huma.Param {
		return map[string]*huma.Param{"WWW-Authenticate": {Description: desc, Schema: &huma.Schema{Type: "string"}, Example: example}}
	}
	switch status {
	case http.StatusUnauthorized:
		return challenge(`The Bearer challenge (RFC 6750); error="invalid_token" when a token was sent but is not valid.`,
			`Bearer realm="custom-gpt-adapter", error="invalid_token"`)
	case http.StatusForbidden:
		return challenge(`For a missing scope, the Bearer challenge naming it (error="insufficient_scope").`,
			`Bearer realm="custom-gpt-adapter", error="insufficient_scope", scope="memories:write"`)
	case http.StatusConflict, http.StatusServiceUnavailable:
		return map[string]*huma.Param{"Retry-After": {
			Description: "Seconds to wait before retrying.", Schema: &huma.Schema{Type: "integer", Minimum: floatPtr(1)}, Example: 5,
		}}
	}
	return nil
}

// problemCases are the problems o can answer: the caller's, the body's when
// it takes one, its handler's own and the Idempotency-Key's when it takes one.
func (o apiOperation) problemCases() []problemCase {
	cases := append([]problemCase(nil), callerProblems...)
	if o.request != nil {
		cases = append(cases, bodyProblems...)
	}
	cases = append(cases, o.problems...)
	if o.takesKey() {
		cases = append(cases, keyProblems...)
	}
	return cases
}

// problemResponses documents each status of cases once, with every reason
// for it ("Conflict: a request with this Idempotency-Key is still running
// (...)."), as an RFC 9457 problem.
func problemResponses(reg huma.Registry, cases []problemCase) map[string]*huma.Response {
	reasons := map[int][]string{}
	for _, c := range cases {
		if !slices.Contains(reasons[c.status], c.when) {
			reasons[c.status] = append(reasons[c.status], c.when)
		}
	}
	out := make(map[string]*huma.Response, len(reasons))
	for s, why := range reasons {
		out[itoa(s)] = &huma.Response{
			Description: http.StatusText(s) + ": " + strings.Join(why, "; or ") + ".",
			Headers:     problemHeaders(s),
			Content:     problemContent(reg),
		}
	}
	return out
}

// problemContent is the body of every problem response.
func problemContent(reg huma.Registry) map[string]*huma.MediaType {
	return map[string]*huma.MediaType{"application/problem+json": {
		Schema: reg.Schema(reflect.TypeOf(problem{}), true, ""),
	}}
}
