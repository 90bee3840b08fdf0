package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
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

// appsSetLimits runs `apps set-limits APP_ID [--rps N] [--burst N] [--user-rps N]
// [--user-burst N] [--default]`: flags given change those values, the others
// stay; --default first goes back to the defaults for all four. APP_ID may
// come before or after the flags.
func appsSetLimits(fs *flag.FlagSet) action {
	given := map[string]*int{}
	for field, usage := range map[string]string{
		application.FieldRPS:       "requests per second for the whole application",
		application.FieldBurst:     "requests at once for the whole application",
		application.FieldUserRPS:   "requests per second for each end user",
		application.FieldUserBurst: "requests at once for each end user",
	} {
		given[flagOf(field)] = fs.Int(flagOf(field), 0, usage)
	}
	reset := fs.Bool("default", false, "go back to the default limits (then apply any other flag)")
	return func(ctx context.Context, c *call, args []string) error {
		switch {
		case len(args) == 0:
			return misuse("give an APP_ID")
		case len(args) > 1:
			return misuse("give exactly one APP_ID")
		}
		appID := args[0]
		change := command.SetAppRateLimits{AppID: appID, Reset: *reset}
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
			return misuse("give --rps, --burst, --user-rps, --user-burst or --default")
		}
		return c.withApps(ctx, func(a app.Application, enc *json.Encoder) error {
			set, err := a.Commands.SetAppRateLimits.Handle(ctx, change)
			var e *errs.Error
			if errors.As(err, &e) && e.Kind == errs.KindInvalid {
				return fmt.Errorf("apps set-limits: --%s %s", flagOf(e.Field), e.Detail)
			}
			if err != nil {
				return err
			}
			return enc.Encode(struct {
				AppID string `json:"app_id"`
				appLimitsJSON
			}{appID, toAppLimitsJSON(set.App, set.RateLimits)})
		})
	}
}
