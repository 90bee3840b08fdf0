// Package webhook holds the rules of per-application webhooks: endpoints and
// their signing secrets, deliveries and their retry schedule, and which URLs
// and addresses a webhook may reach.
package webhook

import (
	"context"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// EndpointStatus tells whether an endpoint receives deliveries.
type EndpointStatus string

const (
	EndpointActive   EndpointStatus = "active"
	EndpointDisabled EndpointStatus = "disabled"
)

// MaxRotationOverlap bounds how long a replaced secret keeps signing.
const MaxRotationOverlap = 7 * 24 * time.Hour

// Endpoint is where an application's events are delivered: one per
// application.
type Endpoint struct {
	id                string
	appID             string
	url               string
	secret            Secret
	previous          Secret
	previousExpiresAt time.Time
	status            EndpointStatus
	disabledReason    string
	createdAt         time.Time
	updatedAt         time.Time
}

// NewEndpoint registers url for an application with a fresh secret.
func NewEndpoint(id, appID, url string, secret Secret, p URLPolicy, now time.Time) (*Endpoint, error) {
	if err := p.Validate(url); err != nil {
		return nil, err
	}
	if id == "" || appID == "" || secret.IsZero() {
		return nil, errs.Invalid("app_id", "webhook-invalid", "an endpoint needs an id, an application and a secret")
	}
	return &Endpoint{id: id, appID: appID, url: url, secret: secret, status: EndpointActive, createdAt: now, updatedAt: now}, nil
}

// UnmarshalEndpointFromDatabase rebuilds an endpoint from storage; adapters only.
func UnmarshalEndpointFromDatabase(id, appID, url string, secret, previous Secret, previousExpiresAt time.Time,
	status EndpointStatus, disabledReason string, createdAt, updatedAt time.Time) *Endpoint {
	return &Endpoint{id: id, appID: appID, url: url, secret: secret, previous: previous, previousExpiresAt: previousExpiresAt,
		status: status, disabledReason: disabledReason, createdAt: createdAt, updatedAt: updatedAt}
}

func (e *Endpoint) ID() string                   { return e.id }
func (e *Endpoint) AppID() string                { return e.appID }
func (e *Endpoint) URL() string                  { return e.url }
func (e *Endpoint) Secret() Secret               { return e.secret }
func (e *Endpoint) PreviousSecret() Secret       { return e.previous }
func (e *Endpoint) PreviousExpiresAt() time.Time { return e.previousExpiresAt }
func (e *Endpoint) Status() EndpointStatus       { return e.status }
func (e *Endpoint) DisabledReason() string       { return e.disabledReason }
func (e *Endpoint) CreatedAt() time.Time         { return e.createdAt }
func (e *Endpoint) UpdatedAt() time.Time         { return e.updatedAt }
func (e *Endpoint) Active() bool                 { return e.status == EndpointActive }

// Replace points the endpoint at url with a fresh secret and enables it
// again: registering anew is how a disabled endpoint comes back. The old
// secret stops signing at once.
func (e *Endpoint) Replace(url string, secret Secret, p URLPolicy, now time.Time) error {
	if err := p.Validate(url); err != nil {
		return err
	}
	e.url, e.secret, e.previous, e.previousExpiresAt = url, secret, Secret{}, time.Time{}
	e.status, e.disabledReason, e.updatedAt = EndpointActive, "", now
	return nil
}

// RotateSecret makes secret the signing secret; the one it replaces keeps
// signing alongside it for overlap, so receivers can switch without losing a
// delivery.
func (e *Endpoint) RotateSecret(secret Secret, overlap time.Duration, now time.Time) error {
	if overlap < 0 || overlap > MaxRotationOverlap {
		return errs.Invalid("overlap", "overlap-out-of-range", "the overlap must be between 0 and 168h")
	}
	e.previous, e.previousExpiresAt = e.secret, now.Add(overlap)
	if overlap == 0 {
		e.previous, e.previousExpiresAt = Secret{}, time.Time{}
	}
	e.secret, e.updatedAt = secret, now
	return nil
}

// SigningSecrets are the secrets that sign a message sent at now: the current
// one, and the previous one while its overlap lasts.
func (e *Endpoint) SigningSecrets(now time.Time) []Secret {
	if !e.previous.IsZero() && now.Before(e.previousExpiresAt) {
		return []Secret{e.secret, e.previous}
	}
	return []Secret{e.secret}
}

// Disable stops deliveries to the endpoint until it is registered again.
func (e *Endpoint) Disable(reason string, now time.Time) {
	e.status, e.disabledReason, e.updatedAt = EndpointDisabled, reason, now
}

// Repository stores endpoints and their deliveries.
type Repository interface {
	// Endpoint returns errs.KindNotFound when the application has none.
	Endpoint(ctx context.Context, appID string) (*Endpoint, error)
	// SaveEndpoint loads the application's endpoint (nil when it has none),
	// lets fn change it or return a new one, and stores the result in one
	// transaction; errs.KindNotFound when the application does not exist.
	SaveEndpoint(ctx context.Context, appID string, fn func(*Endpoint) (*Endpoint, error)) error
	// RemoveEndpoint deletes the endpoint and its deliveries; errs.KindNotFound
	// when there is none.
	RemoveEndpoint(ctx context.Context, appID string) error

	// AddDelivery stores d unless its endpoint already has a delivery of the
	// same event, or is no longer active (disabled or removed); added tells
	// which.
	AddDelivery(ctx context.Context, d *Delivery) (added bool, err error)
	// ClaimDue takes the most overdue pending delivery of an active endpoint
	// for lease, so no other dispatcher sends it meanwhile; nil when none is due.
	ClaimDue(ctx context.Context, now time.Time, lease time.Duration) (*Claim, error)
	// ClaimByID takes one delivery for lease whatever its status; errs
	// KindNotFound when it does not exist, KindConflict while another claim
	// holds it or when its endpoint is disabled.
	ClaimByID(ctx context.Context, id string, now time.Time, lease time.Duration) (*Claim, error)
	// RecordAttempt ends a claim: it loads the claimed delivery and its
	// endpoint, lets fn apply the attempt, and stores the attempt, the delivery
	// and the endpoint in one transaction. When fn disables the endpoint, its
	// other pending deliveries fail too. errs.KindConflict when the claim was
	// lost (its lease passed and another dispatcher took it).
	RecordAttempt(ctx context.Context, c *Claim, fn func(*Delivery, *Endpoint) (Attempt, error)) error
}

// Claim is a delivery taken for sending, with its endpoint as it was then.
type Claim struct {
	Delivery *Delivery
	Endpoint *Endpoint
	Token    string
}
