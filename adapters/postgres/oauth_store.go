package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// OAuthStore keeps authorization requests, grants, refresh tokens and access
// token revocations. Codes and refresh tokens are stored as hashes, and each is
// consumed with one conditional UPDATE, so of two concurrent redemptions exactly
// one wins.
type OAuthStore struct{ pool *pgxpool.Pool }

func NewOAuthStore(pool *pgxpool.Pool) *OAuthStore { return &OAuthStore{pool: pool} }

const authRequestColumns = `id, client_id, app_id, redirect_uri, scopes, state, nonce, response_type, response_mode,
	code_challenge, code_challenge_method, resource, coalesce(subject, ''), auth_time, done, created_at, expires_at`

func scanAuthRequest(row pgx.Row) (*oauth.AuthRequest, error) {
	var (
		r        oauth.AuthRequest
		scopes   []string
		authTime pgtime
	)
	err := row.Scan(&r.ID, &r.ClientID, &r.AppID, &r.RedirectURI, &scopes, &r.State, &r.Nonce, &r.ResponseType, &r.ResponseMode,
		&r.CodeChallenge, &r.CodeChallengeMethod, &r.Resource, &r.Subject, &authTime, &r.Done, &r.CreatedAt, &r.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, oauth.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("scan auth request: %w", err)
	}
	r.Scopes, r.AuthTime = scopes, authTime.t()
	r.CreatedAt, r.ExpiresAt = r.CreatedAt.UTC(), r.ExpiresAt.UTC()
	return &r, nil
}

// SaveAuthRequest stores a new authorization request.
func (s *OAuthStore) SaveAuthRequest(ctx context.Context, r *oauth.AuthRequest) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO custom_gpt_auth_requests
		(id, client_id, app_id, redirect_uri, scopes, state, nonce, response_type, response_mode, code_challenge,
		 code_challenge_method, resource, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		r.ID, r.ClientID, r.AppID, r.RedirectURI, nonNil(r.Scopes), r.State, r.Nonce, r.ResponseType, r.ResponseMode,
		r.CodeChallenge, r.CodeChallengeMethod, r.Resource, r.CreatedAt, r.ExpiresAt)
	if err != nil {
		return fmt.Errorf("save auth request: %w", err)
	}
	return nil
}

// AuthRequest returns an unexpired request whose code has not been issued.
func (s *OAuthStore) AuthRequest(ctx context.Context, id string, now time.Time) (*oauth.AuthRequest, error) {
	return scanAuthRequest(s.pool.QueryRow(ctx, `SELECT `+authRequestColumns+` FROM custom_gpt_auth_requests
		WHERE id = $1 AND expires_at > $2 AND code_hash IS NULL`, id, now))
}

// CompleteAuthRequest records who signed in and consented.
func (s *OAuthStore) CompleteAuthRequest(ctx context.Context, id, subject string, authTime, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE custom_gpt_auth_requests SET subject = $2, auth_time = $3, done = true
		WHERE id = $1 AND expires_at > $4 AND code_hash IS NULL`, id, subject, authTime, now)
	if err != nil {
		return fmt.Errorf("complete auth request: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return oauth.ErrNotFound
	}
	return nil
}

// DeleteAuthRequest forgets a request (denied, or abandoned).
func (s *OAuthStore) DeleteAuthRequest(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM custom_gpt_auth_requests WHERE id = $1 AND code_hash IS NULL`, id)
	return err
}

// SaveCode attaches the hash of a freshly issued code to a completed request.
func (s *OAuthStore) SaveCode(ctx context.Context, id string, codeHash []byte, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE custom_gpt_auth_requests SET code_hash = $2, code_issued_at = $3
		WHERE id = $1 AND done AND code_hash IS NULL`, id, codeHash, now)
	if err != nil {
		return fmt.Errorf("save code: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return oauth.ErrNotFound
	}
	return nil
}

// RedeemCode consumes a code and creates its grant, in one transaction. A code
// redeemed before revokes the grant of its first redemption and answers
// ErrCodeReused; an unknown or expired code answers ErrNotFound.
func (s *OAuthStore) RedeemCode(ctx context.Context, codeHash []byte, grantID string, now time.Time) (*oauth.AuthRequest, error) {
	var (
		req      *oauth.AuthRequest
		reuseErr error
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		req, err = scanAuthRequest(tx.QueryRow(ctx, `UPDATE custom_gpt_auth_requests
			SET code_used_at = $2, grant_id = $3
			WHERE code_hash = $1 AND code_used_at IS NULL AND done AND code_issued_at > $4
			RETURNING `+authRequestColumns, codeHash, now, grantID, now.Add(-oauth.CodeLifetime)))
		if errors.Is(err, oauth.ErrNotFound) {
			var firstGrant *string
			lookup := tx.QueryRow(ctx, `SELECT grant_id FROM custom_gpt_auth_requests
				WHERE code_hash = $1 AND code_used_at IS NOT NULL`, codeHash).Scan(&firstGrant)
			if errors.Is(lookup, pgx.ErrNoRows) {
				return oauth.ErrNotFound
			}
			if lookup != nil {
				return lookup
			}
			if firstGrant != nil {
				if err := revokeGrant(ctx, tx, *firstGrant, now); err != nil {
					return err
				}
			}
			reuseErr = oauth.ErrCodeReused
			return nil // commit the revocation
		}
		if err != nil {
			return err
		}
		if err := lockActiveUser(ctx, tx, req.Subject); err != nil {
			return err
		}
		return insertGrant(ctx, tx, &oauth.Grant{ID: grantID, ClientID: req.ClientID, AppID: req.AppID, Subject: req.Subject,
			Scopes: req.Scopes, Resource: req.Resource, AuthTime: req.AuthTime, CreatedAt: now})
	})
	if err != nil {
		return nil, err
	}
	if reuseErr != nil {
		return nil, reuseErr
	}
	return req, nil
}

// CreateGrant stores a grant that does not come from a code (client credentials).
func (s *OAuthStore) CreateGrant(ctx context.Context, g *oauth.Grant) error {
	return insertGrant(ctx, s.pool, g)
}

func insertGrant(ctx context.Context, db execer, g *oauth.Grant) error {
	_, err := db.Exec(ctx, `INSERT INTO custom_gpt_oauth_grants (id, client_id, app_id, subject, scopes, resource, auth_time, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, g.ID, g.ClientID, g.AppID, g.Subject, nonNil(g.Scopes), g.Resource, nullTime(g.AuthTime), g.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert grant: %w", err)
	}
	return nil
}

// Grant returns a grant, revoked or not.
func (s *OAuthStore) Grant(ctx context.Context, id string) (*oauth.Grant, error) {
	var (
		g                 oauth.Grant
		scopes            []string
		authTime, revoked pgtime
	)
	err := s.pool.QueryRow(ctx, `SELECT id, client_id, app_id, subject, scopes, resource, auth_time, created_at, revoked_at
		FROM custom_gpt_oauth_grants WHERE id = $1`, id).Scan(&g.ID, &g.ClientID, &g.AppID, &g.Subject, &scopes, &g.Resource, &authTime, &g.CreatedAt, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, oauth.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	g.Scopes, g.AuthTime, g.RevokedAt, g.CreatedAt = scopes, authTime.t(), revoked.t(), g.CreatedAt.UTC()
	return &g, nil
}

// RevokeGrant revokes a grant and with it every token it issued.
func (s *OAuthStore) RevokeGrant(ctx context.Context, id string, now time.Time) error {
	return revokeGrant(ctx, s.pool, id, now)
}

func revokeGrant(ctx context.Context, db execer, id string, now time.Time) error {
	_, err := db.Exec(ctx, `UPDATE custom_gpt_oauth_grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, now)
	if err != nil {
		return fmt.Errorf("revoke grant: %w", err)
	}
	return nil
}

// lockActiveUser refuses a user who is not active, or gone, with
// ErrUserDisabled. The shared row lock makes a concurrent disable wait until
// this transaction has committed, so the grant revocation that follows every
// disable also reaches what this transaction issues.
func lockActiveUser(ctx context.Context, tx pgx.Tx, userID string) error {
	var status string
	err := tx.QueryRow(ctx, `SELECT status FROM custom_gpt_users WHERE id = $1 FOR SHARE`, userID).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && status != "active" {
		return oauth.ErrUserDisabled
	}
	if err != nil {
		return fmt.Errorf("user of the grant: %w", err)
	}
	return nil
}

// RevokeGrantsOfSubject revokes every grant of an end user and forgets their
// authorization requests whose code is not redeemed yet (on disable).
func (s *OAuthStore) RevokeGrantsOfSubject(ctx context.Context, subject string, now time.Time) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE custom_gpt_oauth_grants SET revoked_at = $2 WHERE subject = $1 AND revoked_at IS NULL`, subject, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM custom_gpt_auth_requests WHERE subject = $1 AND code_used_at IS NULL`, subject)
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke grants of subject: %w", err)
	}
	return nil
}

// LiveGrantsOfSubject returns an end user's grants that can still be used:
// not revoked, with a refresh token neither used nor expired. Oldest first.
func (s *OAuthStore) LiveGrantsOfSubject(ctx context.Context, subject string, now time.Time) ([]*oauth.Grant, error) {
	rows, err := s.pool.Query(ctx, `SELECT g.id, g.client_id, g.app_id, g.subject, g.scopes, g.auth_time, g.created_at
		FROM custom_gpt_oauth_grants g
		WHERE g.subject = $1 AND g.revoked_at IS NULL AND EXISTS (SELECT 1 FROM custom_gpt_refresh_tokens t
			WHERE t.grant_id = g.id AND t.used_at IS NULL AND t.expires_at > $2)
		ORDER BY g.created_at, g.id`, subject, now)
	if err != nil {
		return nil, fmt.Errorf("live grants of subject: %w", err)
	}
	defer rows.Close()
	var out []*oauth.Grant
	for rows.Next() {
		var (
			g        oauth.Grant
			scopes   []string
			authTime pgtime
		)
		if err := rows.Scan(&g.ID, &g.ClientID, &g.AppID, &g.Subject, &scopes, &authTime, &g.CreatedAt); err != nil {
			return nil, fmt.Errorf("scan grant: %w", err)
		}
		g.Scopes, g.AuthTime, g.CreatedAt = scopes, authTime.t(), g.CreatedAt.UTC()
		out = append(out, &g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("live grants of subject: %w", err)
	}
	return out, nil
}

// RevokeGrantsOfClient ends an end user's connection to one application: it
// revokes every grant of theirs to it, with all their tokens, and forgets
// their authorization requests to it whose code is not redeemed yet.
func (s *OAuthStore) RevokeGrantsOfClient(ctx context.Context, subject, clientID string, now time.Time) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE custom_gpt_oauth_grants SET revoked_at = $3
			WHERE subject = $1 AND client_id = $2 AND revoked_at IS NULL`, subject, clientID, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM custom_gpt_auth_requests
			WHERE subject = $1 AND client_id = $2 AND code_used_at IS NULL`, subject, clientID)
		return err
	})
	if unencodable(err) {
		return nil // a client id Postgres cannot hold has no grants
	}
	if err != nil {
		return fmt.Errorf("revoke grants of client: %w", err)
	}
	return nil
}

// SaveRefreshToken stores the hash of a new refresh token of a grant.
func (s *OAuthStore) SaveRefreshToken(ctx context.Context, hash []byte, grantID string, expires, now time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO custom_gpt_refresh_tokens (token_hash, grant_id, expires_at, created_at)
		VALUES ($1, $2, $3, $4)`, hash, grantID, expires, now)
	if err != nil {
		return fmt.Errorf("save refresh token: %w", err)
	}
	return nil
}

// UseRefreshToken consumes a refresh token and returns its live grant. A token
// used before revokes its grant and answers ErrRefreshReused (RFC 9700 4.14.2);
// an unknown or expired token, or one of a revoked grant, answers ErrNotFound;
// one of a disabled user, ErrUserDisabled.
func (s *OAuthStore) UseRefreshToken(ctx context.Context, hash []byte, now time.Time) (*oauth.Grant, error) {
	var (
		grantID  string
		reuseErr error
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE custom_gpt_refresh_tokens SET used_at = $2
			WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING grant_id`, hash, now).Scan(&grantID)
		if err == nil {
			var subject string
			if err := tx.QueryRow(ctx, `SELECT subject FROM custom_gpt_oauth_grants WHERE id = $1`, grantID).Scan(&subject); err != nil {
				return fmt.Errorf("grant of refresh token: %w", err)
			}
			return lockActiveUser(ctx, tx, subject)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var used pgtime
		lookup := tx.QueryRow(ctx, `SELECT grant_id, used_at FROM custom_gpt_refresh_tokens WHERE token_hash = $1`, hash).Scan(&grantID, &used)
		if errors.Is(lookup, pgx.ErrNoRows) || (lookup == nil && !used.Valid) {
			return oauth.ErrNotFound // unknown, or expired unused
		}
		if lookup != nil {
			return lookup
		}
		if err := revokeGrant(ctx, tx, grantID, now); err != nil {
			return err
		}
		reuseErr = oauth.ErrRefreshReused
		return nil
	})
	if err != nil {
		return nil, err
	}
	if reuseErr != nil {
		return nil, reuseErr
	}
	g, err := s.Grant(ctx, grantID)
	if err != nil {
		return nil, err
	}
	if g.Revoked() {
		return nil, oauth.ErrNotFound
	}
	return g, nil
}

// RefreshTokenGrant returns the grant of a refresh token without using it (for
// revocation and introspection).
func (s *OAuthStore) RefreshTokenGrant(ctx context.Context, hash []byte) (*oauth.Grant, error) {
	var grantID string
	err := s.pool.QueryRow(ctx, `SELECT grant_id FROM custom_gpt_refresh_tokens WHERE token_hash = $1`, hash).Scan(&grantID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, oauth.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.Grant(ctx, grantID)
}

// RevokeAccessToken records an access token's revocation until it expires.
func (s *OAuthStore) RevokeAccessToken(ctx context.Context, jti string, expires time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO custom_gpt_revoked_access_tokens (jti, expires_at) VALUES ($1, $2)
		ON CONFLICT (jti) DO NOTHING`, jti, expires)
	return err
}

// AccessTokenRevoked tells whether an access token was revoked, alone or with
// its grant, or its end user is disabled (a client_credentials grant's subject
// is its application, never a user). One query: it runs on every API request
// made with a token.
func (s *OAuthStore) AccessTokenRevoked(ctx context.Context, grantID, jti string) (bool, error) {
	var revoked bool
	err := s.pool.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM custom_gpt_oauth_grants WHERE id = $1 AND revoked_at IS NOT NULL)
		OR NOT EXISTS (SELECT 1 FROM custom_gpt_oauth_grants WHERE id = $1)
		OR EXISTS (SELECT 1 FROM custom_gpt_revoked_access_tokens WHERE jti = $2)
		OR EXISTS (SELECT 1 FROM custom_gpt_oauth_grants g JOIN custom_gpt_users u ON u.id = g.subject
			WHERE g.id = $1 AND u.status <> 'active')`, grantID, jti).Scan(&revoked)
	return revoked, err
}
