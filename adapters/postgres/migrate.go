package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/migrations"
)

const migrationsTable = "custom_gpt_schema_migrations"

// ErrNotMigrated means the database schema is older than this binary.
var ErrNotMigrated = errors.New("the database is not migrated: run `custom-gpt-adapter migrate` (or set CUSTOM_GPT_AUTO_MIGRATE=true)")

func provider(pool *pgxpool.Pool) (*goose.Provider, *sql.DB, error) {
	db := stdlib.OpenDBFromPool(pool)
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithTableName(migrationsTable), goose.WithSessionLocker(locker))
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return p, db, nil
}

// Migrate applies every pending migration; concurrent callers wait on a lock.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (applied int, err error) {
	p, db, err := provider(pool)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate: %w", err)
	}
	return len(res), nil
}

// CheckMigrated returns ErrNotMigrated when migrations are pending.
func CheckMigrated(ctx context.Context, pool *pgxpool.Pool) error {
	p, db, err := provider(pool)
	if err != nil {
		return err
	}
	defer db.Close()
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current < target {
		return fmt.Errorf("%w (schema version %d, binary needs %d)", ErrNotMigrated, current, target)
	}
	return nil
}
