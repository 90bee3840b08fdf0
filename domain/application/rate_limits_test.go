package application_test

import (
	"errors"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

func ptr(n int) *int { return &n }

func newApp(t *testing.T) *application.Application {
	t.Helper()
	a, err := application.New("app-1", "GPT", application.HashAPIKey("cgpt_x"), t0)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestChangeRateLimitsRefusesOutOfRangeValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change application.LimitsChange
		field  string
	}{
		{"zero rps", application.LimitsChange{AppPerSecond: ptr(0)}, application.FieldRPS},
		{"negative burst", application.LimitsChange{AppBurst: ptr(-1)}, application.FieldBurst},
		{"rps above the maximum", application.LimitsChange{AppPerSecond: ptr(application.MaxRatePerSecond + 1)}, application.FieldRPS},
		{"user burst zero", application.LimitsChange{UserBurst: ptr(0)}, application.FieldUserBurst},
		{"user burst above the maximum", application.LimitsChange{UserBurst: ptr(application.MaxBurst + 1)}, application.FieldUserBurst},
		{"user rps with a valid app rps", application.LimitsChange{AppPerSecond: ptr(5), UserPerSecond: ptr(0)}, application.FieldUserRPS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t)
			if err := a.ChangeRateLimits(application.LimitsChange{AppPerSecond: ptr(3)}, t0); err != nil {
				t.Fatal(err)
			}
			err := a.ChangeRateLimits(tt.change, t0.Add(time.Minute))
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Field != tt.field || e.Slug != "rate-limit-out-of-range" {
				t.Fatalf("ChangeRateLimits(%+v) = %v, want invalid %s", tt.change, err, tt.field)
			}
			// All or nothing: the earlier override stands, untouched.
			if got := a.RateLimits(); got != (application.RateLimits{App: application.Rate{PerSecond: 3}}) || !a.UpdatedAt().Equal(t0) {
				t.Errorf("after a refused change: %+v, updated %v", got, a.UpdatedAt())
			}
		})
	}
}

func TestChangeRateLimitsKeepsWhatIsNotGivenAndResets(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	if err := a.ChangeRateLimits(application.LimitsChange{AppPerSecond: ptr(1), AppBurst: ptr(application.MaxBurst)}, t0); err != nil {
		t.Fatal(err)
	}
	if err := a.ChangeRateLimits(application.LimitsChange{UserPerSecond: ptr(application.MaxRatePerSecond), UserBurst: ptr(1)}, t0); err != nil {
		t.Fatal(err)
	}
	want := application.RateLimits{App: application.Rate{PerSecond: 1, Burst: application.MaxBurst}, User: application.Rate{PerSecond: application.MaxRatePerSecond, Burst: 1}}
	if got := a.RateLimits(); got != want {
		t.Fatalf("limits %+v, want %+v", got, want)
	}
	// Reset clears every override before the rest of the change applies.
	if err := a.ChangeRateLimits(application.LimitsChange{Reset: true, UserBurst: ptr(4)}, t0); err != nil {
		t.Fatal(err)
	}
	if got := a.RateLimits(); got != (application.RateLimits{User: application.Rate{Burst: 4}}) {
		t.Fatalf("after reset: %+v", got)
	}
}

func TestRateLimitsOrFillsOnlyUnsetFields(t *testing.T) {
	t.Parallel()
	defaults := application.RateLimits{App: application.Rate{PerSecond: 20, Burst: 40}, User: application.Rate{PerSecond: 5, Burst: 10}}
	if got := (application.RateLimits{}).Or(defaults); got != defaults {
		t.Errorf("no overrides: %+v", got)
	}
	got := application.RateLimits{App: application.Rate{Burst: 2}, User: application.Rate{PerSecond: 1}}.Or(defaults)
	want := application.RateLimits{App: application.Rate{PerSecond: 20, Burst: 2}, User: application.Rate{PerSecond: 1, Burst: 10}}
	if got != want {
		t.Errorf("partial overrides: %+v, want %+v", got, want)
	}
}
