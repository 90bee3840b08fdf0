package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

type rateJSON struct {
	RPS   int `json:"rps"`
	Burst int `json:"burst"`
}

type limitsJSON struct {
	App  rateJSON `json:"app"`
	User rateJSON `json:"user"`
}

// appLimitsJSON is what an application's requests may spend (effective) and
// which of those values are its own rather than the defaults (overrides, by
// the name of their set-limits flag).
type appLimitsJSON struct {
	RateLimits limitsJSON     `json:"rate_limits"`
	Overrides  map[string]int `json:"rate_limit_overrides"`
}

func toAppLimitsJSON(a *application.Application, eff application.RateLimits) appLimitsJSON {
	own := a.RateLimits()
	out := appLimitsJSON{
		RateLimits: limitsJSON{
			App:  rateJSON{RPS: eff.App.PerSecond, Burst: eff.App.Burst},
			User: rateJSON{RPS: eff.User.PerSecond, Burst: eff.User.Burst},
		},
		Overrides: map[string]int{},
	}
	for name, v := range map[string]int{
		application.FieldRPS: own.App.PerSecond, application.FieldBurst: own.App.Burst,
		application.FieldUserRPS: own.User.PerSecond, application.FieldUserBurst: own.User.Burst,
	} {
		if v != 0 {
			out.Overrides[flagOf(name)] = v
		}
	}
	return out
}

// flagOf names a rate limit field as its set-limits flag does.
func flagOf(field string) string { return strings.ReplaceAll(field, "_", "-") }

// setLimits runs `apps set-limits APP_ID [--rps N] [--burst N] [--user-rps N]
// [--user-burst N] [--default]`: flags given change those values, the others
// stay; --default first goes back to the defaults for all four.
func setLimits(ctx context.Context, handler command.SetAppRateLimitsHandler, args []string, stderr io.Writer) (any, error) {
	fs := flag.NewFlagSet("apps set-limits", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rps := fs.Int(flagOf(application.FieldRPS), 0, "requests per second for the whole application")
	burst := fs.Int(flagOf(application.FieldBurst), 0, "requests at once for the whole application")
	userRPS := fs.Int(flagOf(application.FieldUserRPS), 0, "requests per second for each end user")
	userBurst := fs.Int(flagOf(application.FieldUserBurst), 0, "requests at once for each end user")
	reset := fs.Bool("default", false, "go back to the default limits (then apply any other flag)")
	// APP_ID may come before or after the flags.
	var appID string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		if appID != "" {
			return nil, fmt.Errorf("apps set-limits: give exactly one APP_ID")
		}
		appID, rest = fs.Arg(0), fs.Args()[1:]
	}
	if appID == "" {
		return nil, fmt.Errorf("apps set-limits: give an APP_ID")
	}
	change := command.SetAppRateLimits{AppID: appID, Reset: *reset}
	given := map[string]*int{
		flagOf(application.FieldRPS): rps, flagOf(application.FieldBurst): burst,
		flagOf(application.FieldUserRPS): userRPS, flagOf(application.FieldUserBurst): userBurst,
	}
	set := 0
	fs.Visit(func(f *flag.Flag) {
		set++
		switch v := given[f.Name]; f.Name {
		case flagOf(application.FieldRPS):
			change.AppPerSecond = v
		case flagOf(application.FieldBurst):
			change.AppBurst = v
		case flagOf(application.FieldUserRPS):
			change.UserPerSecond = v
		case flagOf(application.FieldUserBurst):
			change.UserBurst = v
		}
	})
	if set == 0 {
		return nil, fmt.Errorf("apps set-limits: give --rps, --burst, --user-rps, --user-burst or --default")
	}
	a, err := handler.Handle(ctx, change)
	var e *errs.Error
	if errors.As(err, &e) && e.Kind == errs.KindInvalid {
		return nil, fmt.Errorf("apps set-limits: --%s %s", flagOf(e.Field), e.Detail)
	}
	if err != nil {
		return nil, err
	}
	return struct {
		AppID string `json:"app_id"`
		appLimitsJSON
	}{appID, toAppLimitsJSON(a.App, a.RateLimits)}, nil
}
