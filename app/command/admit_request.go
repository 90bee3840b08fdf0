package command

import (
	"context"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// AdmitRequest spends one request of the caller's budgets: the application's,
// and its end user's when there is one. Limits are the application's overrides
// (query.Caller carries them); unset fields take the deployment's defaults.
type AdmitRequest struct {
	AppID   string
	EndUser string
	Limits  application.RateLimits
}

// Budget names a request budget, as the RateLimit headers and the audit do.
type Budget string

const (
	BudgetApp  Budget = "app"
	BudgetUser Budget = "user"
)

// RateDecision is a limiter's answer for one budget.
type RateDecision struct {
	Allowed bool
	// Remaining is how many more requests the budget allows right now.
	Remaining int
	// RetryAfter is how long until the next request is allowed; zero when this one was.
	RetryAfter time.Duration
	// ResetAfter is how long until the budget is full again.
	ResetAfter time.Duration
}

// BudgetState is one budget the caller spends from, after this request.
type BudgetState struct {
	Budget Budget
	Rate   application.Rate // effective: overrides over defaults
	// Checked is false for a budget left alone because another refused first.
	Checked  bool
	Decision RateDecision
}

// Admission says whether the request may go on. Budgets lists every budget of
// the caller, the application's first.
type Admission struct {
	Budgets []BudgetState
	Refused Budget // empty when admitted
}

// RateLimiter spends one request of the budget kept under key, shared by every
// instance of the service.
type RateLimiter interface {
	Allow(ctx context.Context, key string, rate application.Rate) (RateDecision, error)
}

// AdmitRequestHandler answers with an Admission, so it is shaped like a query
// although it spends budget.
type AdmitRequestHandler decorator.QueryHandler[AdmitRequest, Admission]

type admitRequestHandler struct {
	limiter  RateLimiter
	defaults application.RateLimits
}

func NewAdmitRequestHandler(limiter RateLimiter, defaults application.RateLimits, log *slog.Logger, m *decorator.Metrics) AdmitRequestHandler {
	return decorator.ApplyQueryDecorators[AdmitRequest, Admission](admitRequestHandler{limiter: limiter, defaults: defaults}, log, m)
}

// Handle checks the end user's budget before the application's: a user over
// their own limit then never spends the budget their neighbours share. A
// request the application's budget refuses has spent one of the user's.
func (h admitRequestHandler) Handle(ctx context.Context, c AdmitRequest) (Admission, error) {
	limits := c.Limits.Or(h.defaults)
	adm := Admission{Budgets: []BudgetState{{Budget: BudgetApp, Rate: limits.App}}}
	keys := []string{"app:" + c.AppID}
	if c.EndUser != "" {
		adm.Budgets = append(adm.Budgets, BudgetState{Budget: BudgetUser, Rate: limits.User})
		keys = append(keys, "user:"+c.AppID+":"+c.EndUser)
	}
	for i := len(adm.Budgets) - 1; i >= 0; i-- {
		b := &adm.Budgets[i]
		d, err := h.limiter.Allow(ctx, keys[i], b.Rate)
		if err != nil {
			return Admission{}, errs.Unavailable("rate-limit-unavailable", "the "+string(b.Budget)+" budget could not be checked", err)
		}
		b.Checked, b.Decision = true, d
		if !d.Allowed {
			adm.Refused = b.Budget
			return adm, nil
		}
	}
	return adm, nil
}
