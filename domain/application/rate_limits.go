package application

import (
	"fmt"
	"strings"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// Rate is one request budget: PerSecond requests a second on average and up
// to Burst at once. In an application's overrides a zero field is unset and
// the deployment's default applies.
type Rate struct {
	PerSecond int
	Burst     int
}

// RateLimits are the two budgets every /api/v1 request spends from: App, shared
// by all of an application's calls, and User, one for each of its end users.
type RateLimits struct {
	App  Rate
	User Rate
}

// Bounds of a budget. A higher rate than this is no limit at all on one
// instance; the maxima keep a typo from switching limits off unnoticed.
const (
	MaxRatePerSecond = 10_000
	MaxBurst         = 100_000
)

// Or fills the unset fields of l from defaults.
func (l RateLimits) Or(defaults RateLimits) RateLimits {
	pick := func(v, def int) int {
		if v == 0 {
			return def
		}
		return v
	}
	return RateLimits{
		App:  Rate{PerSecond: pick(l.App.PerSecond, defaults.App.PerSecond), Burst: pick(l.App.Burst, defaults.App.Burst)},
		User: Rate{PerSecond: pick(l.User.PerSecond, defaults.User.PerSecond), Burst: pick(l.User.Burst, defaults.User.Burst)},
	}
}

// Fields of a LimitsChange, as errors name them.
const (
	FieldRPS       = "rps"
	FieldBurst     = "burst"
	FieldUserRPS   = "user_rps"
	FieldUserBurst = "user_burst"
)

// LimitsChange overrides some of an application's budgets. Nil fields keep
// what is set; Reset first goes back to the defaults for every field.
type LimitsChange struct {
	Reset         bool
	AppPerSecond  *int
	AppBurst      *int
	UserPerSecond *int
	UserBurst     *int
}

// CheckRate tells whether n is a valid value for field: a rate of 1 to
// MaxRatePerSecond a second, or a burst of 1 to MaxBurst requests.
func CheckRate(field string, n int) error {
	hi := MaxRatePerSecond
	if strings.HasSuffix(field, FieldBurst) {
		hi = MaxBurst
	}
	if n < 1 || n > hi {
		return errs.Invalid(field, "rate-limit-out-of-range", fmt.Sprintf("must be a whole number from 1 to %d, got %d", hi, n))
	}
	return nil
}

// ChangeRateLimits applies c, all or nothing: one invalid value changes nothing.
func (a *Application) ChangeRateLimits(c LimitsChange, now time.Time) error {
	l := a.limits
	if c.Reset {
		l = RateLimits{}
	}
	for _, f := range []struct {
		name string
		v    *int
		dst  *int
	}{
		{FieldRPS, c.AppPerSecond, &l.App.PerSecond},
		{FieldBurst, c.AppBurst, &l.App.Burst},
		{FieldUserRPS, c.UserPerSecond, &l.User.PerSecond},
		{FieldUserBurst, c.UserBurst, &l.User.Burst},
	} {
		if f.v == nil {
			continue
		}
		if err := CheckRate(f.name, *f.v); err != nil {
			return err
		}
		*f.dst = *f.v
	}
	a.limits = l
	a.updatedAt = now
	return nil
}

// RateLimits are the application's overrides; unset fields are zero.
func (a *Application) RateLimits() RateLimits { return a.limits }

// WithStoredRateLimits restores the overrides read from storage; adapters only.
func (a *Application) WithStoredRateLimits(l RateLimits) *Application {
	a.limits = l
	return a
}
