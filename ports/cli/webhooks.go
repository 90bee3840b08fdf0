package cli

import (
	"context"
	"encoding/json"
	"flag"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

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

// webhooksCommand inspects and replays deliveries. Output is JSON on stdout.
func webhooksCommand() *node {
	return group("webhooks", "inspect and replay webhook deliveries; output is JSON on stdout",
		leaf("deliveries", "APP_ID [--limit 50]", "newest deliveries with every attempt", webhooksDeliveries),
		leaf("redeliver", "DELIVERY_ID", "send a delivery again now and print the outcome", noFlags(webhooksRedeliver)),
	)
}

func webhooksDeliveries(fs *flag.FlagSet) action {
	limit := fs.Int("limit", 50, "how many of the newest deliveries to show (1..500)")
	return func(ctx context.Context, c *call, args []string) error {
		if len(args) != 1 {
			return misuse("give exactly one APP_ID")
		}
		return c.connect(ctx, func(rt Runtime) error {
			r, err := rt.App().Queries.WebhookDeliveries.Handle(ctx, query.WebhookDeliveries{AppID: args[0], Limit: *limit})
			if err != nil {
				return err
			}
			out := struct {
				AppID      string         `json:"app_id"`
				Endpoint   *endpointJSON  `json:"endpoint"`
				Deliveries []deliveryJSON `json:"deliveries"`
			}{AppID: args[0], Deliveries: []deliveryJSON{}}
			if r.Endpoint != nil {
				e := toEndpointJSON(r.Endpoint)
				out.Endpoint = &e
			}
			for _, l := range r.Deliveries {
				out.Deliveries = append(out.Deliveries, toDeliveryJSON(l))
			}
			return json.NewEncoder(c.env.Stdout).Encode(out)
		})
	}
}

func webhooksRedeliver(ctx context.Context, c *call, args []string) error {
	if len(args) != 1 {
		return misuse("give exactly one DELIVERY_ID")
	}
	return c.connect(ctx, func(rt Runtime) error {
		d, err := rt.App().Commands.RedeliverWebhook.Handle(ctx, command.RedeliverWebhook{DeliveryID: args[0]})
		if err != nil {
			return err
		}
		return json.NewEncoder(c.env.Stdout).Encode(struct {
			DeliveryID string      `json:"delivery_id"`
			Delivered  bool        `json:"delivered"`
			Status     string      `json:"status"`
			Attempt    attemptJSON `json:"attempt"`
		}{d.DeliveryID, d.Attempt.Error == "" && d.Outcome == webhook.OutcomeSucceeded, string(d.Status), toAttemptJSON(d.Attempt)})
	})
}
