package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
)

// IdempotencyConfig tunes the IdempotencyStore; the zero value is usable.
type IdempotencyConfig struct {
	// LockTimeout is how long a request holds its key in flight before a retry
	// may take it over; idempotency.DefaultLockTimeout when zero.
	LockTimeout time.Duration
	// PurgeEvery makes every n-th Begin delete one batch of expired rows first;
	// 100 when zero, never when negative (then schedule Purge yourself).
	PurgeEvery int
}

func (c *IdempotencyConfig) setDefaults() {
	if c.LockTimeout <= 0 {
		c.LockTimeout = idempotency.DefaultLockTimeout
	}
	if c.PurgeEvery == 0 {
		c.PurgeEvery = 100
	}
}

// purgeBatch bounds the rows one purge statement deletes, so that the request
// that happens to run an opportunistic purge is not held up for long.
const purgeBatch = 1000

// IdempotencyStore keeps Idempotency-Key records in custom_gpt_idempotency_keys.
type IdempotencyStore struct {
	pool  *pgxpool.Pool
	cfg   IdempotencyConfig
	calls atomic.Uint64
}

var _ idempotency.Store = (*IdempotencyStore)(nil)

func NewIdempotencyStore(pool *pgxpool.Pool, cfg IdempotencyConfig) *IdempotencyStore {
	cfg.setDefaults()
	return &IdempotencyStore{pool: pool, cfg: cfg}
}

const idemColumns = `fingerprint, status, locked_until, response_status, response_headers, response_body, created_at, expires_at`

// Begin claims key for a request, or says why it may not run. The row is
// inserted, or locked and judged by idempotency.Decide, in one transaction, so
// that of concurrent requests in any number of processes only one proceeds.
func (s *IdempotencyStore) Begin(ctx context.Context, scope idempotency.Scope, key idempotency.Key, fp idempotency.Fingerprint, now time.Time) (idempotency.Decision, error) {
	if scope.AppID == "" || key.String() == "" {
		return idempotency.Decision{}, errors.New("idempotency begin: scope without application or zero key")
	}
	if n := s.cfg.PurgeEvery; n > 0 && s.calls.Add(1)%uint64(n) == 0 {
		// A failed purge must not fail the request: the rows it missed are
		// ignored by Begin and left for the next purge.
		_, _ = s.purgeOnce(ctx, now)
	}
	lock := uuid.NewString()
	lockedUntil, expiresAt := now.Add(s.cfg.LockTimeout), now.Add(idempotency.Retention)
	var d idempotency.Decision
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// A row seen by the insert may be released or purged before it can be
		// locked; then the insert is tried again. Two rounds always suffice
		// unless the key is being hammered, so a few are allowed.
		for range 5 {
			tag, err := tx.Exec(ctx, `INSERT INTO custom_gpt_idempotency_keys
				(app_id, end_user, key, fingerprint, status, lock_token, locked_until, created_at, expires_at)
				VALUES ($1, $2, $3, $4, 'in_flight', $5, $6, $7, $8)
				ON CONFLICT (app_id, end_user, key) DO NOTHING`,
				scope.AppID, scope.EndUser, key.String(), fp[:], lock, lockedUntil, now, expiresAt)
			if err != nil {
				return fmt.Errorf("insert idempotency key: %w", err)
			}
			if tag.RowsAffected() == 1 {
				d = idempotency.Decision{Outcome: idempotency.Proceed, Lock: lock}
				return nil
			}
			rec, err := scanIdempotencyRecord(tx.QueryRow(ctx, `SELECT `+idemColumns+` FROM custom_gpt_idempotency_keys
				WHERE app_id = $1 AND end_user = $2 AND key = $3 FOR UPDATE`, scope.AppID, scope.EndUser, key.String()))
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			d = idempotency.Decide(rec, fp, now)
			if d.Outcome != idempotency.Proceed {
				return nil
			}
			d.Lock = lock
			if d.TakenOver {
				// The same request again: it keeps the record's creation and
				// expiry, only the lock changes hands.
				_, err = tx.Exec(ctx, `UPDATE custom_gpt_idempotency_keys SET lock_token = $4, locked_until = $5
					WHERE app_id = $1 AND end_user = $2 AND key = $3`,
					scope.AppID, scope.EndUser, key.String(), lock, lockedUntil)
			} else {
				// An expired record: the key starts a new life.
				_, err = tx.Exec(ctx, `UPDATE custom_gpt_idempotency_keys
					SET fingerprint = $4, status = 'in_flight', lock_token = $5, locked_until = $6,
						response_status = NULL, response_headers = NULL, response_body = NULL,
						created_at = $7, expires_at = $8
					WHERE app_id = $1 AND end_user = $2 AND key = $3`,
					scope.AppID, scope.EndUser, key.String(), fp[:], lock, lockedUntil, now, expiresAt)
			}
			if err != nil {
				return fmt.Errorf("claim idempotency key: %w", err)
			}
			return nil
		}
		return errors.New("idempotency key kept disappearing while it was claimed")
	})
	if err != nil {
		return idempotency.Decision{}, fmt.Errorf("idempotency begin: %w", err)
	}
	return d, nil
}

// Complete stores resp when it is storable and releases the key otherwise,
// both only while lock still holds the key.
func (s *IdempotencyStore) Complete(ctx context.Context, scope idempotency.Scope, key idempotency.Key, lock string, resp idempotency.Response) error {
	return completeIdempotency(ctx, s.pool, idempotency.Completion{Scope: scope, Key: key, Lock: lock, Response: resp})
}

// completeIdempotency is Complete through any connection or transaction.
func completeIdempotency(ctx context.Context, db interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, c idempotency.Completion) error {
	if _, err := uuid.Parse(c.Lock); err != nil {
		return idempotency.ErrLockLost
	}
	var (
		sql  string
		args = []any{c.Scope.AppID, c.Scope.EndUser, c.Key.String(), c.Lock}
		resp = c.Response
	)
	if idempotency.Storable(resp.Status) {
		header := resp.Header
		if header == nil {
			header = map[string][]string{}
		}
		headerJSON, err := json.Marshal(header)
		if err != nil {
			return fmt.Errorf("idempotency complete: encode headers: %w", err)
		}
		body := resp.Body
		if body == nil {
			body = []byte{} // nil would be stored as NULL
		}
		sql = `UPDATE custom_gpt_idempotency_keys
			SET status = 'completed', response_status = $5, response_headers = $6, response_body = $7,
				lock_token = NULL, locked_until = NULL
			WHERE app_id = $1 AND end_user = $2 AND key = $3 AND status = 'in_flight' AND lock_token = $4`
		args = append(args, resp.Status, headerJSON, body)
	} else {
		sql = `DELETE FROM custom_gpt_idempotency_keys
			WHERE app_id = $1 AND end_user = $2 AND key = $3 AND status = 'in_flight' AND lock_token = $4`
	}
	tag, err := db.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("idempotency complete: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return idempotency.ErrLockLost
	}
	return nil
}

// Purge deletes every record expired at now and returns how many it deleted.
// Begin already runs one batch on every PurgeEvery-th call; a deployment that
// turns that off should run Purge every hour or so.
func (s *IdempotencyStore) Purge(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for {
		n, err := s.purgeOnce(ctx, now)
		total += n
		if err != nil || n < purgeBatch {
			return total, err
		}
	}
}

// purgeOnce deletes one batch. Rows locked by a Begin that is about to reuse
// them are skipped rather than waited for.
func (s *IdempotencyStore) purgeOnce(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM custom_gpt_idempotency_keys
		WHERE (app_id, end_user, key) IN (
			SELECT app_id, end_user, key FROM custom_gpt_idempotency_keys
			WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, now, purgeBatch)
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}

func scanIdempotencyRecord(row pgx.Row) (*idempotency.Record, error) {
	var (
		fp                   []byte
		status               string
		lockedUntil          pgtime
		respStatus           pgtype.Int4
		respHeaders          []byte
		respBody             []byte
		createdAt, expiresAt time.Time
	)
	if err := row.Scan(&fp, &status, &lockedUntil, &respStatus, &respHeaders, &respBody, &createdAt, &expiresAt); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	f, err := idempotency.FingerprintFromBytes(fp)
	if err != nil {
		return nil, err
	}
	rec := &idempotency.Record{
		Fingerprint: f, Status: idempotency.Status(status), LockedUntil: lockedUntil.t(),
		CreatedAt: createdAt.UTC(), ExpiresAt: expiresAt.UTC(),
	}
	if respStatus.Valid {
		rec.Response = idempotency.Response{Status: int(respStatus.Int32), Body: respBody}
		if len(respHeaders) > 0 {
			if err := json.Unmarshal(respHeaders, &rec.Response.Header); err != nil {
				return nil, fmt.Errorf("decode idempotency response headers: %w", err)
			}
		}
	}
	return rec, nil
}
