package cli

import (
	"context"
	"encoding/json"
	"flag"
	"time"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
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
	MCPEnabled   bool      `json:"mcp_enabled"`
	appLimitsJSON
}

// toAppJSON shows a with limits, the budgets its requests spend from.
func toAppJSON(a *application.Application, limits application.RateLimits) appJSON {
	uris := a.OAuthClient().RedirectURIs
	if uris == nil {
		uris = []string{}
	}
	return appJSON{AppID: a.ID(), Name: a.Name(), Status: string(a.Status()), ClientID: a.ID(), RedirectURIs: uris, CreatedAt: a.CreatedAt(), MCPEnabled: a.MCPEnabled(),
		appLimitsJSON: toAppLimitsJSON(a, limits)}
}

// appsCommand manages applications. Output is JSON on stdout so scripts can read it.
func appsCommand() *node {
	return group("apps", "manage applications (one Custom GPT each); output is JSON on stdout",
		leaf("create", "--name NAME [--redirect-uri URI]...",
			"register an application and OAuth client; prints its\nAPI key and client secret once", appsCreate),
		leaf("list", "", "list applications", noFlags(appsList)),
		leaf("add-redirect-uri", "APP_ID URI",
			"register one more OAuth redirect URI (matched exactly)", noFlags(appsAddRedirectURI)),
		leaf("rotate-key", "APP_ID", "replace an application's API key; prints the new one once", noFlags(appsRotateKey)),
		leaf("rotate-secret", "APP_ID", "replace the OAuth client secret; prints the new one once", noFlags(appsRotateSecret)),
		leaf("disable", "APP_ID", "stop an application from calling the API", noFlags(appsDisable)),
		leaf("set-mcp", "APP_ID [--enable|--disable] [--redirect-host HOST]... [--clear-redirect-hosts]",
			"switch the application's MCP endpoint (/mcp/APP_ID) on or off, and choose\nwhere clients that register themselves may redirect", appsSetMCP),
		leaf("clients", "APP_ID", "list the clients that registered themselves and asked for the\napplication's MCP endpoint", noFlags(appsClients)),
		leaf("revoke-client", "APP_ID CLIENT_ID", "end a registered client's access to the application, for good",
			noFlags(appsRevokeClient)),
		leaf("set-limits", "APP_ID [--rps N] [--burst N] [--user-rps N] [--user-burst N] [--default]",
			"override the default request budgets; prints the limits", appsSetLimits),
		leaf("set-webhook", "APP_ID URL", "register (or replace) the application's webhook; prints its\nsigning secret once",
			noFlags(appsSetWebhook)),
		leaf("rotate-webhook-secret", "APP_ID [--overlap 24h]",
			"new signing secret; the old one also signs during the overlap", appsRotateWebhookSecret),
		leaf("remove-webhook", "APP_ID", "stop sending webhooks and forget their deliveries", noFlags(appsRemoveWebhook)),
	)
}

// withApps runs fn with the application and a JSON encoder on stdout.
func (c *call) withApps(ctx context.Context, fn func(a app.Application, enc *json.Encoder) error) error {
	return c.connect(ctx, func(rt Runtime) error {
		return fn(rt.App(), json.NewEncoder(c.env.Stdout))
	})
}

func appsCreate(fs *flag.FlagSet) action {
	name := fs.String("name", "", "application name (required)")
	var uris stringList
	fs.Var(&uris, "redirect-uri", "OAuth redirect URI, matched exactly (repeatable)")
	return func(ctx context.Context, c *call, args []string) error {
		if *name == "" {
			return misuse("--name is required")
		}
		if len(args) != 0 {
			return misuse("unexpected argument %q", args[0])
		}
		return c.withApps(ctx, func(a app.Application, enc *json.Encoder) error {
			r, err := a.Commands.RegisterApp.Handle(ctx, command.RegisterApp{AppID: uuid.Must(uuid.NewV7()).String(), Name: *name, RedirectURIs: uris})
			if err != nil {
				return err
			}
			out := toAppJSON(r.App, r.RateLimits)
			out.APIKey, out.ClientSecret = r.APIKey, r.ClientSecret
			return enc.Encode(out)
		})
	}
}

func appsList(ctx context.Context, c *call, args []string) error {
	if len(args) != 0 {
		return misuse("takes no arguments")
	}
	return c.withApps(ctx, func(a app.Application, enc *json.Encoder) error {
		list, err := a.Queries.ListApps.Handle(ctx, query.ListApps{})
		if err != nil {
			return err
		}
		out := make([]appJSON, 0, len(list))
		for _, l := range list {
			out = append(out, toAppJSON(l.App, l.RateLimits))
		}
		return enc.Encode(out)
	})
}

func appsAddRedirectURI(ctx context.Context, c *call, args []string) error {
	if len(args) != 2 {
		return misuse("give APP_ID and URI")
	}
	return c.withApps(ctx, func(a app.Application, enc *json.Encoder) error {
		if err := a.Commands.AddRedirectURI.Handle(ctx, command.AddRedirectURI{AppID: args[0], URI: args[1]}); err != nil {
			return err
		}
		return enc.Encode(map[string]string{"app_id": args[0], "redirect_uri": args[1]})
	})
}

func appsRotateKey(ctx context.Context, c *call, args []string) error {
	if len(args) != 1 {
		return misuse("give exactly one APP_ID")
	}
	return c.withApps(ctx, func(a app.Application, enc *json.Encoder) error {
		key, err := a.Commands.RotateAPIKey.Handle(ctx, command.RotateAPIKey{AppID: args[0]})
		if err != nil {
			return err
		}
		return enc.Encode(map[string]string{"app_id": args[0], "api_key": key})
	})
}

func appsRotateSecret(ctx context.Context, c *call, args []string) error {
	if len(args) != 1 {
		return misuse("give exactly one APP_ID")
	}
	return c.withApps(ctx, func(a app.Application, enc *json.Encoder) error {
		secret, err := a.Commands.RotateClientSecret.Handle(ctx, command.RotateClientSecret{AppID: args[0]})
		if err != nil {
			return err
		}
		return enc.Encode(map[string]string{"app_id": args[0], "client_id": args[0], "client_secret": secret})
	})
}

func appsDisable(ctx context.Context, c *call, args []string) error {
	if len(args) != 1 {
		return misuse("give exactly one APP_ID")
	}
	return c.withApps(ctx, func(a app.Application, enc *json.Encoder) error {
		if err := a.Commands.DisableApp.Handle(ctx, command.DisableApp{AppID: args[0]}); err != nil {
			return err
		}
		return enc.Encode(map[string]string{"app_id": args[0], "status": "disabled"})
	})
}
