package command_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

// fakeWebhooks keeps one application's endpoint and its deliveries; the
// claim methods are the Postgres adapter's business and are left out.
type fakeWebhooks struct {
	webhook.Repository
	endpoint   *webhook.Endpoint
	deliveries map[string]*webhook.Delivery // by event id
}

func (f *fakeWebhooks) Endpoint(_ context.Context, appID string) (*webhook.Endpoint, error) {
	if f.endpoint == nil || f.endpoint.AppID() != appID {
		return nil, errs.NotFound("webhook-not-found", "none")
	}
	return f.endpoint, nil
}

func (f *fakeWebhooks) SaveEndpoint(_ context.Context, appID string, fn func(*webhook.Endpoint) (*webhook.Endpoint, error)) error {
	cur := f.endpoint
	if cur != nil && cur.AppID() != appID {
		cur = nil
	}
	e, err := fn(cur)
	if err != nil {
		return err
	}
	f.endpoint = e
	return nil
}

func (f *fakeWebhooks) AddDelivery(_ context.Context, d *webhook.Delivery) (bool, error) {
	if _, ok := f.deliveries[d.EventID()]; ok {
		return false, nil
	}
	f.deliveries[d.EventID()] = d
	return true, nil
}

func webhookConfig() command.WebhookConfig {
	n := 0
	return command.WebhookConfig{
		Retry: webhook.DefaultRetryPolicy, Lease: time.Minute,
		Now:   func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
		NewID: func() string { n++; return "id-" + string(rune('0'+n)) },
	}
}

func TestWebhookSetRotateAndReplace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := &fakeWebhooks{deliveries: map[string]*webhook.Delivery{}}
	set := command.NewSetWebhookHandler(repo, webhookConfig(), nil, nil)
	rotate := command.NewRotateWebhookSecretHandler(repo, webhookConfig(), nil, nil)

	if _, err := set.Handle(ctx, command.SetWebhook{AppID: "a", URL: "http://10.0.0.1/"}); errs.KindOf(err) != errs.KindInvalid || repo.endpoint != nil {
		t.Fatalf("a private URL: %v, endpoint %v", err, repo.endpoint)
	}
	first, err := set.Handle(ctx, command.SetWebhook{AppID: "a", URL: "https://hooks.example.com/"})
	if err != nil || !strings.HasPrefix(first.Secret, "whsec_") {
		t.Fatalf("set: %+v, %v", first, err)
	}
	rotated, err := rotate.Handle(ctx, command.RotateWebhookSecret{AppID: "a", Overlap: time.Hour})
	if err != nil || rotated.Secret == first.Secret || rotated.Endpoint.PreviousSecret().Reveal() != first.Secret {
		t.Fatalf("rotate: %v", err)
	}
	if _, err := rotate.Handle(ctx, command.RotateWebhookSecret{AppID: "b", Overlap: time.Hour}); errs.KindOf(err) != errs.KindNotFound {
		t.Errorf("rotating an app without webhook: %v", err)
	}
	repo.endpoint.Disable("gone", time.Now())
	again, err := set.Handle(ctx, command.SetWebhook{AppID: "a", URL: "https://other.example.com/"})
	if err != nil || !again.Endpoint.Active() || again.Endpoint.ID() != first.Endpoint.ID() ||
		!again.Endpoint.PreviousSecret().IsZero() || again.Endpoint.URL() != "https://other.example.com/" {
		t.Fatalf("set again: %+v, %v", again.Endpoint, err)
	}
}

func TestScheduleWebhook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := &fakeWebhooks{deliveries: map[string]*webhook.Delivery{}}
	cfg := webhookConfig()
	h := command.NewScheduleWebhookHandler(repo, cfg, nil, nil)
	ev := command.ScheduleWebhook{EventID: "ev-1", EventName: "MemoryCreated", AppID: "a",
		OccurredAt: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), Data: json.RawMessage(`{"app_id":"a"}`)}

	if err := h.Handle(ctx, ev); err != nil || len(repo.deliveries) != 0 {
		t.Fatalf("without a webhook: %v, %d deliveries", err, len(repo.deliveries))
	}
	if _, err := command.NewSetWebhookHandler(repo, cfg, nil, nil).Handle(ctx, command.SetWebhook{AppID: "a", URL: "https://hooks.example.com/"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := h.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	d := repo.deliveries["ev-1"]
	if len(repo.deliveries) != 1 || d == nil || d.EventType() != "custom_gpt.memory.created" || !d.NextAttemptAt().Equal(cfg.Now()) {
		t.Fatalf("deliveries %v", repo.deliveries)
	}
	want := `{"type":"custom_gpt.memory.created","timestamp":"2025-12-31T00:00:00Z","data":{"app_id":"a"}}`
	if string(d.Body()) != want {
		t.Errorf("body %s", d.Body())
	}
	if err := h.Handle(ctx, command.ScheduleWebhook{EventID: "ev-2", EventName: "MemoryCreated", AppID: "other", Data: ev.Data}); err != nil || len(repo.deliveries) != 1 {
		t.Errorf("another app's event: %v, %d deliveries", err, len(repo.deliveries))
	}
	if err := h.Handle(ctx, command.ScheduleWebhook{EventID: "ev-3", EventName: "Nonsense", AppID: "a", Data: ev.Data}); err == nil {
		t.Error("an event without CloudEvent type was scheduled")
	}
	repo.endpoint.Disable("gone", time.Now())
	if err := h.Handle(ctx, command.ScheduleWebhook{EventID: "ev-4", EventName: "MemoryDeleted", AppID: "a", Data: ev.Data}); err != nil || len(repo.deliveries) != 1 {
		t.Errorf("a disabled endpoint: %v, %d deliveries", err, len(repo.deliveries))
	}
}
