// Package postgres implements the service's repositories, unit of work and
// transactional outbox on PostgreSQL through pgx.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

// Connect opens a pool; it does not fail when Postgres is down, so /readyz can
// report it and the pool reconnects by itself when Postgres returns. With a
// recording tp, each statement, batch and wait for a connection made inside
// a trace is a span of it (otelpgx makes none outside one, so background
// polls cost nothing); the statements' text is kept, never their arguments.
func Connect(ctx context.Context, url string, maxConns int32, tp trace.TracerProvider) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	if tracing.On(tp) {
		cfg.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithTracerProvider(tp))
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}

// EnsureDatabase creates the database named in url if it does not exist, by
// connecting to the server's "postgres" maintenance database.
func EnsureDatabase(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("parse database url: %w", err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to maintenance database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created meanwhile by someone else
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %q: %w", name, err)
	}
	return nil
}

// unencodable reports whether Postgres refused a text parameter it cannot
// hold: a NUL byte or invalid UTF-8 (SQLSTATE 22021). Such a value, say an id
// from a request's path, names no row, so lookups answer "not found" rather
// than fail.
func unencodable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "22021"
}

// dbError maps "no rows", and a key Postgres cannot encode, to a NotFound of
// the given slug and wraps the rest.
func dbError(err error, slug, what string) error {
	if errors.Is(err, pgx.ErrNoRows) || unencodable(err) {
		return errs.NotFound(slug, what+" not found")
	}
	return fmt.Errorf("%s: %w", what, err)
}

// execer runs a statement on a pool or inside a transaction alike.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}
