package webhooks

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// apps remove-webhook forgets the application's deliveries, the one still
// waiting for a retry included, and nothing more is sent to the endpoint:
// not that retry, not the webhooks of later events. Another application's
// webhook, failing the same way, shows when the retry would have come.
func TestRemoveWebhookForgetsDeliveriesAndSendsNoMore(t *testing.T) {
	t.Parallel()
	e := harness.NewWebhookEnv(t)
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatal(err)
	}
	app, control := e.CreateApp("Unhooked GPT"), e.CreateApp("Still hooked GPT")
	// The first request succeeds, every later one fails and waits for a retry.
	failAfterFirst := func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	}
	hook, controlHook := harness.NewHookReceiver(t, failAfterFirst), harness.NewHookReceiver(t, harness.Status(http.StatusInternalServerError))
	e.SetWebhook(app.AppID, hook.Srv.URL)
	e.SetWebhook(control.AppID, controlHook.Srv.URL)
	clock := harness.NewTestClock()
	e.Start("api")
	e.StartWorker(service.WithClock(clock.Now))

	e.Succeeded(app.APIKey, e.AcceptCreate(app.APIKey, "delivered"))
	e.Succeeded(app.APIKey, e.AcceptCreate(app.APIKey, "failed once, waiting for a retry"))
	e.Succeeded(control.APIKey, e.AcceptCreate(control.APIKey, "failed once, retried"))
	e.Eventually("one delivery succeeded and two wait for a retry", func() bool {
		d, c := e.Deliveries(app.AppID), e.Deliveries(control.AppID)
		return deliveryStatuses(d) == "pending,succeeded" && deliveryStatuses(c) == "pending" && len(hook.Requests()) == 2
	})

	out, err := e.RunCLI("apps", "remove-webhook", app.AppID)
	if err != nil || !strings.Contains(out, `"webhook":"removed"`) {
		t.Fatalf("apps remove-webhook: %q %v", out, err)
	}
	if d := e.Deliveries(app.AppID); d.Endpoint != nil || len(d.Deliveries) != 0 {
		t.Fatalf("after remove-webhook: %+v", d)
	}
	var rows int
	if err := e.Pool().QueryRow(context.Background(), `SELECT count(*) FROM custom_gpt_webhook_deliveries WHERE app_id = $1`, app.AppID).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("%d deliveries of the app are kept (%v)", rows, err)
	}

	// An event after the removal is consumed for webhooks and makes none.
	e.Succeeded(app.APIKey, e.AcceptCreate(app.APIKey, "after the removal"))
	rdb := redistest.Client(t)
	e.Eventually("every event is consumed for webhooks", func() bool { return e.EventsConsumedForWebhooks(rdb, "MemoryCreated", 4) })
	// The retries fall due: the control's is sent, the forgotten one is not.
	clock.Advance(10 * time.Second)
	e.Eventually("the control's delivery is retried", func() bool { return len(controlHook.Requests()) == 2 })
	if d := e.Deliveries(app.AppID); d.Endpoint != nil || len(d.Deliveries) != 0 {
		t.Fatalf("after an event and a retry's time: %+v", d)
	}
	if n := len(hook.Requests()); n != 2 {
		t.Fatalf("the removed endpoint received %d requests, want the 2 sent before the removal", n)
	}

	_, err = e.RunCLI("apps", "remove-webhook", app.AppID)
	if err == nil || !strings.Contains(err.Error(), "webhook-not-found") {
		t.Fatalf("removing it again: %v, want webhook-not-found", err)
	}
}

// deliveryStatuses lists the statuses of d's deliveries, sorted, comma-separated.
func deliveryStatuses(d harness.DeliveriesOut) string {
	var s []string
	for _, x := range d.Deliveries {
		s = append(s, x.Status)
	}
	slices.Sort(s)
	return strings.Join(s, ",")
}
