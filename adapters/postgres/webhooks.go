package postgres

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/secrets"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

// WebhookRepository stores webhook endpoints, deliveries and attempts. An
// endpoint's signing secrets are sealed with the keyring, bound to their row
// and column.
type WebhookRepository struct {
	pool    *pgxpool.Pool
	keyring *secrets.Keyring
}

func NewWebhookRepository(pool *pgxpool.Pool, keyring *secrets.Keyring) *WebhookRepository {
	return &WebhookRepository{pool: pool, keyring: keyring}
}

var _ webhook.Repository = (*WebhookRepository)(nil)

const endpointColumns = `id, app_id, url, secret, previous_secret, previous_expires_at, status, disabled_reason, created_at, updated_at, sealed_with`

// webhookSecretPlace is what a secret is sealed for: its column and row.
func webhookSecretPlace(column, endpointID string) string {
	return "custom_gpt_webhook_endpoints." + column + ":" + endpointID
}

func (r *WebhookRepository) scanEndpoint(row pgx.Row) (*webhook.Endpoint, error) {
	var (
		id, appID, url, secret, status, reason string
		previous, sealedWith                   *string
		previousExpires, created, updated      pgtime
	)
	if err := row.Scan(&id, &appID, &url, &secret, &previous, &previousExpires, &status, &reason, &created, &updated, &sealedWith); err != nil {
		return nil, err
	}
	if sealedWith == nil {
		return nil, fmt.Errorf("webhook secret of %s: %w", appID, ErrPlaintextSecret)
	}
	cur, err := r.openSecret(secret, *sealedWith, webhookSecretPlace("secret", id))
	if err != nil {
		return nil, fmt.Errorf("stored webhook secret of %s: %w", appID, err)
	}
	var prev webhook.Secret
	if previous != nil {
		if prev, err = r.openSecret(*previous, *sealedWith, webhookSecretPlace("previous_secret", id)); err != nil {
			return nil, fmt.Errorf("stored previous webhook secret of %s: %w", appID, err)
		}
	}
	return webhook.UnmarshalEndpointFromDatabase(id, appID, url, cur, prev, previousExpires.t(),
		webhook.EndpointStatus(status), reason, created.t(), updated.t()), nil
}

func (r *WebhookRepository) openSecret(stored, keyID, place string) (webhook.Secret, error) {
	sealed, err := base64.StdEncoding.DecodeString(stored)
	if err != nil {
		return webhook.Secret{}, secrets.ErrOpen
	}
	plain, err := r.keyring.Open(sealed, keyID, place)
	if err != nil {
		return webhook.Secret{}, err
	}
	return webhook.ParseSecret(string(plain))
}

// sealSecret is the stored form of a secret: the standard base64 of its
// sealed whsec_ form; nil for no secret.
func (r *WebhookRepository) sealSecret(s webhook.Secret, column, endpointID string) *string {
	if s.IsZero() {
		return nil
	}
	sealed, _ := r.keyring.Seal([]byte(s.Reveal()), webhookSecretPlace(column, endpointID))
	v := base64.StdEncoding.EncodeToString(sealed)
	return &v
}

func (r *WebhookRepository) Endpoint(ctx context.Context, appID string) (*webhook.Endpoint, error) {
	e, err := r.scanEndpoint(r.pool.QueryRow(ctx, `SELECT `+endpointColumns+` FROM custom_gpt_webhook_endpoints WHERE app_id = $1`, appID))
	if err != nil {
		return nil, dbError(err, "webhook-not-found", "webhook endpoint")
	}
	return e, nil
}

func (r *WebhookRepository) SaveEndpoint(ctx context.Context, appID string, fn func(*webhook.Endpoint) (*webhook.Endpoint, error)) error {
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		cur, err := r.scanEndpoint(tx.QueryRow(ctx, `SELECT `+endpointColumns+` FROM custom_gpt_webhook_endpoints WHERE app_id = $1 FOR UPDATE`, appID))
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("load webhook endpoint: %w", err)
		}
		e, err := fn(cur)
		if err != nil {
			return err
		}
		// Sealed for e's id: an endpoint replaced keeps its id, and a row
		// another caller inserted meanwhile (under another id) is left alone.
		tag, err := tx.Exec(ctx, `INSERT INTO custom_gpt_webhook_endpoints (`+endpointColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (app_id) DO UPDATE SET url = $3, secret = $4, previous_secret = $5, previous_expires_at = $6,
				status = $7, disabled_reason = $8, updated_at = $10, sealed_with = $11
			WHERE custom_gpt_webhook_endpoints.id = $1`,
			e.ID(), e.AppID(), e.URL(), r.sealSecret(e.Secret(), "secret", e.ID()),
			r.sealSecret(e.PreviousSecret(), "previous_secret", e.ID()), nullTime(e.PreviousExpiresAt()),
			string(e.Status()), e.DisabledReason(), e.CreatedAt(), e.UpdatedAt(), r.keyring.CurrentID())
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23503" { // no such application
			return errs.NotFound("application-not-found", "application not found")
		}
		if err != nil {
			return fmt.Errorf("save webhook endpoint: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return &errs.Error{Kind: errs.KindConflict, Slug: "webhook-changed", Detail: "the webhook was registered meanwhile; try again"}
		}
		if !e.Active() {
			return failPendingDeliveries(ctx, tx, e)
		}
		return nil
	})
}

// failPendingDeliveries ends every pending delivery of a disabled endpoint:
// nothing more is sent to it, and re-registering must not flush stale events.
func failPendingDeliveries(ctx context.Context, tx pgx.Tx, e *webhook.Endpoint) error {
	_, err := tx.Exec(ctx, `UPDATE custom_gpt_webhook_deliveries
		SET status = 'failed', next_attempt_at = NULL, failure = $2, updated_at = $3
		WHERE endpoint_id = $1 AND status = 'pending'`,
		e.ID(), "endpoint disabled: "+e.DisabledReason(), e.UpdatedAt())
	if err != nil {
		return fmt.Errorf("fail pending deliveries: %w", err)
	}
	return nil
}

func (r *WebhookRepository) RemoveEndpoint(ctx context.Context, appID string) error {
	tag, err := r.pool.Exec(ctx, `DELETE FROM custom_gpt_webhook_endpoints WHERE app_id = $1`, appID)
	if err != nil {
		return fmt.Errorf("remove webhook endpoint: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errs.NotFound("webhook-not-found", "the application has no webhook")
	}
	return nil
}

const deliveryColumns = `id, endpoint_id, app_id, event_id, event_type, body, status, attempts, scheduled_attempts, next_attempt_at, failure, created_at, updated_at, traceparent`

func scanDelivery(row pgx.Row, extra ...any) (*webhook.Delivery, error) {
	var (
		id, endpointID, appID, eventID, eventType, status, failure, trace string
		body                                                              []byte
		attempts, scheduled                                               int
		next, created, updated                                            pgtime
	)
	dest := append([]any{&id, &endpointID, &appID, &eventID, &eventType, &body, &status, &attempts, &scheduled, &next, &failure, &created, &updated, &trace}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	return webhook.UnmarshalDeliveryFromDatabase(id, endpointID, appID, eventID, eventType, body, webhook.DeliveryStatus(status),
		attempts, scheduled, next.t(), failure, created.t(), updated.t(), trace), nil
}

func (r *WebhookRepository) AddDelivery(ctx context.Context, d *webhook.Delivery) (bool, error) {
	// Only for an endpoint still active: the scheduler may hold a copy of it
	// from before it was disabled (command.CacheEndpoints).
	tag, err := r.pool.Exec(ctx, `INSERT INTO custom_gpt_webhook_deliveries (`+deliveryColumns+`)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14
		WHERE EXISTS (SELECT 1 FROM custom_gpt_webhook_endpoints e WHERE e.id = $2 AND e.status = 'active')
		ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
		d.ID(), d.EndpointID(), d.AppID(), d.EventID(), d.EventType(), d.Body(), string(d.Status()), d.Attempts(),
		d.ScheduledAttempts(), nullTime(d.NextAttemptAt()), d.Failure(), d.CreatedAt(), d.UpdatedAt(), d.Trace())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" { // the endpoint was removed meanwhile
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("insert webhook delivery: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ClaimDue locks the chosen row with SKIP LOCKED, so concurrent dispatchers
// each take a different delivery instead of waiting on one another, and marks
// it claimed until now+lease, so none takes it after this commit either.
func (r *WebhookRepository) ClaimDue(ctx context.Context, now time.Time, lease time.Duration) (*webhook.Claim, error) {
	token := uuid.NewString()
	d, err := scanDelivery(r.pool.QueryRow(ctx, `UPDATE custom_gpt_webhook_deliveries
		SET locked_until = $2, claim_token = $3
		WHERE id = (
			SELECT d.id FROM custom_gpt_webhook_deliveries d
			JOIN custom_gpt_webhook_endpoints e ON e.id = d.endpoint_id
			WHERE d.status = 'pending' AND d.next_attempt_at <= $1
			  AND (d.locked_until IS NULL OR d.locked_until <= $1)
			  AND e.status = 'active'
			ORDER BY d.next_attempt_at
			LIMIT 1
			FOR UPDATE OF d SKIP LOCKED)
		RETURNING `+deliveryColumns, now, now.Add(lease), token))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim webhook delivery: %w", err)
	}
	return r.claimed(ctx, d, token)
}

func (r *WebhookRepository) ClaimByID(ctx context.Context, id string, now time.Time, lease time.Duration) (*webhook.Claim, error) {
	token := uuid.NewString()
	d, err := scanDelivery(r.pool.QueryRow(ctx, `UPDATE custom_gpt_webhook_deliveries d
		SET locked_until = $3, claim_token = $4
		FROM custom_gpt_webhook_endpoints e
		WHERE d.id = $1 AND e.id = d.endpoint_id AND e.status = 'active'
		  AND (d.locked_until IS NULL OR d.locked_until <= $2)
		RETURNING `+prefixed("d.", deliveryColumns), id, now, now.Add(lease), token))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, r.whyNotClaimed(ctx, id, now)
	}
	if err != nil {
		return nil, fmt.Errorf("claim webhook delivery: %w", err)
	}
	return r.claimed(ctx, d, token)
}

func (r *WebhookRepository) whyNotClaimed(ctx context.Context, id string, now time.Time) error {
	var (
		status, reason string
		locked         pgtime
	)
	err := r.pool.QueryRow(ctx, `SELECT e.status, e.disabled_reason, d.locked_until
		FROM custom_gpt_webhook_deliveries d JOIN custom_gpt_webhook_endpoints e ON e.id = d.endpoint_id
		WHERE d.id = $1`, id).Scan(&status, &reason, &locked)
	if err != nil {
		return dbError(err, "delivery-not-found", "webhook delivery")
	}
	if status != string(webhook.EndpointActive) {
		return &errs.Error{Kind: errs.KindConflict, Slug: "webhook-disabled", Field: "delivery_id",
			Detail: "the endpoint is disabled (" + reason + "); register it again with apps set-webhook first"}
	}
	return &errs.Error{Kind: errs.KindConflict, Slug: "delivery-in-progress", Field: "delivery_id",
		Detail: "the delivery is being sent right now; try again in a moment"}
}

func (r *WebhookRepository) claimed(ctx context.Context, d *webhook.Delivery, token string) (*webhook.Claim, error) {
	e, err := r.scanEndpoint(r.pool.QueryRow(ctx, `SELECT `+endpointColumns+` FROM custom_gpt_webhook_endpoints WHERE id = $1`, d.EndpointID()))
	if err != nil {
		return nil, dbError(err, "webhook-not-found", "webhook endpoint")
	}
	return &webhook.Claim{Delivery: d, Endpoint: e, Token: token}, nil
}

func (r *WebhookRepository) RecordAttempt(ctx context.Context, c *webhook.Claim, fn func(*webhook.Delivery, *webhook.Endpoint) (webhook.Attempt, error)) error {
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		d, err := scanDelivery(tx.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM custom_gpt_webhook_deliveries
			WHERE id = $1 AND claim_token = $2 FOR UPDATE`, c.Delivery.ID(), c.Token))
		if errors.Is(err, pgx.ErrNoRows) {
			return &errs.Error{Kind: errs.KindConflict, Slug: "claim-lost", Detail: "the delivery's claim expired or it was removed"}
		}
		if err != nil {
			return fmt.Errorf("load claimed delivery: %w", err)
		}
		e, err := r.scanEndpoint(tx.QueryRow(ctx, `SELECT `+endpointColumns+` FROM custom_gpt_webhook_endpoints WHERE id = $1 FOR UPDATE`, d.EndpointID()))
		if err != nil {
			return dbError(err, "webhook-not-found", "webhook endpoint")
		}
		wasActive := e.Active()
		a, err := fn(d, e)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO custom_gpt_webhook_attempts
			(delivery_id, attempt, manual, attempted_at, duration_us, http_status, error) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			d.ID(), a.Number, a.Manual, a.AttemptedAt, a.Duration.Microseconds(), nullInt(a.StatusCode), a.Error); err != nil {
			return fmt.Errorf("insert webhook attempt: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE custom_gpt_webhook_deliveries
			SET status = $2, attempts = $3, scheduled_attempts = $4, next_attempt_at = $5, failure = $6, updated_at = $7,
				locked_until = NULL, claim_token = NULL
			WHERE id = $1`,
			d.ID(), string(d.Status()), d.Attempts(), d.ScheduledAttempts(), nullTime(d.NextAttemptAt()), d.Failure(), d.UpdatedAt()); err != nil {
			return fmt.Errorf("update webhook delivery: %w", err)
		}
		if wasActive && !e.Active() {
			if _, err := tx.Exec(ctx, `UPDATE custom_gpt_webhook_endpoints SET status = $2, disabled_reason = $3, updated_at = $4 WHERE id = $1`,
				e.ID(), string(e.Status()), e.DisabledReason(), e.UpdatedAt()); err != nil {
				return fmt.Errorf("disable webhook endpoint: %w", err)
			}
			return failPendingDeliveries(ctx, tx, e)
		}
		return nil
	})
}

// Deliveries lists an application's newest deliveries with their attempts.
func (r *WebhookRepository) Deliveries(ctx context.Context, appID string, limit int) ([]webhook.DeliveryLog, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM custom_gpt_webhook_deliveries
		WHERE app_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, appID, limit)
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	var logs []webhook.DeliveryLog
	index := map[string]int{}
	var ids []string
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan webhook delivery: %w", err)
		}
		index[d.ID()] = len(logs)
		ids = append(ids, d.ID())
		logs = append(logs, webhook.DeliveryLog{Delivery: d, Attempts: []webhook.Attempt{}})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	if len(ids) == 0 {
		return logs, nil
	}
	rows, err = r.pool.Query(ctx, `SELECT delivery_id, attempt, manual, attempted_at, duration_us, http_status, error
		FROM custom_gpt_webhook_attempts WHERE delivery_id = ANY($1) ORDER BY delivery_id, attempt`, ids)
	if err != nil {
		return nil, fmt.Errorf("list webhook attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id     string
			a      webhook.Attempt
			at     time.Time
			us     int64
			status *int
		)
		if err := rows.Scan(&id, &a.Number, &a.Manual, &at, &us, &status, &a.Error); err != nil {
			return nil, fmt.Errorf("scan webhook attempt: %w", err)
		}
		a.AttemptedAt, a.Duration = at.UTC(), time.Duration(us)*time.Microsecond
		if status != nil {
			a.StatusCode = *status
		}
		i := index[id]
		logs[i].Attempts = append(logs[i].Attempts, a)
	}
	return logs, rows.Err()
}

// prefixed qualifies each column of a list with a table alias.
func prefixed(alias, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = alias + c
	}
	return strings.Join(cols, ", ")
}

func nullInt(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}
