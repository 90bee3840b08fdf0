package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

func TestMigrateIsRequiredAndIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := postgres.Connect(ctx, pgtest.NewURL(t), 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	if err := postgres.CheckMigrated(ctx, pool); !errors.Is(err, postgres.ErrNotMigrated) {
		t.Fatalf("empty database: want ErrNotMigrated, got %v", err)
	}
	n, err := postgres.Migrate(ctx, pool)
	if err != nil || n == 0 {
		t.Fatalf("first migrate: %d %v", n, err)
	}
	if err := postgres.CheckMigrated(ctx, pool); err != nil {
		t.Fatalf("after migrate: %v", err)
	}
	if n, err := postgres.Migrate(ctx, pool); err != nil || n != 0 {
		t.Fatalf("second migrate must apply nothing: %d %v", n, err)
	}
}
