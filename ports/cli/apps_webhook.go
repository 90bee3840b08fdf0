package cli

import (
	"context"
	"encoding/json"
	"flag"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

type endpointJSON struct {
	AppID                   string     `json:"app_id"`
	URL                     string     `json:"url"`
	Status                  string     `json:"status"`
	DisabledReason          string     `json:"disabled_reason,omitempty"`
	Secret                  string     `json:"secret,omitempty"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
	UpdatedAt               time.Time  `json:"updated_at"`
}

func toEndpointJSON(e *webhook.Endpoint) endpointJSON {
	out := endpointJSON{AppID: e.AppID(), URL: e.URL(), Status: string(e.Status()), DisabledReason: e.DisabledReason(), UpdatedAt: e.UpdatedAt()}
	if !e.PreviousSecret().IsZero() {
		t := e.PreviousExpiresAt()
		out.PreviousSecretExpiresAt = &t
	}
	return out
}

// withWebhooks runs fn with the application's commands and a JSON encoder on stdout.
func (c *call) withWebhooks(ctx context.Context, fn func(hooks app.Commands, enc *json.Encoder) error) error {
	return c.connect(ctx, func(rt Runtime) error {
		return fn(rt.App().Commands, json.NewEncoder(c.env.Stdout))
	})
}

func appsSetWebhook(ctx context.Context, c *call, args []string) error {
	if len(args) != 2 {
		return misuse("give APP_ID and URL")
	}
	return c.withWebhooks(ctx, func(hooks app.Commands, enc *json.Encoder) error {
		s, err := hooks.SetWebhook.Handle(ctx, command.SetWebhook{AppID: args[0], URL: args[1]})
		if err != nil {
			return err
		}
		out := toEndpointJSON(s.Endpoint)
		out.Secret = s.Secret
		return enc.Encode(out)
	})
}

func appsRotateWebhookSecret(fs *flag.FlagSet) action {
	overlap := fs.Duration("overlap", 24*time.Hour, "how long the old secret keeps signing (0 to stop it at once, at most 168h)")
	return func(ctx context.Context, c *call, args []string) error {
		if len(args) != 1 {
			return misuse("give exactly one APP_ID")
		}
		return c.withWebhooks(ctx, func(hooks app.Commands, enc *json.Encoder) error {
			s, err := hooks.RotateWebhookSecret.Handle(ctx, command.RotateWebhookSecret{AppID: args[0], Overlap: *overlap})
			if err != nil {
				return err
			}
			out := toEndpointJSON(s.Endpoint)
			out.Secret = s.Secret
			return enc.Encode(out)
		})
	}
}

func appsRemoveWebhook(ctx context.Context, c *call, args []string) error {
	if len(args) != 1 {
		return misuse("give exactly one APP_ID")
	}
	return c.withWebhooks(ctx, func(hooks app.Commands, enc *json.Encoder) error {
		if err := hooks.RemoveWebhook.Handle(ctx, command.RemoveWebhook{AppID: args[0]}); err != nil {
			return err
		}
		return enc.Encode(map[string]string{"app_id": args[0], "webhook": "removed"})
	})
}
