package webhook

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestSecretFormat(t *testing.T) {
	t.Parallel()
	s := NewSecret()
	raw := s.Reveal()
	if !strings.HasPrefix(raw, "whsec_") {
		t.Fatalf("secret %q lacks the whsec_ prefix", raw)
	}
	back, err := ParseSecret(raw)
	if err != nil || back.Reveal() != raw {
		t.Fatalf("ParseSecret(%q) = %v, %v", raw, back.Reveal(), err)
	}
	if strings.Contains(s.String(), raw[6:]) {
		t.Error("String shows the key")
	}
	if NewSecret().Reveal() == raw {
		t.Error("two secrets are equal")
	}
	for _, bad := range []string{"", "whsec_", "abc", "whsec_!!!", "whsec_" + strings.Repeat("A", 20), raw[6:]} {
		if _, err := ParseSecret(bad); err == nil {
			t.Errorf("ParseSecret(%q) accepted it", bad)
		}
	}
}

// The signatures verify with the Standard Webhooks reference library, each
// secret on its own, so receivers can use any conforming verifier.
func TestSignatureVerifiesWithStandardWebhooks(t *testing.T) {
	t.Parallel()
	cur, old := NewSecret(), NewSecret()
	now := time.Now()
	body := []byte(`{"type":"custom_gpt.memory.created","timestamp":"2026-01-01T00:00:00Z","data":{"x":1}}`)
	header := http.Header{}
	header.Set("webhook-id", "0193-event")
	header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	header.Set("webhook-signature", SignatureHeader([]Secret{cur, old}, "0193-event", now, body))
	if got := strings.Count(header.Get("webhook-signature"), "v1,"); got != 2 {
		t.Fatalf("signature header %q has %d signatures", header.Get("webhook-signature"), got)
	}
	for _, s := range []Secret{cur, old} {
		wh, err := standardwebhooks.NewWebhook(s.Reveal())
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(body, header); err != nil {
			t.Errorf("verify: %v", err)
		}
		if err := wh.Verify(append([]byte(" "), body...), header); err == nil {
			t.Error("a changed body verifies")
		}
	}
	stranger, _ := standardwebhooks.NewWebhook(NewSecret().Reveal())
	if err := stranger.Verify(body, header); err == nil {
		t.Error("another secret verifies")
	}
}

func TestRotationOverlap(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	first := NewSecret()
	e, err := NewEndpoint("e", "a", "https://hooks.example.com/", first, URLPolicy{}, now)
	if err != nil {
		t.Fatal(err)
	}
	second := NewSecret()
	if err := e.RotateSecret(second, 24*time.Hour, now); err != nil {
		t.Fatal(err)
	}
	if got := e.SigningSecrets(now.Add(23 * time.Hour)); len(got) != 2 || got[0].Reveal() != second.Reveal() || got[1].Reveal() != first.Reveal() {
		t.Errorf("during the overlap: %d secrets", len(got))
	}
	if got := e.SigningSecrets(now.Add(24 * time.Hour)); len(got) != 1 || got[0].Reveal() != second.Reveal() {
		t.Errorf("after the overlap: %d secrets", len(got))
	}
	if err := e.RotateSecret(NewSecret(), 0, now); err != nil || len(e.SigningSecrets(now)) != 1 {
		t.Errorf("a rotation without overlap keeps the old secret: %v", err)
	}
	if err := e.RotateSecret(NewSecret(), 8*24*time.Hour, now); err == nil {
		t.Error("an overlap over 168h is accepted")
	}
}

func TestDefaultScheduleLastsAtLeastADay(t *testing.T) {
	t.Parallel()
	for _, r := range []float64{0, 0.5, 0.999999} {
		p := DefaultRetryPolicy
		p.Rand = func() float64 { return r }
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		at, made := start, 0
		for {
			made++
			next, ok := p.Next(made, at, 0)
			if !ok {
				break
			}
			if !next.After(at) {
				t.Fatalf("attempt %d is not later than the one before", made+1)
			}
			at = next
		}
		if made != 8 {
			t.Errorf("%d attempts, want 8", made)
		}
		if span := at.Sub(start); span < 24*time.Hour {
			t.Errorf("with jitter draw %v the last attempt comes %v after the first, under 24h", r, span)
		}
	}
}

func TestRetryAfterIsHonouredAndCapped(t *testing.T) {
	t.Parallel()
	p := DefaultRetryPolicy
	p.Rand = func() float64 { return 0.5 } // no jitter
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if next, _ := p.Next(1, now, time.Hour); !next.Equal(now.Add(time.Hour)) {
		t.Errorf("Retry-After 1h: next at %v", next.Sub(now))
	}
	if next, _ := p.Next(1, now, time.Second); !next.Equal(now.Add(5 * time.Second)) {
		t.Errorf("Retry-After shorter than the schedule: next at %v, want the schedule's 5s", next.Sub(now))
	}
	if next, _ := p.Next(1, now, 30*24*time.Hour); !next.Equal(now.Add(12 * time.Hour)) {
		t.Errorf("Retry-After 30 days: next at %v, want the 12h cap", next.Sub(now))
	}
}

func newTestDelivery(t *testing.T) (*Delivery, *Endpoint, time.Time) {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e, err := NewEndpoint("e", "a", "https://hooks.example.com/", NewSecret(), URLPolicy{}, now)
	if err != nil {
		t.Fatal(err)
	}
	body, err := Payload("custom_gpt.memory.created", now, json.RawMessage(`{"app_id":"a"}`))
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDelivery("d", e, "ev", "custom_gpt.memory.created", body, "", now)
	if err != nil {
		t.Fatal(err)
	}
	return d, e, now
}

func TestDeliveryTransitions(t *testing.T) {
	t.Parallel()
	p := DefaultRetryPolicy
	p.Rand = func() float64 { return 0.5 }

	t.Run("a 500 then a 200", func(t *testing.T) {
		d, e, now := newTestDelivery(t)
		a, o := d.Apply(e, e.URL(), Result{StatusCode: 500}, false, p, now)
		if o != OutcomeRetrying || a.Number != 1 || a.Error != "HTTP 500" || !d.NextAttemptAt().Equal(now.Add(5*time.Second)) {
			t.Fatalf("after a 500: %v, %+v, next %v", o, a, d.NextAttemptAt())
		}
		if _, o := d.Apply(e, e.URL(), Result{StatusCode: 204}, false, p, now); o != OutcomeSucceeded || d.Status() != DeliverySucceeded {
			t.Fatalf("after a 204: %v, %s", o, d.Status())
		}
	})
	t.Run("a redirect is a failure", func(t *testing.T) {
		d, e, now := newTestDelivery(t)
		a, o := d.Apply(e, e.URL(), Result{StatusCode: 302}, false, p, now)
		if o != OutcomeRetrying || !strings.Contains(a.Error, "redirect") {
			t.Fatalf("after a 302: %v, %q", o, a.Error)
		}
	})
	t.Run("410 disables the endpoint", func(t *testing.T) {
		d, e, now := newTestDelivery(t)
		if _, o := d.Apply(e, e.URL(), Result{StatusCode: 410}, false, p, now); o != OutcomeGone {
			t.Fatalf("outcome %v", o)
		}
		if e.Active() || !strings.Contains(e.DisabledReason(), "410") || d.Status() != DeliveryFailed {
			t.Fatalf("endpoint %s (%q), delivery %s", e.Status(), e.DisabledReason(), d.Status())
		}
	})
	t.Run("the schedule runs out", func(t *testing.T) {
		d, e, now := newTestDelivery(t)
		var o Outcome
		for range 8 {
			_, o = d.Apply(e, e.URL(), Result{Err: "connection refused"}, false, p, now)
		}
		if o != OutcomeFailed || d.Status() != DeliveryFailed || !d.NextAttemptAt().IsZero() || d.Attempts() != 8 {
			t.Fatalf("after 8 failures: %v, %s, %d attempts", o, d.Status(), d.Attempts())
		}
	})
	t.Run("a failed manual attempt changes nothing but the count", func(t *testing.T) {
		d, e, now := newTestDelivery(t)
		d.Apply(e, e.URL(), Result{StatusCode: 500}, false, p, now)
		next := d.NextAttemptAt()
		a, o := d.Apply(e, e.URL(), Result{StatusCode: 500}, true, p, now.Add(time.Second))
		if o != OutcomeUnchanged || !a.Manual || a.Number != 2 || d.ScheduledAttempts() != 1 || !d.NextAttemptAt().Equal(next) {
			t.Fatalf("manual failure: %v %+v, scheduled %d", o, a, d.ScheduledAttempts())
		}
	})
}

func TestPayloadIsStandardWebhooks(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	body, err := Payload("custom_gpt.memory.created", at, json.RawMessage(`{"app_id":"a","memory_ids":["m"]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"custom_gpt.memory.created","timestamp":"2026-01-02T03:04:05Z","data":{"app_id":"a","memory_ids":["m"]}}`
	if string(body) != want {
		t.Errorf("payload %s, want %s", body, want)
	}
	if _, err := Payload("t", at, json.RawMessage(`{`)); err == nil {
		t.Error("invalid data accepted")
	}
}
