package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

type appJSON struct {
	AppID        string    `json:"app_id"`
	Name         string    `json:"name"`
	Status       string    `json:"status"`
	APIKey       string    `json:"api_key,omitempty"`
	ClientID     string    `json:"client_id"`
	ClientSecret string    `json:"client_secret,omitempty"`
	RedirectURIs []string  `json:"redirect_uris"`
	CreatedAt    time.Time `json:"created_at"`
	appLimitsJSON
}

// toAppJSON shows a with limits, the budgets its requests spend from.
func toAppJSON(a *application.Application, limits application.RateLimits) appJSON {
	uris := a.OAuthClient().RedirectURIs
	if uris == nil {
		uris = []string{}
	}
	return appJSON{AppID: a.ID(), Name: a.Name(), Status: string(a.Status()), ClientID: a.ID(), RedirectURIs: uris, CreatedAt: a.CreatedAt(),
		appLimitsJSON: toAppLimitsJSON(a, limits)}
}

// stringList collects a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// runApps manages applications. Output is JSON on stdout so scripts can read it.
func runApps(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	return withService(ctx, getenv, stderr, func(svc *service.Service) error {
		apps := svc.App().Commands
		enc := json.NewEncoder(stdout)

		switch args[0] {
		case "set-webhook", "rotate-webhook-secret", "remove-webhook":
			return runAppWebhook(ctx, svc, args, stdout, stderr)
		case "create":
			fs := flag.NewFlagSet("apps create", flag.ContinueOnError)
			fs.SetOutput(stderr)
			name := fs.String("name", "", "application name (required)")
			var uris stringList
			fs.Var(&uris, "redirect-uri", "OAuth redirect URI, matched exactly (repeatable)")
			if err := fs.Parse(args[1:]); err != nil {
				return err
			}
			if *name == "" {
				return fmt.Errorf("apps create: --name is required")
			}
			r, err := apps.RegisterApp.Handle(ctx, command.RegisterApp{AppID: uuid.Must(uuid.NewV7()).String(), Name: *name, RedirectURIs: uris})
			if err != nil {
				return err
			}
			out := toAppJSON(r.App, r.RateLimits)
			out.APIKey, out.ClientSecret = r.APIKey, r.ClientSecret
			return enc.Encode(out)
		case "list":
			list, err := svc.App().Queries.ListApps.Handle(ctx, query.ListApps{})
			if err != nil {
				return err
			}
			out := make([]appJSON, 0, len(list))
			for _, a := range list {
				out = append(out, toAppJSON(a.App, a.RateLimits))
			}
			return enc.Encode(out)
		case "rotate-key":
			if len(args) != 2 {
				return fmt.Errorf("apps rotate-key: give exactly one APP_ID")
			}
			key, err := apps.RotateAPIKey.Handle(ctx, command.RotateAPIKey{AppID: args[1]})
			if err != nil {
				return err
			}
			return enc.Encode(map[string]string{"app_id": args[1], "api_key": key})
		case "add-redirect-uri":
			if len(args) != 3 {
				return fmt.Errorf("apps add-redirect-uri: give APP_ID and URI")
			}
			if err := apps.AddRedirectURI.Handle(ctx, command.AddRedirectURI{AppID: args[1], URI: args[2]}); err != nil {
				return err
			}
			return enc.Encode(map[string]string{"app_id": args[1], "redirect_uri": args[2]})
		case "rotate-secret":
			if len(args) != 2 {
				return fmt.Errorf("apps rotate-secret: give exactly one APP_ID")
			}
			secret, err := apps.RotateClientSecret.Handle(ctx, command.RotateClientSecret{AppID: args[1]})
			if err != nil {
				return err
			}
			return enc.Encode(map[string]string{"app_id": args[1], "client_id": args[1], "client_secret": secret})
		case "set-limits":
			out, err := setLimits(ctx, apps.SetAppRateLimits, args[1:], stderr)
			if err != nil {
				return err
			}
			return enc.Encode(out)
		case "disable":
			if len(args) != 2 {
				return fmt.Errorf("apps disable: give exactly one APP_ID")
			}
			if err := apps.DisableApp.Handle(ctx, command.DisableApp{AppID: args[1]}); err != nil {
				return err
			}
			return enc.Encode(map[string]string{"app_id": args[1], "status": "disabled"})
		}
		return errUsage
	})
}
