// Package problems writes RFC 9457 problem details, the one shape every
// HTTP-speaking port refuses a request in.
package problems

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

// Problem is an RFC 9457 problem detail. Type is a stable URN built from the
// error's slug; Field names the request part at fault, when there is one.
type Problem struct {
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

// New is the problem of status for slug; field names the request part at
// fault, if any.
func New(r *http.Request, status int, slug, field, detail string) Problem {
	return Problem{
		Type:      "urn:custom-gpt-adapter:problem:" + slug,
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    detail,
		Field:     field,
		Instance:  r.URL.Path,
		RequestID: request.ID(r.Context()),
	}
}

// Write answers with the problem of status for slug.
func Write(w http.ResponseWriter, r *http.Request, status int, slug, field, detail string) {
	Send(w, New(r, status, slug, field, detail))
}

// Send answers with p.
func Send(w http.ResponseWriter, p Problem) {
	body, _ := json.Marshal(p) // strings and ints: cannot fail
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}

// RateLimited answers a request whose budget adm refused: 429, Retry-After
// in whole seconds (at least one) and the spent budget in violated-policies.
func RateLimited(w http.ResponseWriter, r *http.Request, adm command.Admission) {
	var wait time.Duration
	for _, b := range adm.Budgets {
		if b.Budget == adm.Refused {
			wait = b.Decision.RetryAfter
		}
	}
	retry := max(CeilSeconds(wait), 1)
	w.Header().Set("Retry-After", strconv.Itoa(retry))
	who := "this application"
	if adm.Refused == command.BudgetUser {
		who = "this user"
	}
	p := New(r, http.StatusTooManyRequests, "rate-limited", "",
		fmt.Sprintf("too many requests for %s (the %s budget is spent); retry after %d s", who, adm.Refused, retry))
	p.ViolatedPolicies = []string{string(adm.Refused)}
	Send(w, p)
}

// CeilSeconds is d in whole seconds, rounded up; 0 for none.
func CeilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}
