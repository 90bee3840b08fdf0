// Package pgtest gives each test a fresh, migrated PostgreSQL database of its own
// on the machine's real server, dropped when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
)

// ServerURL is the server tests create their databases on; override with
// CUSTOM_GPT_TEST_DATABASE_URL.
func ServerURL() string {
	if u := os.Getenv("CUSTOM_GPT_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// NewURL returns the URL of a new, empty database that is dropped at cleanup.
func NewURL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(ServerURL())
	if err != nil {
		t.Fatalf("parse test database url: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "custom_gpt_test_" + hex.EncodeToString(b[:])
	conn, err := connectServer(ctx, cfg)
	if err != nil {
		t.Fatalf("connect to test postgres (is it running?): %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.ConnectConfig(context.Background(), cfg)
		if err != nil {
			t.Logf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(ServerURL())
	if err != nil {
		t.Fatalf("parse test database url: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// connectServer connects to the database of ServerURL, creating it first
// when the server has none such: a server fresh from its package or from
// compose.dev.yaml holds only postgres (and custom_gpt).
func connectServer(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	var pgErr *pgconn.PgError
	if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // database does not exist
		return conn, err
	}
	if err := postgres.EnsureDatabase(ctx, ServerURL()); err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// NewPool returns a pool on a new, migrated database.
func NewPool(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	dbURL := NewURL(t)
	pool, err := postgres.Connect(context.Background(), dbURL, 10, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(pool.Close)
	if _, err := postgres.Migrate(context.Background(), pool); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return pool, dbURL
}
