package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// ApplicationRepository stores applications in custom_gpt_applications.
type ApplicationRepository struct{ pool *pgxpool.Pool }

func NewApplicationRepository(pool *pgxpool.Pool) *ApplicationRepository {
	return &ApplicationRepository{pool: pool}
}

const appColumns = `id, name, status, key_hash, client_secret_hash, redirect_uris, created_at, updated_at,
	rate_limit_rps, rate_limit_burst, user_rate_limit_rps, user_rate_limit_burst, mcp_enabled, mcp_redirect_hosts`

func scanApp(row pgx.Row) (*application.Application, error) {
	var (
		id, name, status string
		hash             []byte
		client           application.OAuthClient
		created, updated time.Time
		limits           [4]*int32 // NULL: the default
		mcp              bool
		redirectHosts    []string
	)
	if err := row.Scan(&id, &name, &status, &hash, &client.SecretHash, &client.RedirectURIs, &created, &updated,
		&limits[0], &limits[1], &limits[2], &limits[3], &mcp, &redirectHosts); err != nil {
		return nil, err
	}
	n := func(v *int32) int {
		if v == nil {
			return 0
		}
		return int(*v)
	}
	return application.UnmarshalFromDatabase(id, name, application.Status(status), hash, client, created.UTC(), updated.UTC()).
		WithStoredRateLimits(application.RateLimits{
			App:  application.Rate{PerSecond: n(limits[0]), Burst: n(limits[1])},
			User: application.Rate{PerSecond: n(limits[2]), Burst: n(limits[3])},
		}).WithStoredMCP(mcp, redirectHosts), nil
}

// nullIfZero stores an unset override as NULL.
func nullIfZero(n int) *int32 {
	if n == 0 {
		return nil
	}
	v := int32(n)
	return &v
}

func (r *ApplicationRepository) Add(ctx context.Context, a *application.Application) error {
	l := a.RateLimits()
	_, err := r.pool.Exec(ctx, `INSERT INTO custom_gpt_applications (`+appColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		a.ID(), a.Name(), string(a.Status()), a.KeyHash(), a.OAuthClient().SecretHash, nonNil(a.OAuthClient().RedirectURIs),
		a.CreatedAt(), a.UpdatedAt(),
		nullIfZero(l.App.PerSecond), nullIfZero(l.App.Burst), nullIfZero(l.User.PerSecond), nullIfZero(l.User.Burst), a.MCPEnabled(), nonNil(a.MCPRedirectHosts()))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return &errs.Error{Kind: errs.KindConflict, Slug: "application-exists", Field: "app_id", Detail: "an application with this id exists"}
	}
	if err != nil {
		return fmt.Errorf("insert application: %w", err)
	}
	return nil
}

func (r *ApplicationRepository) Get(ctx context.Context, id string) (*application.Application, error) {
	a, err := scanApp(r.pool.QueryRow(ctx, `SELECT `+appColumns+` FROM custom_gpt_applications WHERE id = $1`, id))
	if err != nil {
		return nil, dbError(err, "application-not-found", "application")
	}
	return a, nil
}

func (r *ApplicationRepository) ByKeyHash(ctx context.Context, hash []byte) (*application.Application, error) {
	a, err := scanApp(r.pool.QueryRow(ctx, `SELECT `+appColumns+` FROM custom_gpt_applications WHERE key_hash = $1`, hash))
	if err != nil {
		return nil, dbError(err, "application-not-found", "application")
	}
	return a, nil
}

func (r *ApplicationRepository) List(ctx context.Context) ([]*application.Application, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+appColumns+` FROM custom_gpt_applications ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	defer rows.Close()
	var apps []*application.Application
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, fmt.Errorf("scan application: %w", err)
		}
		apps = append(apps, a)
	}
	return apps, rows.Err()
}

func (r *ApplicationRepository) Update(ctx context.Context, id string, fn func(*application.Application) error) error {
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		a, err := scanApp(tx.QueryRow(ctx, `SELECT `+appColumns+` FROM custom_gpt_applications WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return dbError(err, "application-not-found", "application")
		}
		if err := fn(a); err != nil {
			return err
		}
		l := a.RateLimits()
		_, err = tx.Exec(ctx, `UPDATE custom_gpt_applications
			SET name = $2, status = $3, key_hash = $4, client_secret_hash = $5, redirect_uris = $6, updated_at = $7,
				rate_limit_rps = $8, rate_limit_burst = $9, user_rate_limit_rps = $10, user_rate_limit_burst = $11,
				mcp_enabled = $12, mcp_redirect_hosts = $13 WHERE id = $1`,
			a.ID(), a.Name(), string(a.Status()), a.KeyHash(), a.OAuthClient().SecretHash, nonNil(a.OAuthClient().RedirectURIs), a.UpdatedAt(),
			nullIfZero(l.App.PerSecond), nullIfZero(l.App.Burst), nullIfZero(l.User.PerSecond), nullIfZero(l.User.Burst),
			a.MCPEnabled(), nonNil(a.MCPRedirectHosts()))
		if err != nil {
			return fmt.Errorf("update application: %w", err)
		}
		return nil
	})
}
