package postgres_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

func newWebhookFixture(t *testing.T) (*postgres.WebhookRepository, *webhook.Endpoint, time.Time) {
	t.Helper()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	_, hash := application.NewAPIKey()
	app, err := application.New("app-1", "Hooked", hash, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.NewApplicationRepository(pool).Add(ctx, app); err != nil {
		t.Fatal(err)
	}
	repo := postgres.NewWebhookRepository(pool, testKeyring)
	var e *webhook.Endpoint
	err = repo.SaveEndpoint(ctx, "app-1", func(cur *webhook.Endpoint) (*webhook.Endpoint, error) {
		if cur != nil {
			t.Fatal("an endpoint exists already")
		}
		e, err = webhook.NewEndpoint("ep-1", "app-1", "https://hooks.example.com/", webhook.NewSecret(), webhook.URLPolicy{}, now)
		return e, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return repo, e, now
}

func addDelivery(t *testing.T, repo *postgres.WebhookRepository, e *webhook.Endpoint, id, eventID string, now time.Time) bool {
	t.Helper()
	body, _ := webhook.Payload("custom_gpt.memory.created", now, json.RawMessage(`{"app_id":"app-1"}`))
	d, err := webhook.NewDelivery(id, e, eventID, "custom_gpt.memory.created", body, "", now)
	if err != nil {
		t.Fatal(err)
	}
	added, err := repo.AddDelivery(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return added
}

func TestWebhookRepositoryClaims(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo, e, now := newWebhookFixture(t)
	err := repo.SaveEndpoint(ctx, "no-such-app", func(*webhook.Endpoint) (*webhook.Endpoint, error) {
		return webhook.NewEndpoint("ep-2", "no-such-app", "https://h.example.com/", webhook.NewSecret(), webhook.URLPolicy{}, now)
	})
	if errs.KindOf(err) != errs.KindNotFound {
		t.Errorf("an endpoint for a missing application: %v, want not found", err)
	}

	if !addDelivery(t, repo, e, "d-1", "ev-1", now) || addDelivery(t, repo, e, "d-1b", "ev-1", now) {
		t.Fatal("the same event was queued twice, or not at all")
	}
	addDelivery(t, repo, e, "d-2", "ev-2", now)
	addDelivery(t, repo, e, "d-3", "ev-3", now.Add(time.Hour)) // not due yet

	// Concurrent dispatchers each claim a different due delivery.
	claims := make(chan *webhook.Claim, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			c, err := repo.ClaimDue(ctx, now, time.Minute)
			if err != nil {
				t.Error(err)
			}
			claims <- c
		})
	}
	wg.Wait()
	close(claims)
	seen := map[string]bool{}
	for c := range claims {
		if c == nil {
			continue
		}
		if seen[c.Delivery.ID()] {
			t.Errorf("%s claimed twice", c.Delivery.ID())
		}
		seen[c.Delivery.ID()] = true
		if c.Endpoint.URL() != e.URL() || c.Endpoint.Secret().Reveal() != e.Secret().Reveal() {
			t.Errorf("claim of %s came with endpoint %s", c.Delivery.ID(), c.Endpoint.URL())
		}
	}
	if len(seen) != 2 || !seen["d-1"] || !seen["d-2"] {
		t.Fatalf("claimed %v, want d-1 and d-2", seen)
	}

	// A claim whose lease passed is taken over; the first claimant can no
	// longer record.
	later := now.Add(2 * time.Minute)
	c1, err := repo.ClaimByID(ctx, "d-1", later, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.ClaimByID(ctx, "d-1", later, time.Minute); errs.KindOf(err) != errs.KindConflict {
		t.Errorf("a held delivery was claimed again: %v", err)
	}
	stale := &webhook.Claim{Delivery: c1.Delivery, Endpoint: c1.Endpoint, Token: "stale"}
	record := func(c *webhook.Claim, r webhook.Result) error {
		return repo.RecordAttempt(ctx, c, func(d *webhook.Delivery, e *webhook.Endpoint) (webhook.Attempt, error) {
			a, _ := d.Apply(e, e.URL(), r, false, webhook.DefaultRetryPolicy, later)
			return a, nil
		})
	}
	if err := record(stale, webhook.Result{StatusCode: 200}); errs.KindOf(err) != errs.KindConflict {
		t.Errorf("a lost claim recorded: %v", err)
	}
	if err := record(c1, webhook.Result{StatusCode: 500, Duration: 1500 * time.Microsecond}); err != nil {
		t.Fatal(err)
	}

	// A 410 disables the endpoint and fails its other pending deliveries.
	c2, err := repo.ClaimByID(ctx, "d-2", later, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := record(c2, webhook.Result{StatusCode: 410}); err != nil {
		t.Fatal(err)
	}
	got, err := repo.Endpoint(ctx, "app-1")
	if err != nil || got.Active() {
		t.Fatalf("after a 410 the endpoint is %v (%v)", got.Status(), err)
	}
	logs, err := repo.Deliveries(ctx, "app-1", 10)
	if err != nil || len(logs) != 3 {
		t.Fatalf("deliveries: %d, %v", len(logs), err)
	}
	for _, l := range logs {
		if l.Delivery.Status() != webhook.DeliveryFailed {
			t.Errorf("%s is %s after its endpoint was disabled", l.Delivery.ID(), l.Delivery.Status())
		}
		if l.Delivery.ID() == "d-1" && (len(l.Attempts) != 1 || l.Attempts[0].StatusCode != 500 || l.Attempts[0].Duration != 1500*time.Microsecond) {
			t.Errorf("d-1 attempts %+v", l.Attempts)
		}
	}
	if c, err := repo.ClaimDue(ctx, now.Add(48*time.Hour), time.Minute); c != nil || err != nil {
		t.Errorf("a disabled endpoint's delivery was claimed: %v, %v", c, err)
	}
	// A scheduler holding the endpoint as it was before (a cached copy,
	// still active) adds nothing to it.
	if addDelivery(t, repo, e, "d-late", "ev-late", now) {
		t.Error("a delivery was added to a disabled endpoint")
	}

	if err := repo.RemoveEndpoint(ctx, "app-1"); err != nil {
		t.Fatal(err)
	}
	if logs, _ := repo.Deliveries(ctx, "app-1", 10); len(logs) != 0 {
		t.Errorf("%d deliveries left after removal", len(logs))
	}
	if addDelivery(t, repo, e, "d-removed", "ev-removed", now) {
		t.Error("a delivery was added to a removed endpoint")
	}
	if err := repo.RemoveEndpoint(ctx, "app-1"); errs.KindOf(err) != errs.KindNotFound {
		t.Errorf("second removal: %v", err)
	}
}
