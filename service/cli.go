package service

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/cli"
)

// CLI is the command line's wiring (a cli.Wiring): the configuration read
// from getenv, and how to migrate and connect with it.
func CLI(getenv func(string) string) (cli.Setup, error) { return CLIWith()(getenv) }

// CLIWith is CLI whose services are built with opts: component tests give
// the service they drive through the command line a tracer of their own.
func CLIWith(opts ...Option) cli.Wiring {
	return func(getenv func(string) string) (cli.Setup, error) { return setup(getenv, opts) }
}

func setup(getenv func(string) string, opts []Option) (cli.Setup, error) {
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return cli.Setup{}, err
	}
	return cli.Setup{
		LogLevel:    cfg.LogLevel,
		HTTPAddr:    cfg.HTTPAddr,
		WorkerAddr:  cfg.WorkerAddr,
		MemoryBank:  memoryBankNotes(cfg),
		AutoMigrate: cfg.AutoMigrate,
		Migrate:     func(ctx context.Context) (int, error) { return migrate(ctx, cfg.DatabaseURL) },
		Connect: func(ctx context.Context, log *slog.Logger) (cli.Runtime, error) {
			s, err := New(ctx, cfg, log, opts...)
			if err != nil {
				return nil, err
			}
			return cliRuntime{s}, nil
		},
	}, nil
}

// memoryBankNotes is what a serving process says about its Memory Bank.
func memoryBankNotes(cfg Config) cli.MemoryBank {
	if cfg.MemoryBankURL == "" {
		return cli.MemoryBank{Flavor: "embedded", Warnings: []cli.Warning{{
			Msg: "CUSTOM_GPT_MEMORY_BANK_URL is unset: using the embedded Memory Bank in Postgres, meant for local use only"}}}
	}
	notes := cli.MemoryBank{Flavor: string(cfg.MemoryBankFlavor)}
	if cfg.BreakerFailures > cfg.RetryMax {
		// Not refused: a deployment may prefer parking to queueing. But commands
		// queue through an outage only if the breaker opens before they run out of retries.
		notes.Warnings = append(notes.Warnings, cli.Warning{
			Msg:  "CUSTOM_GPT_MEMORY_BANK_BREAKER_FAILURES is above CUSTOM_GPT_RETRY_MAX: during a Memory Bank outage commands may exhaust their retries and be parked before the breaker opens",
			Args: []any{"breaker_failures", cfg.BreakerFailures, "retry_max", cfg.RetryMax}})
	}
	return notes
}

// migrate creates the database when missing and applies pending migrations.
func migrate(ctx context.Context, databaseURL string) (int, error) {
	if err := postgres.EnsureDatabase(ctx, databaseURL); err != nil {
		return 0, fmt.Errorf("CUSTOM_GPT_DATABASE_URL: %w", err)
	}
	pool, err := postgres.Connect(ctx, databaseURL, 2, nil)
	if err != nil {
		return 0, fmt.Errorf("CUSTOM_GPT_DATABASE_URL: %w", err)
	}
	defer pool.Close()
	return postgres.Migrate(ctx, pool)
}

// cliRuntime is a Service as the command line sees it.
type cliRuntime struct{ *Service }

func (r cliRuntime) RotateSigningKey(ctx context.Context) (cli.SigningKey, error) {
	k, err := r.Service.RotateSigningKey(ctx)
	return cli.SigningKey{KID: k.KID, Algorithm: k.Algorithm}, err
}

func (r cliRuntime) RewrapSecrets(ctx context.Context) (cli.RewrapResult, error) {
	res, err := r.Service.RewrapSecrets(ctx)
	return cli.RewrapResult(res), err
}
