package http

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/admission"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/problems"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

// Header fields of draft-ietf-httpapi-ratelimit-headers (revision 11): one
// quota policy per budget, and what is left of each.
const (
	headerRateLimitPolicy = "RateLimit-Policy"
	headerRateLimit       = "RateLimit"
)

type rateLimitMetrics struct {
	limited *prometheus.CounterVec
	errors  prometheus.Counter
}

func newRateLimitMetrics(reg prometheus.Registerer) *rateLimitMetrics {
	m := &rateLimitMetrics{
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custom_gpt_rate_limited_total", Help: "API requests refused with 429, by the budget that was spent (app or user).",
		}, []string{"budget"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "custom_gpt_rate_limit_errors_total", Help: "API requests let through unchecked because the rate limiter (Redis) failed.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.limited, m.errors)
	}
	// Each budget's series exists from the start, so a rate over it is 0
	// rather than absent until the first refusal.
	for _, b := range []command.Budget{command.BudgetApp, command.BudgetUser} {
		m.limited.WithLabelValues(string(b))
	}
	return m
}

// rateLimit spends the caller's budgets before anything else runs for the
// request: a refusal answers 429 and writes nothing but its audit entry; the
// Idempotency-Key middleware and the handlers come after. It runs after
// authenticate, whose caller carries the application's limits. When the
// limiter fails the request goes on unchecked (fail open): Redis being down
// must not stop an API whose own work may not need it; the decorator has
// logged the failure and the errors metric counts it.
func (s *Server) rateLimit(reg prometheus.Registerer) func(http.Handler) http.Handler {
	metrics := newRateLimitMetrics(reg)
	return func(next http.Handler) http.Handler {
		if s.app.Commands.AdmitRequest == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			adm, err := admission.Spend(r, s.app.Commands, request.Caller(r.Context()))
			if err != nil {
				metrics.errors.Inc()
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			h.Set(headerRateLimitPolicy, rateLimitPolicy(adm))
			h.Set(headerRateLimit, rateLimitState(adm))
			if adm.Refused == "" {
				next.ServeHTTP(w, r)
				return
			}
			metrics.limited.WithLabelValues(string(adm.Refused)).Inc()
			problems.RateLimited(w, r, adm)
		})
	}
}

// rateLimitPolicy lists every budget of the caller as a quota policy: q
// requests a second (w=1), the steady rate, with the burst the budget allows
// on top of it as a vendor parameter, e.g. `"app";q=20;w=1;cgpt-burst=40`.
func rateLimitPolicy(adm command.Admission) string {
	items := make([]string, 0, len(adm.Budgets))
	for _, b := range adm.Budgets {
		items = append(items, fmt.Sprintf("%q;q=%d;w=1;cgpt-burst=%d", b.Budget, b.Rate.PerSecond, b.Rate.Burst))
	}
	return strings.Join(items, ", ")
}

// rateLimitState lists what is left of each budget checked for this request:
// r requests may be sent now, and t is the effective window in whole seconds,
// rounded up: until the budget is full again while r > 0, and until the next
// request is allowed when r = 0 (on a 429 that equals Retry-After, as the
// draft asks), e.g. `"app";r=0;t=1`.
func rateLimitState(adm command.Admission) string {
	items := make([]string, 0, len(adm.Budgets))
	for _, b := range adm.Budgets {
		if !b.Checked {
			continue
		}
		d := b.Decision
		t := problems.CeilSeconds(d.ResetAfter)
		if d.Remaining <= 0 {
			next := d.RetryAfter
			if d.Allowed {
				// This request took the last one: the next comes back one
				// emission interval after the rest of the burst would.
				interval := time.Second / time.Duration(max(b.Rate.PerSecond, 1))
				next = d.ResetAfter - time.Duration(b.Rate.Burst-1)*interval
			}
			t = max(problems.CeilSeconds(next), 1)
		}
		items = append(items, fmt.Sprintf("%q;r=%d;t=%d", b.Budget, max(d.Remaining, 0), t))
	}
	return strings.Join(items, ", ")
}

// ceilSeconds rounds d up to whole seconds (delay-seconds); never negative.
// rateLimitHeaders documents the RateLimit fields every /api/v1 answer carries
// while the limiter works.
func rateLimitHeaders() map[string]*huma.Param {
	return map[string]*huma.Param{
		headerRateLimitPolicy: {
			Description: "The request budgets this caller spends from (draft-ietf-httpapi-ratelimit-headers): " +
				"app for the whole GPT, user for this user; q requests a second, plus cgpt-burst at once.",
			Schema: &huma.Schema{Type: "string"}, Example: `"app";q=20;w=1;cgpt-burst=40, "user";q=5;w=1;cgpt-burst=10`,
		},
		headerRateLimit: {
			Description: "What is left of each budget: r requests may be sent now; t seconds until it refills.",
			Schema:      &huma.Schema{Type: "string"}, Example: `"app";r=39;t=1, "user";r=9;t=1`,
		},
	}
}

// rateLimitedResponse documents the 429, so that a GPT knows to wait and retry.
func rateLimitedResponse(reg huma.Registry) *huma.Response {
	headers := rateLimitHeaders()
	headers[headerRateLimit].Example = `"user";r=0;t=1`
	headers["Retry-After"] = &huma.Param{
		Description: "Seconds to wait before retrying.", Schema: &huma.Schema{Type: "integer", Minimum: floatPtr(1)}, Example: 1,
	}
	return &huma.Response{
		Description: "Too many requests: the GPT's or this user's request budget is spent. Wait Retry-After seconds, then retry the same call.",
		Headers:     headers,
		Content:     problemContent(reg),
	}
}
