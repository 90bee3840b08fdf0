package http

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/problems"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

func budget(name command.Budget, rps, burst int, checked bool, d command.RateDecision) command.BudgetState {
	return command.BudgetState{Budget: name, Rate: application.Rate{PerSecond: rps, Burst: burst}, Checked: checked, Decision: d}
}

func TestRateLimitFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		adm           command.Admission
		policy, state string
	}{
		{
			name:   "app only, budget left: t until it is full again",
			adm:    command.Admission{Budgets: []command.BudgetState{budget(command.BudgetApp, 20, 40, true, command.RateDecision{Allowed: true, Remaining: 39, ResetAfter: 50 * time.Millisecond})}},
			policy: `"app";q=20;w=1;cgpt-burst=40`,
			state:  `"app";r=39;t=1`,
		},
		{
			name: "this request took the last one: t until the next",
			adm: command.Admission{Budgets: []command.BudgetState{
				// burst 2 at 1/s: full again in 2s, the next one back in 1s.
				budget(command.BudgetApp, 1, 2, true, command.RateDecision{Allowed: true, Remaining: 0, ResetAfter: 2 * time.Second}),
				budget(command.BudgetUser, 5, 10, true, command.RateDecision{Allowed: true, Remaining: 9, ResetAfter: 2500 * time.Millisecond}),
			}},
			policy: `"app";q=1;w=1;cgpt-burst=2, "user";q=5;w=1;cgpt-burst=10`,
			state:  `"app";r=0;t=1, "user";r=9;t=3`,
		},
		{
			name: "refused by the user: the app budget was not checked",
			adm: command.Admission{Refused: command.BudgetUser, Budgets: []command.BudgetState{
				budget(command.BudgetApp, 20, 40, false, command.RateDecision{}),
				budget(command.BudgetUser, 1, 1, true, command.RateDecision{RetryAfter: 1200 * time.Millisecond, ResetAfter: 1200 * time.Millisecond}),
			}},
			policy: `"app";q=20;w=1;cgpt-burst=40, "user";q=1;w=1;cgpt-burst=1`,
			state:  `"user";r=0;t=2`,
		},
		{
			name:   "refused with a wait that rounds to nothing: at least a second",
			adm:    command.Admission{Refused: command.BudgetApp, Budgets: []command.BudgetState{budget(command.BudgetApp, 1000, 1, true, command.RateDecision{RetryAfter: time.Microsecond})}},
			policy: `"app";q=1000;w=1;cgpt-burst=1`,
			state:  `"app";r=0;t=1`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := rateLimitPolicy(tt.adm); got != tt.policy {
				t.Errorf("RateLimit-Policy %q, want %q", got, tt.policy)
			}
			if got := rateLimitState(tt.adm); got != tt.state {
				t.Errorf("RateLimit %q, want %q", got, tt.state)
			}
		})
	}
}

func TestWriteRateLimited(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		wait  time.Duration
		retry string
	}{{time.Microsecond, "1"}, {time.Second, "1"}, {1001 * time.Millisecond, "2"}, {90 * time.Second, "90"}} {
		adm := command.Admission{Refused: command.BudgetUser, Budgets: []command.BudgetState{
			budget(command.BudgetApp, 20, 40, false, command.RateDecision{}),
			budget(command.BudgetUser, 1, 1, true, command.RateDecision{RetryAfter: tt.wait}),
		}}
		w := httptest.NewRecorder()
		problems.RateLimited(w, httptest.NewRequest(http.MethodPost, "/api/v1/search", nil), adm)
		var p problem
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != tt.retry ||
			w.Header().Get("Content-Type") != "application/problem+json" || p.Type != "urn:custom-gpt-adapter:problem:rate-limited" ||
			len(p.ViolatedPolicies) != 1 || p.ViolatedPolicies[0] != "user" || p.Instance != "/api/v1/search" {
			t.Errorf("wait %v: %d Retry-After %q %+v", tt.wait, w.Code, w.Header().Get("Retry-After"), p)
		}
	}
}

type fakeAdmit struct {
	adm command.Admission
	err error
}

func (f fakeAdmit) Handle(context.Context, command.AdmitRequest) (command.Admission, error) {
	return f.adm, f.err
}

type fakeRecord struct{ got *[]command.RecordRateLimited }

func (f fakeRecord) Handle(_ context.Context, c command.RecordRateLimited) error {
	*f.got = append(*f.got, c)
	return nil
}

// rateLimited runs the middleware with a fake AdmitRequest in front of a
// handler that counts its calls.
func rateLimited(t *testing.T, admit fakeAdmit) (served int, recorded []command.RecordRateLimited, w *httptest.ResponseRecorder, reg *prometheus.Registry) {
	t.Helper()
	reg = prometheus.NewRegistry()
	s := &Server{app: app.Application{Commands: app.Commands{AdmitRequest: admit, RecordRateLimited: fakeRecord{&recorded}}}}
	h := s.rateLimit(reg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served++ }))
	w = httptest.NewRecorder()
	request.WithID(asCaller(query.Caller{AppID: "app-1", EndUser: "alice"}, h)).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/api/v1/memories", nil))
	return served, recorded, w, reg
}

func TestRateLimitMiddleware(t *testing.T) {
	t.Parallel()
	allowed := command.Admission{Budgets: []command.BudgetState{budget(command.BudgetApp, 20, 40, true, command.RateDecision{Allowed: true, Remaining: 39})}}
	served, recorded, w, _ := rateLimited(t, fakeAdmit{adm: allowed})
	if served != 1 || len(recorded) != 0 || w.Header().Get("RateLimit") != `"app";r=39;t=0` || w.Header().Get("RateLimit-Policy") == "" {
		t.Errorf("allowed: served %d, recorded %v, headers %v", served, recorded, w.Header())
	}

	refused := command.Admission{Refused: command.BudgetApp, Budgets: []command.BudgetState{budget(command.BudgetApp, 1, 1, true, command.RateDecision{RetryAfter: time.Second})}}
	served, recorded, w, reg := rateLimited(t, fakeAdmit{adm: refused})
	if served != 0 || w.Code != http.StatusTooManyRequests || len(recorded) != 1 || recorded[0].Budget != command.BudgetApp ||
		recorded[0].EndUser != "alice" || recorded[0].RequestID != w.Header().Get("X-Request-ID") || recorded[0].Path != "/api/v1/memories" {
		t.Errorf("refused: served %d, %d, recorded %+v", served, w.Code, recorded)
	}
	if n := counterOf(t, reg, "custom_gpt_rate_limited_total"); n != 1 {
		t.Errorf("rate limited total %v", n)
	}

	// The limiter failing lets the request through, unchecked and counted.
	served, _, w, reg = rateLimited(t, fakeAdmit{err: errors.New("redis down")})
	if served != 1 || w.Header().Get("RateLimit") != "" {
		t.Errorf("limiter down: served %d, headers %v", served, w.Header())
	}
	if n := counterOf(t, reg, "custom_gpt_rate_limit_errors_total"); n != 1 {
		t.Errorf("rate limit errors total %v", n)
	}
}

// counterOf sums the counter registered under name; 0 when there is none.
func counterOf(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}
