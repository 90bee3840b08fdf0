package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// OAuthPurgeGrace is how long a row is kept after it stopped being usable: a
// code or refresh token replayed within it is still recognised as reused, and
// revokes what it granted, rather than being merely unknown.
const OAuthPurgeGrace = 24 * time.Hour

// PurgeExpiredOAuth deletes what the authorization server no longer needs,
// OAuthPurgeGrace after it stopped being usable: authorization requests whose
// request and code have both expired; sessions, refresh tokens and access
// token revocations past their expiry; registered clients that never asked
// for an application; grants that were revoked, or whose
// refresh tokens have all expired or been used and whose last access token
// (issued at most accessTTL before) has expired too. Deleting a grant revokes
// any token it still had (AccessTokenRevoked treats an unknown grant as
// revoked), so a purge can never extend access. Safe to run concurrently.
func PurgeExpiredOAuth(ctx context.Context, pool *pgxpool.Pool, now time.Time, accessTTL time.Duration) (int64, error) {
	cutoff := now.Add(-OAuthPurgeGrace)
	var total int64
	for _, q := range []struct {
		what, sql string
		args      []any
	}{
		{"authorization requests", `WITH d AS (DELETE FROM custom_gpt_auth_requests
			WHERE expires_at < $1 AND (code_issued_at IS NULL OR code_issued_at < $2) RETURNING 1)
			SELECT count(*) FROM d`, []any{cutoff, cutoff.Add(-oauth.CodeLifetime)}},
		{"sessions", `WITH d AS (DELETE FROM custom_gpt_sessions WHERE expires_at < $1 RETURNING 1)
			SELECT count(*) FROM d`, []any{cutoff}},
		// A client that registered itself and never asked for an application
		// within a day, or whose document went stale unused, held nothing.
		{"unused clients", `WITH d AS (DELETE FROM custom_gpt_oauth_clients c
			WHERE coalesce(c.refresh_at, c.created_at) < $1
			  AND NOT EXISTS (SELECT 1 FROM custom_gpt_app_clients l WHERE l.client_id = c.id) RETURNING 1)
			SELECT count(*) FROM d`, []any{cutoff}},
		{"access token revocations", `WITH d AS (DELETE FROM custom_gpt_revoked_access_tokens WHERE expires_at < $1 RETURNING 1)
			SELECT count(*) FROM d`, []any{cutoff}},
		// One statement, so a grant and its refresh tokens go together. A grant
		// is dead when revoked, or when nothing can refresh it any more and its
		// last access token (issued with it, or with its newest refresh token)
		// has expired.
		{"grants and refresh tokens", `WITH dead AS (
				SELECT g.id FROM custom_gpt_oauth_grants g
				WHERE g.revoked_at < $1
				   OR (g.revoked_at IS NULL AND g.created_at < $2 AND NOT EXISTS (
				         SELECT 1 FROM custom_gpt_refresh_tokens r WHERE r.grant_id = g.id
				         AND ((r.used_at IS NULL AND r.expires_at >= $1) OR r.created_at >= $2)))
			), tokens AS (
				DELETE FROM custom_gpt_refresh_tokens
				WHERE grant_id IN (SELECT id FROM dead) OR expires_at < $1 RETURNING 1
			), grants AS (
				DELETE FROM custom_gpt_oauth_grants WHERE id IN (SELECT id FROM dead) RETURNING 1
			)
			SELECT (SELECT count(*) FROM tokens) + (SELECT count(*) FROM grants)`, []any{cutoff, cutoff.Add(-accessTTL)}},
	} {
		var n int64
		if err := pool.QueryRow(ctx, q.sql, q.args...).Scan(&n); err != nil {
			return total, fmt.Errorf("purge expired %s: %w", q.what, err)
		}
		total += n
	}
	return total, nil
}
