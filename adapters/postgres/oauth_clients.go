package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// Clients that registered themselves (oauth.Client), and the applications
// each reached, live beside the grants they lead to.

const clientColumns = `c.id, c.kind, c.name, c.uri, c.redirect_uris, c.auth_method, c.secret_hash, c.created_at, c.refresh_at`

func scanClient(row pgx.Row, extra ...any) (*oauth.Client, error) {
	var (
		c       oauth.Client
		kind    string
		refresh pgtime
	)
	err := row.Scan(append([]any{&c.ID, &kind, &c.Name, &c.URI, &c.RedirectURIs, &c.AuthMethod, &c.SecretHash,
		&c.CreatedAt, &refresh}, extra...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, oauth.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("scan client: %w", err)
	}
	c.Kind, c.RefreshAt, c.CreatedAt = oauth.ClientKind(kind), refresh.t(), c.CreatedAt.UTC()
	return &c, nil
}

// RegisterClient stores a dynamically registered client.
func (s *OAuthStore) RegisterClient(ctx context.Context, c *oauth.Client) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO custom_gpt_oauth_clients
		(id, kind, name, uri, redirect_uris, auth_method, secret_hash, created_at, refresh_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, string(c.Kind), c.Name, c.URI, nonNil(c.RedirectURIs), c.AuthMethod, c.SecretHash, c.CreatedAt, nullTime(c.RefreshAt))
	if err != nil {
		return fmt.Errorf("register client: %w", err)
	}
	return nil
}

// SaveMetadataClient stores what a client's metadata document said, fetched
// now, replacing what an earlier fetch said.
func (s *OAuthStore) SaveMetadataClient(ctx context.Context, c *oauth.Client) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO custom_gpt_oauth_clients
		(id, kind, name, uri, redirect_uris, auth_method, created_at, refresh_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, uri = excluded.uri,
			redirect_uris = excluded.redirect_uris, auth_method = excluded.auth_method, refresh_at = excluded.refresh_at`,
		c.ID, string(oauth.KindMetadataDocument), c.Name, c.URI, nonNil(c.RedirectURIs), c.AuthMethod, c.CreatedAt, nullTime(c.RefreshAt))
	if err != nil {
		return fmt.Errorf("save metadata client: %w", err)
	}
	return nil
}

// Client returns a registered client, or oauth.ErrNotFound.
func (s *OAuthStore) Client(ctx context.Context, id string) (*oauth.Client, error) {
	c, err := scanClient(s.pool.QueryRow(ctx, `SELECT `+clientColumns+` FROM custom_gpt_oauth_clients c WHERE c.id = $1`, id))
	if unencodable(err) {
		return nil, oauth.ErrNotFound
	}
	return c, err
}

// UseClient records that a client asked to reach an application, and tells
// whether the application's operator revoked it there.
func (s *OAuthStore) UseClient(ctx context.Context, appID, clientID string, now time.Time) (revoked bool, err error) {
	err = s.pool.QueryRow(ctx, `INSERT INTO custom_gpt_app_clients (app_id, client_id, first_used, last_used)
		VALUES ($1, $2, $3, $3)
		ON CONFLICT (app_id, client_id) DO UPDATE SET last_used = greatest(custom_gpt_app_clients.last_used, excluded.last_used)
		RETURNING revoked_at IS NOT NULL`, appID, clientID, now).Scan(&revoked)
	if err != nil {
		return false, fmt.Errorf("use client: %w", err)
	}
	return revoked, nil
}

// ClientRevoked tells whether an application's operator revoked a client.
func (s *OAuthStore) ClientRevoked(ctx context.Context, appID, clientID string) (bool, error) {
	var revoked bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM custom_gpt_app_clients
		WHERE app_id = $1 AND client_id = $2 AND revoked_at IS NOT NULL)`, appID, clientID).Scan(&revoked)
	if err != nil {
		return false, fmt.Errorf("client revoked: %w", err)
	}
	return revoked, nil
}

// ClientsOfApp lists the clients that asked to reach an application, revoked
// or not, in the order they first did.
func (s *OAuthStore) ClientsOfApp(ctx context.Context, appID string) ([]oauth.ClientLink, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+clientColumns+`, l.first_used, l.last_used, l.revoked_at
		FROM custom_gpt_app_clients l JOIN custom_gpt_oauth_clients c ON c.id = l.client_id
		WHERE l.app_id = $1 ORDER BY l.first_used, c.id`, appID)
	if err != nil {
		return nil, fmt.Errorf("clients of app: %w", err)
	}
	defer rows.Close()
	out := []oauth.ClientLink{}
	for rows.Next() {
		l := oauth.ClientLink{AppID: appID}
		var revoked pgtime
		c, err := scanClient(rows, &l.FirstUsed, &l.LastUsed, &revoked)
		if err != nil {
			return nil, err
		}
		l.Client, l.RevokedAt = *c, revoked.t()
		l.FirstUsed, l.LastUsed = l.FirstUsed.UTC(), l.LastUsed.UTC()
		out = append(out, l)
	}
	return out, rows.Err()
}

// RevokeClient stops a client reaching an application, for good: every grant
// it holds there is revoked with its tokens, its pending requests are
// forgotten, and it is refused from then on. An unknown client is
// oauth.ErrNotFound.
func (s *OAuthStore) RevokeClient(ctx context.Context, appID, clientID string, now time.Time) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO custom_gpt_app_clients (app_id, client_id, first_used, last_used, revoked_at)
			SELECT $1, id, $3, $3, $3 FROM custom_gpt_oauth_clients WHERE id = $2
			ON CONFLICT (app_id, client_id) DO UPDATE
			SET revoked_at = coalesce(custom_gpt_app_clients.revoked_at, excluded.revoked_at)`, appID, clientID, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return oauth.ErrNotFound
		}
		if _, err := tx.Exec(ctx, `UPDATE custom_gpt_oauth_grants SET revoked_at = $3
			WHERE app_id = $1 AND client_id = $2 AND revoked_at IS NULL`, appID, clientID, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM custom_gpt_auth_requests
			WHERE app_id = $1 AND client_id = $2 AND code_used_at IS NULL`, appID, clientID)
		return err
	})
	if unencodable(err) {
		return oauth.ErrNotFound
	}
	if err != nil && !errors.Is(err, oauth.ErrNotFound) {
		return fmt.Errorf("revoke client: %w", err)
	}
	return err
}
