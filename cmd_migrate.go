package main

import (
	"context"
	"fmt"
	"io"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

// runMigrate creates the database when missing and applies pending migrations.
func runMigrate(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := service.LoadConfig(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	if err := postgres.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return fmt.Errorf("CUSTOM_GPT_DATABASE_URL: %w", err)
	}
	pool, err := postgres.Connect(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return fmt.Errorf("CUSTOM_GPT_DATABASE_URL: %w", err)
	}
	defer pool.Close()
	n, err := postgres.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrations applied: %d\n", n)
	return nil
}
