package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	goredis "github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/secrets"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
)

// MemoryBank is every Memory Bank call the use cases make.
type MemoryBank interface {
	command.MemoryBank
	command.MemoryEditor
	query.MemoryBank
	query.MemoryReader
}

// Infrastructure is what a process connects to, once: Postgres, Redis, the
// keyring that seals secrets at rest, the Memory Bank, and the registry their
// metrics go to. The use cases, the ports and the worker's loops are built
// over it.
type Infrastructure struct {
	Pool  *pgxpool.Pool
	Redis goredis.UniversalClient // readiness, rate limits, commands, trimming
	// RedisOptions make the worker's subscribers and publishers, one client
	// each: closing one closes its client.
	RedisOptions *redis.Options
	Keyring      *secrets.Keyring          // seals the signing keys and webhook secrets in Postgres
	Keys         *postgres.SigningKeyStore // one cache of the token signing keys per process
	Bank         MemoryBank                // as the API's reads call it
	WorkerBank   MemoryBank                // as the worker's commands call it: paced
	Registry     *prometheus.Registry
	Consumers    *redis.ConsumerHealth  // the worker's consumers, for readiness
	Refusals     *postgres.AuditBatcher // audit entries of rate-limited requests, written in batches
	// Tracer makes the spans of every request and message: the no-op
	// provider when tracing is off (tracing.On tells).
	Tracer      trace.TracerProvider
	stopTracing func(context.Context) error // flushes the spans still buffered; nil: nothing to flush
	commands    *commandQueue               // set by NewApplication
}

// Connect opens what cfg names. A process without a secrets key stops before
// it connects to anything; an unmigrated database is refused unless
// cfg.AutoMigrate is set.
func Connect(ctx context.Context, cfg Config, log *slog.Logger, opts ...Option) (_ *Infrastructure, err error) {
	in := &Infrastructure{Registry: prometheus.NewRegistry(), Consumers: redis.NewConsumerHealth(0)}
	in.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if in.Keyring, err = openKeyring(cfg, log); err != nil {
		return nil, err
	}
	if in.Tracer, in.stopTracing, err = openTracing(ctx, cfg, optionsOf(opts).tracer); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			in.Close()
		}
	}()
	if in.Pool, err = openDatabase(ctx, cfg, in.Tracer); err != nil {
		return nil, err
	}
	if err := prepareSecrets(ctx, in.Pool, in.Keyring, log); err != nil {
		return nil, err
	}
	if in.RedisOptions, err = redis.ParseURL(cfg.RedisURL, cfg.RedisMode); err != nil {
		return nil, err
	}
	in.RedisOptions = in.RedisOptions.WithTracer(in.Tracer)
	in.Redis = redis.NewClient(in.RedisOptions)
	if in.Bank, err = openMemoryBank(cfg, in); err != nil {
		return nil, err
	}
	if in.WorkerBank, err = paceForWorkers(cfg, in); err != nil {
		return nil, err
	}
	in.Keys = postgres.NewSigningKeyStore(in.Pool, cfg.SigningAlgorithm, in.Keyring)
	// Refused requests are audited in batches: a flood of 429s costs a few
	// commits a second, not one per request.
	in.Refusals = postgres.NewAuditBatcher(in.Pool, postgres.AuditBatchConfig{}, log, in.Registry)
	return in, nil
}

// Close releases the connections.
func (in *Infrastructure) Close() {
	if in.commands != nil {
		in.commands.Close() // before Redis and the pool: it queues what waits
	}
	if in.Refusals != nil {
		in.Refusals.Close() // before the pool: it writes what is queued
	}
	if in.Redis != nil {
		_ = in.Redis.Close()
	}
	if in.Pool != nil {
		in.Pool.Close()
	}
	if in.stopTracing != nil {
		// Last: the spans of everything above are flushed too.
		ctx, cancel := context.WithTimeout(context.Background(), tracingFlushTimeout)
		defer cancel()
		_ = in.stopTracing(ctx) // its failures went to otel's error handler already
	}
}

// tracingFlushTimeout bounds the export of the last spans at a stop.
const tracingFlushTimeout = 5 * time.Second

// deadLetters is the poison stream, read through the process's own Redis client.
func (in *Infrastructure) deadLetters(cfg Config) *redis.DeadLetters {
	return redis.NewDeadLetters(in.Redis, cfg.topics().Poison())
}

func openDatabase(ctx context.Context, cfg Config, tp trace.TracerProvider) (*pgxpool.Pool, error) {
	if cfg.AutoMigrate {
		if err := postgres.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
			return nil, fmt.Errorf("CUSTOM_GPT_DATABASE_URL: %w", err)
		}
	}
	pool, err := postgres.Connect(ctx, cfg.DatabaseURL, cfg.DatabaseMaxConns, tp)
	if err != nil {
		return nil, fmt.Errorf("CUSTOM_GPT_DATABASE_URL: %w", err)
	}
	if cfg.AutoMigrate {
		if _, err := postgres.Migrate(ctx, pool); err != nil {
			pool.Close()
			return nil, err
		}
		return pool, nil
	}
	if err := postgres.CheckMigrated(ctx, pool); err != nil {
		pool.Close()
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // database does not exist
			return nil, fmt.Errorf("%w: %v", postgres.ErrNotMigrated, err)
		}
		return nil, err
	}
	return pool, nil
}

// openMemoryBank opens the Memory Bank cfg names. Its warnings are said once,
// by serving processes (memoryBankNotes), not by every command.
func openMemoryBank(cfg Config, in *Infrastructure) (MemoryBank, error) {
	if cfg.MemoryBankURL == "" {
		return postgres.NewEmbeddedMemoryBank(in.Pool), nil
	}
	return memorybank.New(memorybank.Config{
		BaseURL: cfg.MemoryBankURL, Flavor: cfg.MemoryBankFlavor, APIKey: cfg.MemoryBankAPIKey,
		Timeout: cfg.MemoryBankTimeout, Infer: cfg.MemoryBankInfer, Registerer: in.Registry, Tracer: in.Tracer,
		Breaker: memorybank.BreakerConfig{ConsecutiveFailures: uint32(cfg.BreakerFailures), OpenTimeout: cfg.BreakerOpenTimeout},
	})
}

// paceForWorkers is the Memory Bank as the worker's command handlers see it:
// at most CUSTOM_GPT_WORKER_CONCURRENCY requests in flight in this process,
// and within the budget of CUSTOM_GPT_MEMORY_BANK_RATE shared by all
// processes. The API's reads use the bank itself: they answer a waiting
// caller and are bounded by the per-application API rate limits instead. The
// embedded bank is Postgres, not a remote service, and is not paced.
func paceForWorkers(cfg Config, in *Infrastructure) (MemoryBank, error) {
	client, ok := in.Bank.(*memorybank.Client)
	if !ok {
		return in.Bank, nil
	}
	tc := memorybank.ThrottleConfig{
		InFlight: cfg.WorkerConcurrency,
		// A request waits for its turn after its operation's lease was taken;
		// bounded so, the wait and the call (and a second call of the same
		// attempt) stay inside the lease. A request refused for waiting longer
		// is redelivered, not failed.
		MaxWait:    max((cfg.WorkerLease-cfg.MemoryBankTimeout)/2, 100*time.Millisecond),
		Registerer: in.Registry,
	}
	if p := cfg.Protection; p.Rate > 0 {
		b, err := redis.NewBudget(redis.NewLimiter(in.Redis, cfg.StreamPrefix), "memory-bank",
			redis.Limit{Rate: p.Rate, Period: time.Second, Burst: p.Burst})
		if err != nil {
			return nil, err
		}
		tc.Budget = b
	}
	t, err := memorybank.NewThrottle(tc)
	if err != nil {
		return nil, err
	}
	return client.Paced(t), nil
}
