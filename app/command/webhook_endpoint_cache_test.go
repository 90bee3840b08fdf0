package command_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

// countedWebhooks counts the endpoint lookups that reach the store, and
// fails them while down is set.
type countedWebhooks struct {
	*fakeWebhooks
	lookups int
	down    error
}

func (c *countedWebhooks) Endpoint(ctx context.Context, appID string) (*webhook.Endpoint, error) {
	c.lookups++
	if c.down != nil {
		return nil, c.down
	}
	return c.fakeWebhooks.Endpoint(ctx, appID)
}

// TestScheduleWebhookLooksUpEachEndpointOncePerTTL: a burst of completion
// events costs one lookup of the application's webhook, or of its absence,
// per ttl; a webhook set elsewhere reaches the events once ttl has passed,
// one set through the cache at once.
func TestScheduleWebhookLooksUpEachEndpointOncePerTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := &countedWebhooks{fakeWebhooks: &fakeWebhooks{deliveries: map[string]*webhook.Delivery{}}}
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cached := command.CacheEndpoints(repo, time.Second, func() time.Time { return clock })
	cfg := webhookConfig()
	h := command.NewScheduleWebhookHandler(cached, cfg, nil, nil)
	event := func(i int) command.ScheduleWebhook {
		return command.ScheduleWebhook{EventID: fmt.Sprintf("ev-%d", i), EventName: "MemoryCreated", AppID: "a",
			OccurredAt: clock, Data: json.RawMessage(`{"app_id":"a"}`)}
	}
	for i := range 5 {
		if err := h.Handle(ctx, event(i)); err != nil {
			t.Fatal(err)
		}
	}
	if repo.lookups != 1 || len(repo.deliveries) != 0 {
		t.Fatalf("5 events of an application without a webhook: %d lookups, %d deliveries; want 1, 0", repo.lookups, len(repo.deliveries))
	}

	// Set by another process (the API): not seen until the entry expires.
	if _, err := command.NewSetWebhookHandler(repo.fakeWebhooks, cfg, nil, nil).Handle(ctx, command.SetWebhook{AppID: "a", URL: "https://hooks.example.com/"}); err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(ctx, event(5)); err != nil || len(repo.deliveries) != 0 {
		t.Fatalf("within ttl of the look: %v, %d deliveries; want none yet", err, len(repo.deliveries))
	}
	clock = clock.Add(time.Second)
	for i := 6; i < 10; i++ {
		if err := h.Handle(ctx, event(i)); err != nil {
			t.Fatal(err)
		}
	}
	if repo.lookups != 2 || len(repo.deliveries) != 4 {
		t.Fatalf("after ttl: %d lookups, %d deliveries; want 2, 4", repo.lookups, len(repo.deliveries))
	}

	// Changed through the cache: seen by the next event.
	if err := cached.SaveEndpoint(ctx, "a", func(e *webhook.Endpoint) (*webhook.Endpoint, error) {
		e.Disable("test", clock)
		return e, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(ctx, event(10)); err != nil || repo.lookups != 3 || len(repo.deliveries) != 4 {
		t.Fatalf("after a change through the cache: %v, %d lookups, %d deliveries; want 3, 4", err, repo.lookups, len(repo.deliveries))
	}
}

// TestEndpointCacheKeepsNoFailure: a lookup that failed for another reason
// than absence is asked again next time, and ttl 0 is no cache.
func TestEndpointCacheKeepsNoFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := &countedWebhooks{fakeWebhooks: &fakeWebhooks{deliveries: map[string]*webhook.Delivery{}}, down: errors.New("connection refused")}
	now := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	cached := command.CacheEndpoints(repo, time.Second, now)
	for range 2 {
		if _, err := cached.Endpoint(ctx, "a"); err == nil {
			t.Fatal("a failed lookup answered without error")
		}
	}
	if repo.lookups != 2 {
		t.Errorf("2 failed lookups reached the store %d times, want 2", repo.lookups)
	}
	if got := command.CacheEndpoints(repo, 0, now); got != webhook.Repository(repo) {
		t.Errorf("ttl 0 wrapped the repository: %T", got)
	}
}
