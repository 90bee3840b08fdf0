// Package service wires adapters, application and ports together. It is the only
// place that knows every concrete type; main.go and the component tests call it.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/secrets"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
	porthttp "github.com/custom-gpt-adapter/custom-gpt-adapter/ports/http"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/messaging"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/oauth"
)

// memoryBank is every Memory Bank call the use cases make.
type memoryBank interface {
	command.MemoryBank
	command.MemoryEditor
	query.MemoryBank
	query.MemoryReader
}

// Service is one running instance: API, worker, or both.
type Service struct {
	cfg       Config
	log       *slog.Logger
	wlog      watermill.LoggerAdapter
	pool      *pgxpool.Pool
	redisOpt  *redis.Options
	redis     goredis.UniversalClient // readiness checks, rate limits, commands
	commands  *commandQueue
	memories  *postgres.MemoryRegistry
	consumers *redis.ConsumerHealth // the worker's consumers, for readiness
	registry  *prometheus.Registry
	topics    events.Topics
	app       app.Application
	keys      *postgres.SigningKeyStore
	keyring   *secrets.Keyring // seals the signing keys and webhook secrets in Postgres
	metrics   *decorator.Metrics
	refusals  *postgres.AuditBatcher // audit entries of rate-limited requests
	opts      options

	// The authorization server is built on first use: only API processes need
	// it, and commands such as `apps create` start faster and quieter without.
	oauthOnce sync.Once
	oauth     *oauth.Server
	oauthErr  error
	authUsers query.AuthenticateUserHandler
	tokens    *query.TokenVerifier
}

// New connects to Postgres and Redis and builds the application. It refuses an
// unmigrated database unless cfg.AutoMigrate is set.
func New(ctx context.Context, cfg Config, log *slog.Logger, opts ...Option) (*Service, error) {
	s := &Service{cfg: cfg, log: log, wlog: messaging.NewLogger(log), topics: events.Topics{Prefix: cfg.StreamPrefix}}
	for _, o := range opts {
		o(&s.opts)
	}
	s.registry = prometheus.NewRegistry()
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if err := s.openKeyring(); err != nil {
		return nil, err
	}
	if err := s.openDatabase(ctx); err != nil {
		return nil, err
	}
	if err := s.prepareSecrets(ctx); err != nil {
		s.Close()
		return nil, err
	}
	var err error
	if s.redisOpt, err = redis.ParseURL(cfg.RedisURL, cfg.RedisMode); err != nil {
		s.Close()
		return nil, err
	}
	s.redis = redis.NewClient(s.redisOpt)
	s.consumers = redis.NewConsumerHealth(0)
	bank, err := s.memoryBank()
	if err != nil {
		s.Close()
		return nil, err
	}
	worker, err := s.workerBank(bank)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.keys = postgres.NewSigningKeyStore(s.pool, s.cfg.SigningAlgorithm, s.keyring)
	if s.app, err = s.application(bank, worker); err != nil {
		s.Close()
		return nil, err
	}
	s.wireWebhooks()
	return s, nil
}

func (s *Service) openDatabase(ctx context.Context) error {
	if s.cfg.AutoMigrate {
		if err := postgres.EnsureDatabase(ctx, s.cfg.DatabaseURL); err != nil {
			return fmt.Errorf("CUSTOM_GPT_DATABASE_URL: %w", err)
		}
	}
	pool, err := postgres.Connect(ctx, s.cfg.DatabaseURL, s.cfg.DatabaseMaxConns)
	if err != nil {
		return fmt.Errorf("CUSTOM_GPT_DATABASE_URL: %w", err)
	}
	s.pool = pool
	if s.cfg.AutoMigrate {
		if _, err := postgres.Migrate(ctx, pool); err != nil {
			pool.Close()
			return err
		}
		return nil
	}
	if err := postgres.CheckMigrated(ctx, pool); err != nil {
		pool.Close()
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // database does not exist
			return fmt.Errorf("%w: %v", postgres.ErrNotMigrated, err)
		}
		return err
	}
	return nil
}

func (s *Service) memoryBank() (memoryBank, error) {
	if s.cfg.MemoryBankURL == "" {
		s.log.Warn("CUSTOM_GPT_MEMORY_BANK_URL is unset: using the embedded Memory Bank in Postgres, meant for local use only")
		return postgres.NewEmbeddedMemoryBank(s.pool), nil
	}
	if s.cfg.BreakerFailures > s.cfg.RetryMax {
		// Not refused: a deployment may prefer parking to queueing. But commands
		// queue through an outage only if the breaker opens before they run out of retries.
		s.log.Warn("CUSTOM_GPT_MEMORY_BANK_BREAKER_FAILURES is above CUSTOM_GPT_RETRY_MAX: during a Memory Bank outage commands may exhaust their retries and be parked before the breaker opens",
			"breaker_failures", s.cfg.BreakerFailures, "retry_max", s.cfg.RetryMax)
	}
	return memorybank.New(memorybank.Config{
		BaseURL: s.cfg.MemoryBankURL, Flavor: s.cfg.MemoryBankFlavor, APIKey: s.cfg.MemoryBankAPIKey,
		Timeout: s.cfg.MemoryBankTimeout, Infer: s.cfg.MemoryBankInfer, Registerer: s.registry,
		Breaker: memorybank.BreakerConfig{ConsecutiveFailures: uint32(s.cfg.BreakerFailures), OpenTimeout: s.cfg.BreakerOpenTimeout},
	})
}

func (s *Service) application(bank, workerBank memoryBank) (app.Application, error) {
	m := decorator.NewMetrics(s.registry)
	s.metrics = m
	l := s.log
	// Commands are queued after their operation commits, each as one stream
	// entry the operation notes (see LostCommands).
	bus := redis.NewCommandBus(redis.NewCommandPublisher(s.redis), s.topics, messaging.Marshaler)
	s.commands = newCommandQueue(bus, postgres.NewCommandEntries(s.pool), l, s.registry)
	s.memories = postgres.NewMemoryRegistry(s.pool)
	dl := s.deadLetters()
	s.registerDeadLetterDepth(dl)
	outbox := postgres.NewOutbox(s.topics, messaging.Marshaler, s.wlog)
	tx := postgres.NewTransactor(s.pool, outbox)
	// Refused requests are audited in batches: a flood of 429s costs a few
	// commits a second, not one per request.
	s.refusals = postgres.NewAuditBatcher(s.pool, postgres.AuditBatchConfig{}, s.log, s.registry)
	users := postgres.NewUserRepository(s.pool)
	s.authUsers = query.NewAuthenticateUserHandler(users, l, m)
	// One check of access tokens, for the API and the authorization server alike.
	s.tokens = query.NewTokenVerifier(&jwt.Verifier{Issuer: s.cfg.PublicURL, Audience: s.cfg.PublicURL, Keys: s.keys, Leeway: 30 * time.Second},
		postgres.NewOAuthStore(s.pool))
	worker := command.WorkerConfig{Lease: s.cfg.WorkerLease, OrphanAfter: s.cfg.WorkerClaimIdle}
	cmds, reg := s.commands, s.memories
	apps := postgres.NewApplicationRepository(s.pool)
	replay := command.NewReplayDeadLetterHandler(tx, dl, cmds, l, m)
	return app.Application{
		Commands: app.Commands{
			AcceptCreateMemory:   command.NewAcceptCreateMemoryHandler(tx, cmds, l, m),
			AcceptUpdateMemory:   command.NewAcceptUpdateMemoryHandler(tx, cmds, reg, l, m),
			AcceptDeleteMemory:   command.NewAcceptDeleteMemoryHandler(tx, cmds, reg, l, m),
			AcceptForgetMemories: command.NewAcceptForgetMemoriesHandler(tx, cmds, l, m),
			CreateMemory:         command.NewCreateMemoryHandler(tx, cmds, workerBank, reg, worker, l, m),
			UpdateMemory:         command.NewUpdateMemoryHandler(tx, cmds, workerBank, reg, worker, l, m),
			DeleteMemory:         command.NewDeleteMemoryHandler(tx, cmds, workerBank, reg, worker, l, m),
			ForgetMemories:       command.NewForgetMemoriesHandler(tx, cmds, workerBank, reg, worker, l, m),
			PurgeForgotten:       command.NewPurgeForgottenHandler(s.deadLetters(), l, m),
			FailOperation:        command.NewFailOperationHandler(tx, cmds, l, m),
			AdmitRequest:         command.NewAdmitRequestHandler(apiRateLimiter{redis.NewLimiter(s.redis, s.cfg.StreamPrefix)}, s.cfg.RateLimits, l, m),
			RecordRateLimited:    command.NewRecordRateLimitedHandler(s.refusals, l, m),
			AuthenticateAdmin:    command.NewAuthenticateAdminHandler(s.cfg.AdminToken, adminFailures{redis.NewLimiter(s.redis, s.cfg.StreamPrefix)}, s.refusals, l, m),
			RegisterApp:          command.NewRegisterAppHandler(apps, s.cfg.RateLimits, l, m),
			AddRedirectURI:       command.NewAddRedirectURIHandler(apps, l, m),
			RotateAPIKey:         command.NewRotateAPIKeyHandler(apps, l, m),
			RotateClientSecret:   command.NewRotateClientSecretHandler(apps, l, m),
			SetAppRateLimits:     command.NewSetAppRateLimitsHandler(apps, s.cfg.RateLimits, l, m),
			DisableApp:           command.NewDisableAppHandler(apps, l, m),
			CreateUser:           command.NewCreateUserHandler(users, l, m),
			DisableUser:          command.NewDisableUserHandler(users, postgres.NewOAuthStore(s.pool), l, m),
			ReplayDeadLetter:     replay,
			ReplayAllDeadLetters: command.NewReplayAllDeadLettersHandler(dl, replay, l, m),
			DropDeadLetter:       command.NewDropDeadLetterHandler(dl, l, m),
			ResendLostCommands:   command.NewResendLostCommandsHandler(tx, cmds, redis.NewCommandQueues(s.redis, s.topics), l, m),
		},
		Queries: app.Queries{
			Authenticate:       query.NewAuthenticateHandler(postgres.NewApplicationRepository(s.pool), s.tokens, l, m),
			AuthenticateUser:   s.authUsers,
			SearchMemories:     query.NewSearchMemoriesHandler(bank, tx, l, m),
			ListMemories:       query.NewListMemoriesHandler(reg, bank, tx, l, m),
			ExportMemories:     query.NewExportMemoriesHandler(reg, bank, tx, l, m),
			MemorySpacesOfUser: query.NewMemorySpacesOfUserHandler(reg, l, m),
			GetMemory:          query.NewGetMemoryHandler(reg, bank, tx, l, m),
			MemoryHistory:      query.NewMemoryHistoryHandler(reg, bank, tx, l, m),
			GetOperation:       query.NewGetOperationHandler(postgres.NewOperationRepository(s.pool), l, m),
			ListAudit:          query.NewListAuditHandler(postgres.NewAuditRepository(s.pool), l, m),
			ListApps:           query.NewListAppsHandler(apps, s.cfg.RateLimits, l, m),
			FindUser:           query.NewFindUserHandler(users, l, m),
			ListDeadLetters:    command.NewListDeadLettersHandler(dl, l, m),
		},
	}, nil
}

// App exposes the use cases, for the command line.
func (s *Service) App() app.Application { return s.app }

// Handler is the HTTP API and the authorization server.
func (s *Service) Handler() (http.Handler, error) {
	authz, err := s.authorizationServer()
	if err != nil {
		return nil, err
	}
	privacy, err := porthttp.LoadPrivacyPolicy(s.cfg.PrivacyPolicyFile)
	if err != nil {
		return nil, fmt.Errorf("CUSTOM_GPT_PRIVACY_POLICY_FILE: %w", err)
	}
	cfg := s.httpConfig()
	cfg.Privacy, cfg.OAuth = privacy, authz.Handler
	cfg.AdminElsewhere = s.cfg.Edge.AdminAddr != ""
	// Expired keys are purged by every 100th request that carries one.
	cfg.Idempotency = postgres.NewIdempotencyStore(s.pool, postgres.IdempotencyConfig{})
	return porthttp.NewHandler(s.app, cfg), nil
}

// httpConfig is what every listener of the HTTP port shares.
func (s *Service) httpConfig() porthttp.Config {
	return porthttp.Config{
		PublicURL:    s.cfg.PublicURL,
		AdminToken:   s.cfg.AdminToken,
		Proxies:      porthttp.Proxies{Ranges: s.cfg.Edge.TrustedProxies, Header: s.cfg.Edge.ForwardedHeader},
		Ready:        func(r *http.Request) error { return s.ready(r.Context()) },
		Gatherer:     s.registry,
		Registerer:   s.registry,
		Logger:       s.log,
		StreamPrefix: s.cfg.StreamPrefix,
	}
}

func (s *Service) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return errors.New("postgres unreachable")
	}
	// A worker whose consumer cannot read its stream takes no commands, however
	// well Redis answers a PING; named first, it says which stream.
	if err := s.consumers.Check(); err != nil {
		return err
	}
	if err := redis.Ping(ctx, s.redis); err != nil {
		return errors.New("redis unreachable")
	}
	return nil
}

// RunAPI serves HTTP until ctx ends, then drains in-flight requests.
func (s *Service) RunAPI(ctx context.Context) error {
	h, err := s.Handler()
	if err != nil {
		return err
	}
	if s.cfg.Edge.AdminAddr == "" {
		return s.serve(ctx, "CUSTOM_GPT_HTTP_ADDR", s.cfg.HTTPAddr, h)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.serve(ctx, "CUSTOM_GPT_HTTP_ADDR", s.cfg.HTTPAddr, h) })
	g.Go(func() error {
		return s.serve(ctx, "CUSTOM_GPT_ADMIN_ADDR", s.cfg.Edge.AdminAddr, porthttp.NewAdminHandler(s.app, s.httpConfig()))
	})
	return g.Wait()
}

// RunOps serves /healthz, /readyz and /metrics on CUSTOM_GPT_WORKER_ADDR
// until ctx ends: what a worker without the API answers to its operators.
func (s *Service) RunOps(ctx context.Context) error {
	h := porthttp.NewOpsHandler(porthttp.Config{
		Ready:    func(r *http.Request) error { return s.ready(r.Context()) },
		Gatherer: s.registry, Logger: s.log,
	})
	return s.serve(ctx, "CUSTOM_GPT_WORKER_ADDR", s.cfg.WorkerAddr, h)
}

func (s *Service) serve(ctx context.Context, variable, addr string, h http.Handler) error {
	srv := porthttp.NewServer(addr, h)
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	s.log.Info("http listening", "addr", addr)
	select {
	case err := <-errc:
		return fmt.Errorf("%s: %w", variable, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// RunWorker consumes commands, parks and fails poisoned ones, relays the
// outbox to Redis and sends webhooks, until ctx ends. It then stops taking
// commands and lets those in progress finish, for at most
// CUSTOM_GPT_SHUTDOWN_GRACE, before it returns.
func (s *Service) RunWorker(ctx context.Context) error {
	hardStop, stopNow := context.WithCancel(context.WithoutCancel(ctx))
	defer stopNow()
	context.AfterFunc(ctx, func() {
		t := time.AfterFunc(s.cfg.ShutdownGrace, stopNow)
		context.AfterFunc(hardStop, func() { t.Stop() })
	})
	host, _ := os.Hostname()
	mcfg := messaging.Config{
		Topics: s.topics, Redis: s.redisOpt,
		Consumer:    fmt.Sprintf("%s-%d-%s", host, os.Getpid(), watermill.NewShortUUID()[:6]),
		Concurrency: s.cfg.WorkerConcurrency, ClaimIdle: s.cfg.WorkerClaimIdle, NackSleep: 500 * time.Millisecond,
		HoldBack: min(s.cfg.BreakerOpenTimeout, s.cfg.WorkerClaimIdle/2),
		Retry:    messaging.RetryConfig{MaxRetries: s.cfg.RetryMax, InitialInterval: s.cfg.RetryInitial, MaxInterval: s.cfg.RetryMaxInterval},
		Health:   s.consumers, Log: s.log,
		HardStop: hardStop, Grace: s.cfg.ShutdownGrace,
	}
	poisonPub, err := redis.NewPublisher(s.redisOpt, 0, s.wlog)
	if err != nil {
		return err
	}
	commands, err := messaging.NewCommandRouter(mcfg, s.app, poisonPub, s.wlog)
	if err != nil {
		return err
	}
	poisoned, err := messaging.NewPoisonRouter(mcfg, s.app, s.wlog)
	if err != nil {
		return err
	}
	eventPub, err := redis.NewPublisher(s.redisOpt, s.cfg.EventStreamMaxLen, s.wlog)
	if err != nil {
		return err
	}
	fwd, err := postgres.NewForwarder(s.pool, eventPub, s.topics, postgres.ForwarderConfig{PollInterval: s.cfg.OutboxPollInterval}, s.wlog)
	if err != nil {
		return err
	}
	webhooks, err := s.webhookWorkers(mcfg)
	if err != nil {
		return err
	}
	forgotten, err := messaging.NewForgottenRouter(mcfg, s.app, s.wlog)
	if err != nil {
		return err
	}
	dl := s.deadLetters()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return runRouter(gctx, commands) })
	for _, run := range webhooks {
		g.Go(func() error { return run(gctx) })
	}
	g.Go(func() error { return runRouter(gctx, poisoned) })
	g.Go(func() error { return runRouter(gctx, forgotten) })
	g.Go(func() error { return fwd.Run(gctx) })
	g.Go(func() error {
		s.every(gctx, time.Hour, slog.LevelInfo, "pruned outbox rows", func(ctx context.Context) (int64, error) {
			return postgres.PruneOutbox(ctx, s.pool, s.cfg.OutboxRetention)
		})
		return nil
	})
	g.Go(func() error {
		s.every(gctx, time.Hour, slog.LevelInfo, "pruned dead letters", func(ctx context.Context) (int64, error) {
			return dl.Prune(ctx, s.cfg.Protection.DeadLetterRetention)
		})
		return nil
	})
	g.Go(func() error {
		s.every(gctx, time.Hour, slog.LevelInfo, "purged expired OAuth rows", func(ctx context.Context) (int64, error) {
			return postgres.PurgeExpiredOAuth(ctx, s.pool, time.Now(), s.cfg.AccessTokenTTL)
		})
		return nil
	})
	g.Go(func() error {
		// Resending means Redis lost work: worth a warning.
		s.every(gctx, max(s.cfg.Protection.ResendAfter/4, time.Second), slog.LevelWarn, "resent commands no longer on their way",
			func(ctx context.Context) (int64, error) {
				n, err := s.app.Commands.ResendLostCommands.Handle(ctx, command.ResendLostCommands{StalledFor: s.cfg.Protection.ResendAfter})
				return int64(n), err
			})
		return nil
	})
	g.Go(func() error {
		s.every(gctx, commandTrimEvery, slog.LevelDebug, "trimmed acknowledged commands", s.trimCommandStreams)
		return nil
	})
	s.log.Info("worker running", "consumer", mcfg.Consumer, "concurrency", mcfg.Concurrency)
	err = g.Wait()
	_ = poisonPub.Close()
	_ = eventPub.Close()
	if ctx.Err() != nil {
		return nil // asked to stop: errors from the cancelled routers are expected
	}
	return err
}

// runRouter runs r until ctx ends, then closes it: the router stops taking
// messages and waits for those in progress (see messaging.Config.HardStop).
// Closing, rather than cancelling the router's own context, also stops a
// router still subscribing its handlers cleanly, instead of failing them.
func runRouter(ctx context.Context, r *message.Router) error {
	done := make(chan error, 1)
	go func() { done <- r.Run(context.WithoutCancel(ctx)) }()
	select {
	case <-r.Running():
	case err := <-done:
		return err
	}
	select {
	case err := <-done:
		return err // stopped by itself
	case <-ctx.Done():
	}
	closeErr := r.Close()
	return errors.Join(<-done, closeErr)
}

// commandTrimEvery is how often acknowledged commands are trimmed from their
// streams: the text of a memory stays in Redis about this long after its work.
const commandTrimEvery = 10 * time.Second

// trimCommandStreams removes from each command stream what its workers have
// received and acknowledged.
func (s *Service) trimCommandStreams(ctx context.Context) (int64, error) {
	var total int64
	for _, name := range events.CommandNames() {
		n, err := redis.TrimAcknowledged(ctx, s.redis, s.topics.Command(name))
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// every runs fn now and then every period until ctx ends. A failure is a
// warning (the next round tries again); what it did is logged as done, at
// level, when done is set and something was done. Several processes may run
// the same loop: each fn is safe to run twice at once.
func (s *Service) every(ctx context.Context, period time.Duration, level slog.Level, done string, fn func(context.Context) (int64, error)) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		n, err := fn(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("background task failed; it runs again", "task", done, "error", err)
		case n > 0 && done != "":
			s.log.Log(ctx, level, done, "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Close releases connections.
func (s *Service) Close() {
	if s.refusals != nil {
		s.refusals.Close() // before the pool: it writes what is queued
	}
	if s.redis != nil {
		_ = s.redis.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
}
