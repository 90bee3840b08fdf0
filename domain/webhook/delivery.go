package webhook

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySucceeded DeliveryStatus = "succeeded"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Delivery is one event on its way to one endpoint. Its body is built once,
// so every attempt sends the same bytes under the same webhook-id.
type Delivery struct {
	id                string
	endpointID        string
	appID             string
	eventID           string
	eventType         string
	body              []byte
	status            DeliveryStatus
	attempts          int // every attempt, manual ones included
	scheduledAttempts int // attempts the retry schedule made
	nextAttemptAt     time.Time
	failure           string
	createdAt         time.Time
	updatedAt         time.Time
	// trace is the W3C traceparent of the span that scheduled the delivery
	// (the event's handling), "" when none was traced: every attempt is sent
	// in that trace.
	trace string
}

// Payload is the Standard Webhooks body: the event's CloudEvent type, when
// it happened, and the event's own payload as data.
func Payload(eventType string, occurredAt time.Time, data json.RawMessage) ([]byte, error) {
	if !json.Valid(data) {
		return nil, errs.Invalid("data", "event-payload-invalid", "an event payload must be JSON")
	}
	return json.Marshal(struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{eventType, occurredAt.UTC().Format(time.RFC3339Nano), data})
}

// NewDelivery schedules event eventID, of eventType, for e, due at once;
// trace is the traceparent its attempts are sent in ("" for none).
func NewDelivery(id string, e *Endpoint, eventID, eventType string, body []byte, trace string, now time.Time) (*Delivery, error) {
	if id == "" || eventID == "" || eventType == "" || len(body) == 0 {
		return nil, errs.Invalid("event_id", "delivery-invalid", "a delivery needs an id, an event id, a type and a body")
	}
	return &Delivery{id: id, endpointID: e.ID(), appID: e.AppID(), eventID: eventID, eventType: eventType, body: body,
		trace: trace, status: DeliveryPending, nextAttemptAt: now, createdAt: now, updatedAt: now}, nil
}

// UnmarshalDeliveryFromDatabase rebuilds a delivery from storage; adapters only.
func UnmarshalDeliveryFromDatabase(id, endpointID, appID, eventID, eventType string, body []byte, status DeliveryStatus,
	attempts, scheduledAttempts int, nextAttemptAt time.Time, failure string, createdAt, updatedAt time.Time, trace string) *Delivery {
	return &Delivery{id: id, endpointID: endpointID, appID: appID, eventID: eventID, eventType: eventType, body: body,
		status: status, attempts: attempts, scheduledAttempts: scheduledAttempts, nextAttemptAt: nextAttemptAt,
		failure: failure, createdAt: createdAt, updatedAt: updatedAt, trace: trace}
}

func (d *Delivery) ID() string             { return d.id }
func (d *Delivery) EndpointID() string     { return d.endpointID }
func (d *Delivery) AppID() string          { return d.appID }
func (d *Delivery) EventID() string        { return d.eventID }
func (d *Delivery) EventType() string      { return d.eventType }
func (d *Delivery) Body() []byte           { return d.body }
func (d *Delivery) Status() DeliveryStatus { return d.status }
func (d *Delivery) Attempts() int          { return d.attempts }
func (d *Delivery) ScheduledAttempts() int { return d.scheduledAttempts }
func (d *Delivery) Failure() string        { return d.failure }
func (d *Delivery) CreatedAt() time.Time   { return d.createdAt }
func (d *Delivery) UpdatedAt() time.Time   { return d.updatedAt }
func (d *Delivery) Trace() string          { return d.trace }

// NextAttemptAt is when the schedule tries again; zero once the delivery has
// ended.
func (d *Delivery) NextAttemptAt() time.Time { return d.nextAttemptAt }

// Result is what one HTTP attempt came back with.
type Result struct {
	StatusCode int           // 0 when no response came (Err says why)
	Err        string        // connection refused, timeout, forbidden address...
	RetryAfter time.Duration // the response's Retry-After, 0 if none
	Duration   time.Duration
}

// Succeeded: only a 2xx answer counts as delivered; a redirect is a failure
// and is never followed.
func (r Result) Succeeded() bool { return r.Err == "" && r.StatusCode >= 200 && r.StatusCode < 300 }

// Gone: the receiver said the endpoint no longer exists.
func (r Result) Gone() bool { return r.Err == "" && r.StatusCode == http.StatusGone }

// Describe says what went wrong, for the attempt log.
func (r Result) Describe() string {
	switch {
	case r.Err != "":
		return r.Err
	case r.Succeeded():
		return ""
	case r.StatusCode >= 300 && r.StatusCode < 400:
		return fmt.Sprintf("HTTP %d: redirects are not followed", r.StatusCode)
	default:
		return fmt.Sprintf("HTTP %d", r.StatusCode)
	}
}

// Attempt is one recorded try.
type Attempt struct {
	Number      int
	Manual      bool // sent by `webhooks redeliver`, outside the schedule
	AttemptedAt time.Time
	Duration    time.Duration
	StatusCode  int
	Error       string
}

// Outcome is what an attempt did to its delivery.
type Outcome string

const (
	OutcomeSucceeded Outcome = "succeeded"
	OutcomeRetrying  Outcome = "retrying"  // failed; another attempt is scheduled
	OutcomeFailed    Outcome = "failed"    // failed; the schedule is used up
	OutcomeGone      Outcome = "gone"      // 410: the endpoint is disabled, the delivery failed
	OutcomeUnchanged Outcome = "unchanged" // a manual attempt failed; the schedule goes on as it was
)

// Apply records an attempt, made at now, and moves the delivery on: a 2xx
// ends it delivered; a 410 ends it failed and disables e (when e still points
// where the attempt went); any other failure of a scheduled attempt waits for
// the next one, or ends it failed once the schedule is used up. A manual
// attempt (a redelivery) that fails changes nothing but the log.
func (d *Delivery) Apply(e *Endpoint, sentTo string, r Result, manual bool, p RetryPolicy, now time.Time) (Attempt, Outcome) {
	d.attempts++
	a := Attempt{Number: d.attempts, Manual: manual, AttemptedAt: now, Duration: r.Duration, StatusCode: r.StatusCode, Error: r.Describe()}
	d.updatedAt = now
	if !manual {
		d.scheduledAttempts++
	}
	switch {
	case r.Succeeded():
		d.status, d.nextAttemptAt, d.failure = DeliverySucceeded, time.Time{}, ""
		return a, OutcomeSucceeded
	case r.Gone():
		if e.URL() == sentTo {
			e.Disable(fmt.Sprintf("the endpoint answered 410 Gone to delivery %s", d.id), now)
		}
		if d.status == DeliveryPending {
			d.fail("the endpoint answered 410 Gone")
		}
		return a, OutcomeGone
	case manual || d.status != DeliveryPending:
		return a, OutcomeUnchanged
	}
	next, ok := p.Next(d.scheduledAttempts, now, r.RetryAfter)
	if !ok {
		d.fail(fmt.Sprintf("gave up after %d attempts: %s", d.attempts, a.Error))
		return a, OutcomeFailed
	}
	d.nextAttemptAt = next
	return a, OutcomeRetrying
}

func (d *Delivery) fail(why string) {
	d.status, d.nextAttemptAt, d.failure = DeliveryFailed, time.Time{}, why
}

// DeliveryLog is a delivery with every attempt made, oldest first.
type DeliveryLog struct {
	Delivery *Delivery
	Attempts []Attempt
}

// Message is one signed attempt, ready to send.
type Message struct {
	URL       string
	ID        string // webhook-id: the event's id, the same on every attempt
	Timestamp time.Time
	Signature string // webhook-signature
	Body      []byte
	Trace     string // the traceparent the attempt is sent in, "" for none
}

// Message signs the delivery for e as sent at now, with every secret that
// signs then.
func (d *Delivery) Message(e *Endpoint, now time.Time) Message {
	return Message{URL: e.URL(), ID: d.eventID, Timestamp: now, Body: d.body, Trace: d.trace,
		Signature: SignatureHeader(e.SigningSecrets(now), d.eventID, now, d.body)}
}
