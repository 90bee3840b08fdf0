package main

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
)

// A stored memory reaches the application's webhook as a signed Standard
// Webhooks POST that the reference library verifies, identified by the
// event's id on the stream.
func TestWebhookSignedPostAfterCreate(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t)
	if _, err := e.cli("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.createApp("Hooked GPT")
	hook := newHookReceiver(t, nil)
	secret := e.setWebhook(app.AppID, hook.srv.URL+"/hooks")
	e.start("serve")

	opID := e.acceptCreate(app.APIKey, "The user prefers aisle seats")
	e.eventually("the webhook arrives", func() bool { return len(hook.requests()) == 1 })
	req := hook.requests()[0]

	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(req.body, req.header); err != nil {
		t.Errorf("signature does not verify: %v (headers %v)", err, req.header)
	}
	body := req.decode(t)
	if body.Type != "custom_gpt.memory.created" || body.Data["app_id"] != app.AppID || body.Data["operation_id"] != opID {
		t.Errorf("body %s", req.body)
	}
	if body.Timestamp.IsZero() || time.Since(body.Timestamp) > time.Minute {
		t.Errorf("timestamp %v", body.Timestamp)
	}
	if req.header.Get("Content-Type") != "application/json" || req.header.Get("User-Agent") == "" {
		t.Errorf("headers %v", req.header)
	}

	// webhook-id is the event's id on its stream, so receivers can match both.
	rdb := redistest.Client(t)
	entries, err := rdb.XRange(context.Background(), e.vars["CUSTOM_GPT_STREAM_PREFIX"]+".events.MemoryCreated", "-", "+").Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("MemoryCreated stream: %v, %v", entries, err)
	}
	if id := entries[0].Values["_watermill_message_uuid"]; req.header.Get("webhook-id") != id {
		t.Errorf("webhook-id %q, event id %v", req.header.Get("webhook-id"), id)
	}

	d := e.deliveries(app.AppID)
	e.eventually("the delivery is recorded as succeeded", func() bool {
		d = e.deliveries(app.AppID)
		return len(d.Deliveries) == 1 && d.Deliveries[0].Status == "succeeded"
	})
	if got := d.Deliveries[0]; got.EventID != req.header.Get("webhook-id") || len(got.AttemptLog) != 1 ||
		got.AttemptLog[0].HTTPStatus != http.StatusNoContent || got.NextAttemptAt != nil {
		t.Errorf("delivery %+v", got)
	}
}

// During a rotation's overlap both secrets sign; after it, only the new one.
func TestWebhookSecretRotation(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t)
	if _, err := e.cli("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.createApp("Rotating GPT")
	hook := newHookReceiver(t, nil)
	old := e.setWebhook(app.AppID, hook.srv.URL)
	out, err := e.cli("apps", "rotate-webhook-secret", app.AppID, "--overlap", "24h")
	if err != nil {
		t.Fatal(err)
	}
	var rotated struct {
		Secret          string    `json:"secret"`
		PreviousExpires time.Time `json:"previous_secret_expires_at"`
	}
	if err := jsonUnmarshal(out, &rotated); err != nil || rotated.Secret == "" || rotated.Secret == old ||
		time.Until(rotated.PreviousExpires) < 23*time.Hour {
		t.Fatalf("rotate printed %q: %v", out, err)
	}
	clock := newTestClock()
	e.start("api")
	e.startWorker(service.WithClock(clock.Now))

	e.acceptCreate(app.APIKey, "first")
	e.eventually("the first webhook arrives", func() bool { return len(hook.requests()) == 1 })
	first := hook.requests()[0]
	if n := len(strings.Fields(first.header.Get("webhook-signature"))); n != 2 {
		t.Errorf("during the overlap: %d signatures, want 2", n)
	}
	for _, s := range []string{old, rotated.Secret} {
		wh, _ := standardwebhooks.NewWebhook(s)
		if err := wh.Verify(first.body, first.header); err != nil {
			t.Errorf("during the overlap a secret does not verify: %v", err)
		}
	}

	clock.Advance(25 * time.Hour)
	e.acceptCreate(app.APIKey, "second")
	e.eventually("the second webhook arrives", func() bool { return len(hook.requests()) == 2 })
	second := hook.requests()[1]
	if n := len(strings.Fields(second.header.Get("webhook-signature"))); n != 1 {
		t.Errorf("after the overlap: %d signatures, want 1", n)
	}
	newWH, _ := standardwebhooks.NewWebhook(rotated.Secret)
	oldWH, _ := standardwebhooks.NewWebhook(old)
	// The test clock is a day ahead, so the receiver's freshness check is off.
	if err := newWH.VerifyIgnoringTimestamp(second.body, second.header); err != nil {
		t.Errorf("the new secret does not verify: %v", err)
	}
	if err := oldWH.VerifyIgnoringTimestamp(second.body, second.header); err == nil {
		t.Error("the old secret still verifies after the overlap")
	}
}

// A 500 is retried on schedule and the 200 that follows ends the delivery;
// every attempt is recorded, all under one webhook-id.
func TestWebhookRetriesUntilSuccess(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t)
	if _, err := e.cli("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.createApp("Flaky receiver GPT")
	hook := newHookReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	e.setWebhook(app.AppID, hook.srv.URL)
	clock := newTestClock()
	start := clock.Now()
	e.start("api")
	e.startWorker(service.WithClock(clock.Now))

	e.acceptCreate(app.APIKey, "retry me")
	var d deliveriesOut
	e.eventually("the first attempt is recorded", func() bool {
		d = e.deliveries(app.AppID)
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
	if len(hook.requests()) != 1 {
		t.Fatalf("retried before the clock moved: %d requests", len(hook.requests()))
	}

	clock.Advance(10 * time.Second)
	e.eventually("the retry succeeds", func() bool {
		d = e.deliveries(app.AppID)
		return len(d.Deliveries) == 1 && d.Deliveries[0].Status == "succeeded"
	})
	got = d.Deliveries[0]
	if got.Attempts != 2 || len(got.AttemptLog) != 2 || got.AttemptLog[1].HTTPStatus != 200 || got.AttemptLog[1].Error != "" {
		t.Errorf("attempts %+v", got.AttemptLog)
	}
	if !got.AttemptLog[1].AttemptedAt.After(start.Add(10*time.Second - time.Millisecond)) {
		t.Errorf("second attempt at %v, clock moved to %v", got.AttemptLog[1].AttemptedAt, start.Add(10*time.Second))
	}
	reqs := hook.requests()
	if len(reqs) != 2 || reqs[0].header.Get("webhook-id") != reqs[1].header.Get("webhook-id") ||
		unixHeader(reqs[1].header)-unixHeader(reqs[0].header) < 9 || string(reqs[0].body) != string(reqs[1].body) {
		t.Errorf("the retry is not the same message, re-signed at its own time: %d requests", len(reqs))
	}
}

// 410 Gone disables the endpoint: the delivery fails, later events are not
// queued, and a redelivery is refused until the webhook is registered again.
func TestWebhookGoneDisablesEndpoint(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t)
	if _, err := e.cli("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.createApp("Gone GPT")
	hook := newHookReceiver(t, status(http.StatusGone))
	e.setWebhook(app.AppID, hook.srv.URL)
	e.start("serve")

	e.acceptCreate(app.APIKey, "one")
	var d deliveriesOut
	e.eventually("the endpoint is disabled", func() bool {
		d = e.deliveries(app.AppID)
		return d.Endpoint != nil && d.Endpoint.Status == "disabled"
	})
	if !strings.Contains(d.Endpoint.DisabledReason, "410") || len(d.Deliveries) != 1 || d.Deliveries[0].Status != "failed" ||
		d.Deliveries[0].NextAttemptAt != nil {
		t.Fatalf("after a 410: %+v", d)
	}

	e.acceptCreate(app.APIKey, "two")
	rdb := redistest.Client(t)
	e.eventually("the second event is consumed", func() bool { return e.eventsConsumedForWebhooks(rdb, "MemoryCreated", 2) })
	if d := e.deliveries(app.AppID); len(d.Deliveries) != 1 || len(hook.requests()) != 1 {
		t.Errorf("a disabled endpoint got %d deliveries, %d requests", len(d.Deliveries), len(hook.requests()))
	}
	if _, err := e.cli("webhooks", "redeliver", d.Deliveries[0].DeliveryID); err == nil || !strings.Contains(err.Error(), "set-webhook") {
		t.Errorf("redelivery to a disabled endpoint: %v", err)
	}
}

// A Retry-After on a 503 pushes the next attempt past the schedule's.
func TestWebhookHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t)
	if _, err := e.cli("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.createApp("Busy GPT")
	hook := newHookReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	e.setWebhook(app.AppID, hook.srv.URL)
	clock := newTestClock()
	e.start("api")
	e.startWorker(service.WithClock(clock.Now))

	e.acceptCreate(app.APIKey, "later please")
	var d deliveriesOut
	e.eventually("the first attempt is recorded", func() bool {
		d = e.deliveries(app.AppID)
		return len(d.Deliveries) == 1 && d.Deliveries[0].Attempts == 1
	})
	got := d.Deliveries[0]
	if wait := got.NextAttemptAt.Sub(got.AttemptLog[0].AttemptedAt); wait < time.Hour || wait > 12*time.Hour {
		t.Fatalf("next attempt %v after a Retry-After of 1h", wait)
	}
	clock.Advance(time.Hour + time.Second)
	e.eventually("the retry succeeds", func() bool {
		d = e.deliveries(app.AppID)
		return len(d.Deliveries) == 1 && d.Deliveries[0].Status == "succeeded"
	})
}

// A redirect is a failed attempt; its Location is never fetched.
func TestWebhookRedirectIsAFailure(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t)
	if _, err := e.cli("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.createApp("Redirecting GPT")
	elsewhere := newHookReceiver(t, nil)
	hook := newHookReceiver(t, func(_ int, w http.ResponseWriter) {
		w.Header().Set("Location", elsewhere.srv.URL+"/stolen")
		w.WriteHeader(http.StatusFound)
	})
	e.setWebhook(app.AppID, hook.srv.URL)
	e.start("serve")

	e.acceptCreate(app.APIKey, "go away")
	var d deliveriesOut
	e.eventually("the attempt is recorded", func() bool {
		d = e.deliveries(app.AppID)
		return len(d.Deliveries) == 1 && d.Deliveries[0].Attempts == 1
	})
	a := d.Deliveries[0].AttemptLog[0]
	if d.Deliveries[0].Status != "pending" || a.HTTPStatus != http.StatusFound || !strings.Contains(a.Error, "redirect") {
		t.Errorf("after a 302: %+v", d.Deliveries[0])
	}
	if n := len(elsewhere.requests()); n != 0 {
		t.Errorf("the Location got %d requests", n)
	}
}

// `webhooks redeliver` sends a delivery again at once, under the same
// webhook-id, and prints the outcome; the manual attempt is in the log.
func TestWebhookRedeliverThroughTheCLI(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t)
	if _, err := e.cli("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.createApp("Redelivered GPT")
	hook := newHookReceiver(t, status(http.StatusInternalServerError))
	e.setWebhook(app.AppID, hook.srv.URL)
	e.start("serve")

	e.acceptCreate(app.APIKey, "again")
	var d deliveriesOut
	e.eventually("the failed attempt is recorded", func() bool {
		d = e.deliveries(app.AppID)
		return len(d.Deliveries) == 1 && d.Deliveries[0].Attempts == 1
	})
	hook.setRespond(status(http.StatusOK))
	out, err := e.cli("webhooks", "redeliver", d.Deliveries[0].DeliveryID)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Delivered bool       `json:"delivered"`
		Status    string     `json:"status"`
		Attempt   attemptOut `json:"attempt"`
	}
	if err := jsonUnmarshal(out, &r); err != nil || !r.Delivered || r.Status != "succeeded" || !r.Attempt.Manual ||
		r.Attempt.Attempt != 2 || r.Attempt.HTTPStatus != 200 {
		t.Fatalf("redeliver printed %q: %v", out, err)
	}
	reqs := hook.requests()
	if len(reqs) != 2 || reqs[0].header.Get("webhook-id") != reqs[1].header.Get("webhook-id") {
		t.Errorf("%d requests; the redelivery changed the webhook-id", len(reqs))
	}
	d = e.deliveries(app.AppID)
	if got := d.Deliveries[0]; got.Status != "succeeded" || len(got.AttemptLog) != 2 || !got.AttemptLog[1].Manual {
		t.Errorf("after the redelivery: %+v", got)
	}
	if _, err := e.cli("webhooks", "redeliver", "no-such-delivery"); err == nil {
		t.Error("redelivering an unknown delivery worked")
	}
}

// With private addresses forbidden, every loopback form is refused when
// connecting: the receiver gets nothing and each attempt is a recorded failure.
func TestWebhookRefusesLoopbackAtConnectionTime(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t)
	if _, err := e.cli("migrate"); err != nil {
		t.Fatal(err)
	}
	hook := newHookReceiver(t, nil)
	port := hook.srv.URL[strings.LastIndex(hook.srv.URL, ":")+1:]
	urls := []string{
		"http://127.0.0.1:" + port + "/",
		"http://[::1]:" + port + "/",
		"http://localhost:" + port + "/",
		"http://[::ffff:127.0.0.1]:" + port + "/",
	}
	// Registered while private addresses were allowed, sent after they no
	// longer are: only the check at connection time stands in the way.
	var apps []appCreds
	for _, u := range urls {
		app := e.createApp("SSRF GPT")
		e.setWebhook(app.AppID, u)
		apps = append(apps, app)
	}
	e.vars["CUSTOM_GPT_WEBHOOK_ALLOW_PRIVATE"] = "false"
	if _, err := e.cli("apps", "set-webhook", apps[0].AppID, urls[0]); err == nil || !strings.Contains(err.Error(), urls[0]) {
		t.Errorf("set-webhook of a loopback URL: %v, want an error naming it", err)
	}
	e.start("serve")
	for _, app := range apps {
		e.acceptCreate(app.APIKey, "reach inside")
	}
	for i, app := range apps {
		var d deliveriesOut
		e.eventually("the refused attempt is recorded for "+urls[i], func() bool {
			d = e.deliveries(app.AppID)
			return len(d.Deliveries) == 1 && d.Deliveries[0].Attempts == 1
		})
		a := d.Deliveries[0].AttemptLog[0]
		if a.HTTPStatus != 0 || !strings.Contains(a.Error, "refused to connect") || d.Deliveries[0].Status != "pending" {
			t.Errorf("%s: %+v", urls[i], d.Deliveries[0])
		}
	}
	if n := len(hook.requests()); n != 0 {
		t.Errorf("the receiver got %d requests", n)
	}
}

// One application's events never reach another's endpoint.
func TestWebhookIsolationBetweenApps(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t)
	if _, err := e.cli("migrate"); err != nil {
		t.Fatal(err)
	}
	a, b := e.createApp("App A"), e.createApp("App B")
	hookA, hookB := newHookReceiver(t, nil), newHookReceiver(t, nil)
	e.setWebhook(a.AppID, hookA.srv.URL)
	e.setWebhook(b.AppID, hookB.srv.URL)
	none := e.createApp("App without webhook")
	e.start("serve")

	e.acceptCreate(a.APIKey, "A's secret")
	e.acceptCreate(a.APIKey, "A's other secret")
	e.acceptCreate(b.APIKey, "B's secret")
	e.acceptCreate(none.APIKey, "nobody listens")
	rdb := redistest.Client(t)
	e.eventually("every event is consumed", func() bool { return e.eventsConsumedForWebhooks(rdb, "MemoryCreated", 4) })
	e.eventually("the webhooks arrive", func() bool { return len(hookA.requests()) == 2 && len(hookB.requests()) == 1 })
	for _, r := range hookA.requests() {
		if got := r.decode(t).Data["app_id"]; got != a.AppID {
			t.Errorf("A's endpoint got an event of %v", got)
		}
	}
	if got := hookB.requests()[0].decode(t).Data["app_id"]; got != b.AppID {
		t.Errorf("B's endpoint got an event of %v", got)
	}
	if d := e.deliveries(none.AppID); len(d.Deliveries) != 0 || d.Endpoint != nil {
		t.Errorf("an app without webhook has %+v", d)
	}
}

// The stream delivers at least once: the same event twice makes one delivery.
func TestWebhookDuplicateEventMakesOneDelivery(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t)
	if _, err := e.cli("migrate"); err != nil {
		t.Fatal(err)
	}
	app := e.createApp("Duplicated GPT")
	hook := newHookReceiver(t, nil)
	e.setWebhook(app.AppID, hook.srv.URL)
	e.startWorker()

	rdb := redistest.Client(t)
	stream := e.vars["CUSTOM_GPT_STREAM_PREFIX"] + ".events.MemoryCreated"
	payload := `{"version":1,"operation_id":"op-dup","app_id":"` + app.AppID + `","memory_ids":["m-1"],"request_id":"r-1","occurred_at":"2026-01-01T00:00:00Z"}`
	for range 2 {
		err := rdb.XAdd(context.Background(), &goredis.XAddArgs{Stream: stream, Values: map[string]any{
			"_watermill_message_uuid": "0193dupl-event", "payload": payload, "metadata": `{"name":"MemoryCreated"}`,
		}}).Err()
		if err != nil {
			t.Fatal(err)
		}
	}
	e.eventually("both copies are consumed", func() bool { return e.eventsConsumedForWebhooks(rdb, "MemoryCreated", 2) })
	e.eventually("the webhook arrives", func() bool { return len(hook.requests()) >= 1 })
	d := e.deliveries(app.AppID)
	if len(d.Deliveries) != 1 || d.Deliveries[0].EventID != "0193dupl-event" {
		t.Errorf("deliveries %+v", d.Deliveries)
	}
	if n := len(hook.requests()); n != 1 {
		t.Errorf("the receiver got %d requests", n)
	}
}
