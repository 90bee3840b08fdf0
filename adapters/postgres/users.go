package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/user"
)

// UserRepository stores end users in custom_gpt_users.
type UserRepository struct{ pool *pgxpool.Pool }

var _ user.Repository = (*UserRepository)(nil)

func NewUserRepository(pool *pgxpool.Pool) *UserRepository { return &UserRepository{pool: pool} }

const userColumns = `id, email, password_hash, status, upstream_sub, created_at, updated_at`

func scanUser(row pgx.Row) (*user.User, error) {
	var (
		id, email, status string
		hash, upstreamSub pgtype.Text
		created, updated  time.Time
	)
	if err := row.Scan(&id, &email, &hash, &status, &upstreamSub, &created, &updated); err != nil {
		return nil, err
	}
	return user.UnmarshalFromDatabase(id, email, hash.String, user.Status(status), upstreamSub.String, created.UTC(), updated.UTC()), nil
}

// nullText stores "" as NULL: the unique index on upstream_sub must not see
// every local account as holding the same empty subject.
func nullText(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }

// userWriteError maps unique violations to conflicts on the field at fault.
func userWriteError(err error, what string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		switch pgErr.ConstraintName {
		case "custom_gpt_users_email":
			return &errs.Error{Kind: errs.KindConflict, Slug: "email-taken", Field: "email", Detail: "an account with this email exists"}
		case "custom_gpt_users_upstream_sub":
			return &errs.Error{Kind: errs.KindConflict, Slug: "upstream-account-taken", Field: "upstream_sub", Detail: "this upstream account is linked to another user"}
		case "custom_gpt_users_pkey":
			return &errs.Error{Kind: errs.KindConflict, Slug: "user-exists", Field: "user_id", Detail: "a user with this id exists"}
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (r *UserRepository) Add(ctx context.Context, u *user.User) error {
	_, err := r.pool.Exec(ctx, `INSERT INTO custom_gpt_users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.ID(), u.Email(), nullText(u.PasswordHash()), string(u.Status()), nullText(u.UpstreamSub()), u.CreatedAt(), u.UpdatedAt())
	return userWriteError(err, "insert user")
}

func (r *UserRepository) Get(ctx context.Context, id string) (*user.User, error) {
	u, err := scanUser(r.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM custom_gpt_users WHERE id = $1`, id))
	if err != nil {
		return nil, dbError(err, "user-not-found", "user")
	}
	return u, nil
}

// ByEmail compares lower(email) on both sides, which is what the unique index
// holds, so the lookup uses it and agrees with the conflict check of Add.
func (r *UserRepository) ByEmail(ctx context.Context, email string) (*user.User, error) {
	u, err := scanUser(r.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM custom_gpt_users WHERE lower(email) = lower($1)`,
		user.NormalizeEmail(email)))
	if err != nil {
		return nil, dbError(err, "user-not-found", "user")
	}
	return u, nil
}

// ByUpstreamSub finds the user linked to an upstream subject (see
// user.UpstreamSubject); the partial unique index on upstream_sub serves it.
func (r *UserRepository) ByUpstreamSub(ctx context.Context, upstreamSub string) (*user.User, error) {
	if upstreamSub == "" { // NULL is never a subject; "" would match nothing anyway
		return nil, errs.NotFound("user-not-found", "user not found")
	}
	u, err := scanUser(r.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM custom_gpt_users WHERE upstream_sub = $1`, upstreamSub))
	if err != nil {
		return nil, dbError(err, "user-not-found", "user")
	}
	return u, nil
}

func (r *UserRepository) Update(ctx context.Context, id string, fn func(*user.User) error) error {
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM custom_gpt_users WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return dbError(err, "user-not-found", "user")
		}
		if err := fn(u); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE custom_gpt_users SET email = $2, password_hash = $3, status = $4, upstream_sub = $5, updated_at = $6 WHERE id = $1`,
			u.ID(), u.Email(), nullText(u.PasswordHash()), string(u.Status()), nullText(u.UpstreamSub()), u.UpdatedAt())
		return userWriteError(err, "update user")
	})
}
