package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
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

// runAppWebhook handles `apps set-webhook | rotate-webhook-secret | remove-webhook`.
func runAppWebhook(ctx context.Context, svc *service.Service, args []string, stdout, stderr io.Writer) error {
	hooks := svc.App().Commands
	enc := json.NewEncoder(stdout)
	switch args[0] {
	case "set-webhook":
		if len(args) != 3 {
			return fmt.Errorf("apps set-webhook: give APP_ID and URL")
		}
		s, err := hooks.SetWebhook.Handle(ctx, command.SetWebhook{AppID: args[1], URL: args[2]})
		if err != nil {
			return err
		}
		out := toEndpointJSON(s.Endpoint)
		out.Secret = s.Secret
		return enc.Encode(out)
	case "rotate-webhook-secret":
		fs := flag.NewFlagSet("apps rotate-webhook-secret", flag.ContinueOnError)
		fs.SetOutput(stderr)
		overlap := fs.Duration("overlap", 24*time.Hour, "how long the old secret keeps signing (0 to stop it at once, at most 168h)")
		pos, err := parseInterspersed(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return fmt.Errorf("apps rotate-webhook-secret: give exactly one APP_ID")
		}
		s, err := hooks.RotateWebhookSecret.Handle(ctx, command.RotateWebhookSecret{AppID: pos[0], Overlap: *overlap})
		if err != nil {
			return err
		}
		out := toEndpointJSON(s.Endpoint)
		out.Secret = s.Secret
		return enc.Encode(out)
	case "remove-webhook":
		if len(args) != 2 {
			return fmt.Errorf("apps remove-webhook: give exactly one APP_ID")
		}
		if err := hooks.RemoveWebhook.Handle(ctx, command.RemoveWebhook{AppID: args[1]}); err != nil {
			return err
		}
		return enc.Encode(map[string]string{"app_id": args[1], "webhook": "removed"})
	}
	return errUsage
}

// parseInterspersed parses flags given before or after the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

type attemptJSON struct {
	Attempt     int       `json:"attempt"`
	Manual      bool      `json:"manual,omitempty"`
	AttemptedAt time.Time `json:"attempted_at"`
	DurationMS  float64   `json:"duration_ms"`
	HTTPStatus  int       `json:"http_status,omitempty"`
	Error       string    `json:"error,omitempty"`
}

type deliveryJSON struct {
	DeliveryID    string        `json:"delivery_id"`
	EventID       string        `json:"event_id"`
	EventType     string        `json:"event_type"`
	Status        string        `json:"status"`
	Attempts      int           `json:"attempts"`
	NextAttemptAt *time.Time    `json:"next_attempt_at,omitempty"`
	Failure       string        `json:"failure,omitempty"`
	CreatedAt     time.Time     `json:"created_at"`
	AttemptLog    []attemptJSON `json:"attempt_log"`
}

func toAttemptJSON(a webhook.Attempt) attemptJSON {
	return attemptJSON{Attempt: a.Number, Manual: a.Manual, AttemptedAt: a.AttemptedAt,
		DurationMS: float64(a.Duration.Microseconds()) / 1000, HTTPStatus: a.StatusCode, Error: a.Error}
}

func toDeliveryJSON(l webhook.DeliveryLog) deliveryJSON {
	d := l.Delivery
	out := deliveryJSON{DeliveryID: d.ID(), EventID: d.EventID(), EventType: d.EventType(), Status: string(d.Status()),
		Attempts: d.Attempts(), Failure: d.Failure(), CreatedAt: d.CreatedAt(), AttemptLog: []attemptJSON{}}
	if t := d.NextAttemptAt(); !t.IsZero() {
		out.NextAttemptAt = &t
	}
	for _, a := range l.Attempts {
		out.AttemptLog = append(out.AttemptLog, toAttemptJSON(a))
	}
	return out
}

// runWebhooks inspects and replays deliveries. Output is JSON on stdout.
func runWebhooks(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	return withService(ctx, getenv, stderr, func(svc *service.Service) error {
		enc := json.NewEncoder(stdout)
		switch args[0] {
		case "deliveries":
			fs := flag.NewFlagSet("webhooks deliveries", flag.ContinueOnError)
			fs.SetOutput(stderr)
			limit := fs.Int("limit", 50, "how many of the newest deliveries to show (1..500)")
			pos, err := parseInterspersed(fs, args[1:])
			if err != nil {
				return err
			}
			if len(pos) != 1 {
				return fmt.Errorf("webhooks deliveries: give exactly one APP_ID")
			}
			r, err := svc.App().Queries.WebhookDeliveries.Handle(ctx, query.WebhookDeliveries{AppID: pos[0], Limit: *limit})
			if err != nil {
				return err
			}
			out := struct {
				AppID      string         `json:"app_id"`
				Endpoint   *endpointJSON  `json:"endpoint"`
				Deliveries []deliveryJSON `json:"deliveries"`
			}{AppID: pos[0], Deliveries: []deliveryJSON{}}
			if r.Endpoint != nil {
				e := toEndpointJSON(r.Endpoint)
				out.Endpoint = &e
			}
			for _, l := range r.Deliveries {
				out.Deliveries = append(out.Deliveries, toDeliveryJSON(l))
			}
			return enc.Encode(out)
		case "redeliver":
			if len(args) != 2 {
				return fmt.Errorf("webhooks redeliver: give exactly one DELIVERY_ID")
			}
			d, err := svc.App().Commands.RedeliverWebhook.Handle(ctx, command.RedeliverWebhook{DeliveryID: args[1]})
			if err != nil {
				return err
			}
			return enc.Encode(struct {
				DeliveryID string      `json:"delivery_id"`
				Delivered  bool        `json:"delivered"`
				Status     string      `json:"status"`
				Attempt    attemptJSON `json:"attempt"`
			}{d.DeliveryID, d.Attempt.Error == "" && d.Outcome == webhook.OutcomeSucceeded, string(d.Status), toAttemptJSON(d.Attempt)})
		}
		return errUsage
	})
}
