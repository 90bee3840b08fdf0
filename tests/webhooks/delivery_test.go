package webhooks

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/redistest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// A stored memory reaches the application's webhook as a signed Standard
// Webhooks POST that the reference library verifies, identified by the
// event's id on the stream.
func TestWebhookSignedPostAfterCreate(t *testing.T) {
	t.Parallel()
	e := harness.NewWebhookEnv(t)
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.CreateApp("Hooked GPT")
	hook := harness.NewHookReceiver(t, nil)
	secret := e.SetWebhook(app.AppID, hook.Srv.URL+"/hooks")
	e.Start("serve")

	opID := e.AcceptCreate(app.APIKey, "The user prefers aisle seats")
	e.Eventually("the webhook arrives", func() bool { return len(hook.Requests()) == 1 })
	req := hook.Requests()[0]

	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(req.Body, req.Header); err != nil {
		t.Errorf("signature does not verify: %v (headers %v)", err, req.Header)
	}
	body := req.Decode(t)
	if body.Type != "custom_gpt.memory.created" || body.Data["app_id"] != app.AppID || body.Data["operation_id"] != opID {
		t.Errorf("body %s", req.Body)
	}
	if body.Timestamp.IsZero() || time.Since(body.Timestamp) > time.Minute {
		t.Errorf("timestamp %v", body.Timestamp)
	}
	if req.Header.Get("Content-Type") != "application/json" || req.Header.Get("User-Agent") == "" {
		t.Errorf("headers %v", req.Header)
	}

	// webhook-id is the event's id on its stream, so receivers can match both.
	rdb := redistest.Client(t)
	entries, err := rdb.XRange(context.Background(), e.Vars["CUSTOM_GPT_STREAM_PREFIX"]+".events.MemoryCreated", "-", "+").Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("MemoryCreated stream: %v, %v", entries, err)
	}
	if id := entries[0].Values["_watermill_message_uuid"]; req.Header.Get("webhook-id") != id {
		t.Errorf("webhook-id %q, event id %v", req.Header.Get("webhook-id"), id)
	}

	d := e.Deliveries(app.AppID)
	e.Eventually("the delivery is recorded as succeeded", func() bool {
		d = e.Deliveries(app.AppID)
		return len(d.Deliveries) == 1 && d.Deliveries[0].Status == "succeeded"
	})
	if got := d.Deliveries[0]; got.EventID != req.Header.Get("webhook-id") || len(got.AttemptLog) != 1 ||
		got.AttemptLog[0].HTTPStatus != http.StatusNoContent || got.NextAttemptAt != nil {
		t.Errorf("delivery %+v", got)
	}
}

// During a rotation's overlap both secrets sign; after it, only the new one.
func TestWebhookSecretRotation(t *testing.T) {
	t.Parallel()
	e := harness.NewWebhookEnv(t)
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.CreateApp("Rotating GPT")
	hook := harness.NewHookReceiver(t, nil)
	old := e.SetWebhook(app.AppID, hook.Srv.URL)
	out, err := e.RunCLI("apps", "rotate-webhook-secret", app.AppID, "--overlap", "24h")
	if err != nil {
		t.Fatal(err)
	}
	var rotated struct {
		Secret          string    `json:"secret"`
		PreviousExpires time.Time `json:"previous_secret_expires_at"`
	}
	if err := harness.DecodeJSON(out, &rotated); err != nil || rotated.Secret == "" || rotated.Secret == old ||
		time.Until(rotated.PreviousExpires) < 23*time.Hour {
		t.Fatalf("rotate printed %q: %v", out, err)
	}
	clock := harness.NewTestClock()
	e.Start("api")
	e.StartWorker(service.WithClock(clock.Now))

	e.AcceptCreate(app.APIKey, "first")
	e.Eventually("the first webhook arrives", func() bool { return len(hook.Requests()) == 1 })
	first := hook.Requests()[0]
	if n := len(strings.Fields(first.Header.Get("webhook-signature"))); n != 2 {
		t.Errorf("during the overlap: %d signatures, want 2", n)
	}
	for _, s := range []string{old, rotated.Secret} {
		wh, _ := standardwebhooks.NewWebhook(s)
		if err := wh.Verify(first.Body, first.Header); err != nil {
			t.Errorf("during the overlap a secret does not verify: %v", err)
		}
	}

	clock.Advance(25 * time.Hour)
	e.AcceptCreate(app.APIKey, "second")
	e.Eventually("the second webhook arrives", func() bool { return len(hook.Requests()) == 2 })
	second := hook.Requests()[1]
	if n := len(strings.Fields(second.Header.Get("webhook-signature"))); n != 1 {
		t.Errorf("after the overlap: %d signatures, want 1", n)
	}
	newWH, _ := standardwebhooks.NewWebhook(rotated.Secret)
	oldWH, _ := standardwebhooks.NewWebhook(old)
	// The test clock is a day ahead, so the receiver's freshness check is off.
	if err := newWH.VerifyIgnoringTimestamp(second.Body, second.Header); err != nil {
		t.Errorf("the new secret does not verify: %v", err)
	}
	if err := oldWH.VerifyIgnoringTimestamp(second.Body, second.Header); err == nil {
		t.Error("the old secret still verifies after the overlap")
	}
}

// A 500 is retried on schedule and the 200 that follows ends the delivery;
// every attempt is recorded, all under one webhook-id.
func TestWebhookRetriesUntilSuccess(t *testing.T) {
	t.Parallel()
	e := harness.NewWebhookEnv(t)
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.CreateApp("Flaky receiver GPT")
	hook := harness.NewHookReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	e.SetWebhook(app.AppID, hook.Srv.URL)
	clock := harness.NewTestClock()
	start := clock.Now()
	e.Start("api")
	e.StartWorker(service.WithClock(clock.Now))

	e.AcceptCreate(app.APIKey, "retry me")
	var d harness.DeliveriesOut
	e.Eventually("the first attempt is recorded", func() bool {
		d = e.Deliveries(app.AppID)
		return len(d.Deliveries) == 1 && d.Deliveries[0].Attempts == 1
	})
	got := d.Deliveries[0]
	if got.Status != "pending" || got.AttemptLog[0].HTTPStatus != 500 || got.AttemptLog[0].Error != "HTTP 500" || got.NextAttemptAt == nil {
		t.Fatalf("after the 500: %+v", got)
	}
	// The second attempt comes 5 s (±10%) later: not before.
	if wait := got.NextAttemptAt.Sub(got.AttemptLog[0].AttemptedAt); wait < 4*time.Second || wait > 6*time.Second {
		t.Errorf("next attempt %v after the first", wait)
	}
	if len(hook.Requests()) != 1 {
		t.Fatalf("retried before the clock moved: %d requests", len(hook.Requests()))
	}

	clock.Advance(10 * time.Second)
	e.Eventually("the retry succeeds", func() bool {
		d = e.Deliveries(app.AppID)
		return len(d.Deliveries) == 1 && d.Deliveries[0].Status == "succeeded"
	})
	got = d.Deliveries[0]
	if got.Attempts != 2 || len(got.AttemptLog) != 2 || got.AttemptLog[1].HTTPStatus != 200 || got.AttemptLog[1].Error != "" {
		t.Errorf("attempts %+v", got.AttemptLog)
	}
	if !got.AttemptLog[1].AttemptedAt.After(start.Add(10*time.Second - time.Millisecond)) {
		t.Errorf("second attempt at %v, clock moved to %v", got.AttemptLog[1].AttemptedAt, start.Add(10*time.Second))
	}
	reqs := hook.Requests()
	if len(reqs) != 2 || reqs[0].Header.Get("webhook-id") != reqs[1].Header.Get("webhook-id") ||
		harness.UnixHeader(reqs[1].Header)-harness.UnixHeader(reqs[0].Header) < 9 || string(reqs[0].Body) != string(reqs[1].Body) {
		t.Errorf("the retry is not the same message, re-signed at its own time: %d requests", len(reqs))
	}
}

// 410 Gone disables the endpoint: the delivery fails, later events are not
// queued, and a redelivery is refused until the webhook is registered again.
func TestWebhookGoneDisablesEndpoint(t *testing.T) {
	t.Parallel()
	e := harness.NewWebhookEnv(t)
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.CreateApp("Gone GPT")
	hook := harness.NewHookReceiver(t, harness.Status(http.StatusGone))
	e.SetWebhook(app.AppID, hook.Srv.URL)
	e.Start("serve")

	e.AcceptCreate(app.APIKey, "one")
	var d harness.DeliveriesOut
	e.Eventually("the endpoint is disabled", func() bool {
		d = e.Deliveries(app.AppID)
		return d.Endpoint != nil && d.Endpoint.Status == "disabled"
	})
	if !strings.Contains(d.Endpoint.DisabledReason, "410") || len(d.Deliveries) != 1 || d.Deliveries[0].Status != "failed" ||
		d.Deliveries[0].NextAttemptAt != nil {
		t.Fatalf("after a 410: %+v", d)
	}

	e.AcceptCreate(app.APIKey, "two")
	rdb := redistest.Client(t)
	e.Eventually("the second event is consumed", func() bool { return e.EventsConsumedForWebhooks(rdb, "MemoryCreated", 2) })
	if d := e.Deliveries(app.AppID); len(d.Deliveries) != 1 || len(hook.Requests()) != 1 {
		t.Errorf("a disabled endpoint got %d deliveries, %d requests", len(d.Deliveries), len(hook.Requests()))
	}
	if _, err := e.RunCLI("webhooks", "redeliver", d.Deliveries[0].DeliveryID); err == nil || !strings.Contains(err.Error(), "set-webhook") {
		t.Errorf("redelivery to a disabled endpoint: %v", err)
	}
}

// A Retry-After on a 503 pushes the next attempt past the schedule's.
func TestWebhookHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	e := harness.NewWebhookEnv(t)
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.CreateApp("Busy GPT")
	hook := harness.NewHookReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	e.SetWebhook(app.AppID, hook.Srv.URL)
	clock := harness.NewTestClock()
	e.Start("api")
	e.StartWorker(service.WithClock(clock.Now))

	e.AcceptCreate(app.APIKey, "later please")
	var d harness.DeliveriesOut
	e.Eventually("the first attempt is recorded", func() bool {
		d = e.Deliveries(app.AppID)
		return len(d.Deliveries) == 1 && d.Deliveries[0].Attempts == 1
	})
	got := d.Deliveries[0]
	if wait := got.NextAttemptAt.Sub(got.AttemptLog[0].AttemptedAt); wait < time.Hour || wait > 12*time.Hour {
		t.Fatalf("next attempt %v after a Retry-After of 1h", wait)
	}
	clock.Advance(time.Hour + time.Second)
	e.Eventually("the retry succeeds", func() bool {
		d = e.Deliveries(app.AppID)
		return len(d.Deliveries) == 1 && d.Deliveries[0].Status == "succeeded"
	})
}

// A redirect is a failed attempt; its Location is never fetched.
func TestWebhookRedirectIsAFailure(t *testing.T) {
	t.Parallel()
	e := harness.NewWebhookEnv(t)
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.CreateApp("Redirecting GPT")
	elsewhere := harness.NewHookReceiver(t, nil)
	hook := harness.NewHookReceiver(t, func(_ int, w http.ResponseWriter) {
		w.Header().Set("Location", elsewhere.Srv.URL+"/stolen")
		w.WriteHeader(http.StatusFound)
	})
	e.SetWebhook(app.AppID, hook.Srv.URL)
	e.Start("serve")

	e.AcceptCreate(app.APIKey, "go away")
	var d harness.DeliveriesOut
	e.Eventually("the attempt is recorded", func() bool {
		d = e.Deliveries(app.AppID)
		return len(d.Deliveries) == 1 && d.Deliveries[0].Attempts == 1
	})
	a := d.Deliveries[0].AttemptLog[0]
	if d.Deliveries[0].Status != "pending" || a.HTTPStatus != http.StatusFound || !strings.Contains(a.Error, "redirect") {
		t.Errorf("after a 302: %+v", d.Deliveries[0])
	}
	if n := len(elsewhere.Requests()); n != 0 {
		t.Errorf("the Location got %d requests", n)
	}
}

// `webhooks redeliver` sends a delivery again at once, under the same
// webhook-id, and prints the outcome; the manual attempt is in the log.
func TestWebhookRedeliverThroughTheCLI(t *testing.T) {
	t.Parallel()
	e := harness.NewWebhookEnv(t)
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.CreateApp("Redelivered GPT")
	hook := harness.NewHookReceiver(t, harness.Status(http.StatusInternalServerError))
	e.SetWebhook(app.AppID, hook.Srv.URL)
	e.Start("serve")

	e.AcceptCreate(app.APIKey, "again")
	var d harness.DeliveriesOut
	e.Eventually("the failed attempt is recorded", func() bool {
		d = e.Deliveries(app.AppID)
		return len(d.Deliveries) == 1 && d.Deliveries[0].Attempts == 1
	})
	hook.SetRespond(harness.Status(http.StatusOK))
	out, err := e.RunCLI("webhooks", "redeliver", d.Deliveries[0].DeliveryID)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Delivered bool               `json:"delivered"`
		Status    string             `json:"status"`
		Attempt   harness.AttemptOut `json:"attempt"`
	}
	if err := harness.DecodeJSON(out, &r); err != nil || !r.Delivered || r.Status != "succeeded" || !r.Attempt.Manual ||
		r.Attempt.Attempt != 2 || r.Attempt.HTTPStatus != 200 {
		t.Fatalf("redeliver printed %q: %v", out, err)
	}
	reqs := hook.Requests()
	if len(reqs) != 2 || reqs[0].Header.Get("webhook-id") != reqs[1].Header.Get("webhook-id") {
		t.Errorf("%d requests; the redelivery changed the webhook-id", len(reqs))
	}
	d = e.Deliveries(app.AppID)
	if got := d.Deliveries[0]; got.Status != "succeeded" || len(got.AttemptLog) != 2 || !got.AttemptLog[1].Manual {
		t.Errorf("after the redelivery: %+v", got)
	}
	if _, err := e.RunCLI("webhooks", "redeliver", "no-such-delivery"); err == nil {
		t.Error("redelivering an unknown delivery worked")
	}
}

// With private addresses forbidden, every loopback form is refused when
// connecting: the receiver gets nothing and each attempt is a recorded failure.
func TestWebhookRefusesLoopbackAtConnectionTime(t *testing.T) {
	t.Parallel()
	e := harness.NewWebhookEnv(t)
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatal(err)
	}
	hook := harness.NewHookReceiver(t, nil)
	port := hook.Srv.URL[strings.LastIndex(hook.Srv.URL, ":")+1:]
	urls := []string{
		"http://127.0.0.1:" + port + "/",
		"http://[::1]:" + port + "/",
		"http://localhost:" + port + "/",
		"http://[::ffff:127.0.0.1]:" + port + "/",
	}
	// Registered while private addresses were allowed, sent after they no
	// longer are: only the check at connection time stands in the way.
	var apps []harness.AppCreds
	for _, u := range urls {
		app := e.CreateApp("SSRF GPT")
		e.SetWebhook(app.AppID, u)
		apps = append(apps, app)
	}
	e.Vars["CUSTOM_GPT_WEBHOOK_ALLOW_PRIVATE"] = "false"
	if _, err := e.RunCLI("apps", "set-webhook", apps[0].AppID, urls[0]); err == nil || !strings.Contains(err.Error(), urls[0]) {
		t.Errorf("set-webhook of a loopback URL: %v, want an error naming it", err)
	}
	e.Start("serve")
	for _, app := range apps {
		e.AcceptCreate(app.APIKey, "reach inside")
	}
	for i, app := range apps {
		var d harness.DeliveriesOut
		e.Eventually("the refused attempt is recorded for "+urls[i], func() bool {
			d = e.Deliveries(app.AppID)
			return len(d.Deliveries) == 1 && d.Deliveries[0].Attempts == 1
		})
		a := d.Deliveries[0].AttemptLog[0]
		if a.HTTPStatus != 0 || !strings.Contains(a.Error, "refused to connect") || d.Deliveries[0].Status != "pending" {
			t.Errorf("%s: %+v", urls[i], d.Deliveries[0])
		}
	}
	if n := len(hook.Requests()); n != 0 {
		t.Errorf("the receiver got %d requests", n)
	}
}

// One application's events never reach another's endpoint.
func TestWebhookIsolationBetweenApps(t *testing.T) {
	t.Parallel()
	e := harness.NewWebhookEnv(t)
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatal(err)
	}
	a, b := e.CreateApp("App A"), e.CreateApp("App B")
	hookA, hookB := harness.NewHookReceiver(t, nil), harness.NewHookReceiver(t, nil)
	e.SetWebhook(a.AppID, hookA.Srv.URL)
	e.SetWebhook(b.AppID, hookB.Srv.URL)
	none := e.CreateApp("App without webhook")
	e.Start("serve")

	e.AcceptCreate(a.APIKey, "A's secret")
	e.AcceptCreate(a.APIKey, "A's other secret")
	e.AcceptCreate(b.APIKey, "B's secret")
	e.AcceptCreate(none.APIKey, "nobody listens")
	rdb := redistest.Client(t)
	e.Eventually("every event is consumed", func() bool { return e.EventsConsumedForWebhooks(rdb, "MemoryCreated", 4) })
	e.Eventually("the webhooks arrive", func() bool { return len(hookA.Requests()) == 2 && len(hookB.Requests()) == 1 })
	for _, r := range hookA.Requests() {
		if got := r.Decode(t).Data["app_id"]; got != a.AppID {
			t.Errorf("A's endpoint got an event of %v", got)
		}
	}
	if got := hookB.Requests()[0].Decode(t).Data["app_id"]; got != b.AppID {
		t.Errorf("B's endpoint got an event of %v", got)
	}
	if d := e.Deliveries(none.AppID); len(d.Deliveries) != 0 || d.Endpoint != nil {
		t.Errorf("an app without webhook has %+v", d)
	}
}

// The stream delivers at least once: the same event twice makes one delivery.
func TestWebhookDuplicateEventMakesOneDelivery(t *testing.T) {
	t.Parallel()
	e := harness.NewWebhookEnv(t)
	if _, err := e.RunCLI("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.CreateApp("Duplicated GPT")
	hook := harness.NewHookReceiver(t, nil)
	e.SetWebhook(app.AppID, hook.Srv.URL)
	e.StartWorker()

	rdb := redistest.Client(t)
	stream := e.Vars["CUSTOM_GPT_STREAM_PREFIX"] + ".events.MemoryCreated"
	payload := `{"version":1,"operation_id":"op-dup","app_id":"` + app.AppID + `","memory_ids":["m-1"],"request_id":"r-1","occurred_at":"2026-01-01T00:00:00Z"}`
	for range 2 {
		err := rdb.XAdd(context.Background(), &goredis.XAddArgs{Stream: stream, Values: map[string]any{
			"_watermill_message_uuid": "0193dupl-event", "payload": payload, "metadata": `{"name":"MemoryCreated"}`,
		}}).Err()
		if err != nil {
			t.Fatal(err)
		}
	}
	e.Eventually("both copies are consumed", func() bool { return e.EventsConsumedForWebhooks(rdb, "MemoryCreated", 2) })
	e.Eventually("the webhook arrives", func() bool { return len(hook.Requests()) >= 1 })
	d := e.Deliveries(app.AppID)
	if len(d.Deliveries) != 1 || d.Deliveries[0].EventID != "0193dupl-event" {
		t.Errorf("deliveries %+v", d.Deliveries)
	}
	if n := len(hook.Requests()); n != 1 {
		t.Errorf("the receiver got %d requests", n)
	}
}
