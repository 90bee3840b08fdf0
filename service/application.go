package service

import (
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/redis"
	webhooksender "github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/webhook"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/jwt"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/messaging"
)

// Deps is what the use cases are built from.
type Deps struct {
	Config Config
	Infra  *Infrastructure
	// Tokens is the one check of access tokens (NewTokenVerifier): the
	// authorization server is given the same.
	Tokens query.AccessTokens
	Log    *slog.Logger
	// Now is the webhooks' clock; nil is the system's.
	Now func() time.Time
}

// adminFailureLimit allows each client address 10 failed admin-token
// attempts a minute (bursts of 10), counted in Redis so every API instance
// counts together.
var adminFailureLimit = redis.Limit{Rate: 10, Period: time.Minute, Burst: 10}

// NewApplication builds every use case, in one pass.
func NewApplication(d Deps) app.Application {
	cfg, in, l := d.Config, d.Infra, d.Log
	m := decorator.NewMetrics(in.Registry)
	topics := cfg.topics()
	// Commands are queued after their operation commits, each as one stream
	// entry the operation notes (see ResendLostCommands).
	bus := redis.NewCommandBus(redis.NewCommandPublisher(in.Redis), topics, events.Marshaler).WithTracer(in.Tracer)
	cmds := newCommandQueue(bus, postgres.NewCommandEntries(in.Pool), l, in.Registry)
	in.commands = cmds
	outbox := postgres.NewOutbox(topics, events.Marshaler, messaging.NewLogger(l))
	tx := postgres.NewTransactor(in.Pool, outbox).WithTracer(in.Tracer)
	// Reads are audited, and writes accepted, many per transaction (group
	// commit), each answered once its own rows are committed. Accepts lock
	// their scopes' rows, in any order: one batch of them runs at a time.
	// Reads lock only their audit chain's lane, but one writer at a time
	// too: the reads arriving during a commit then share the next, so the
	// chain's and the commit's fixed costs are paid once per batch
	// (BenchmarkRecordRead: 8 callers, 4.5 reads a commit and 0.21 ms of CPU
	// each against 1.5 and 0.45 ms with four writers, and no slower).
	units := groupCommitUnits(in.Registry)
	reads := postgres.NewTxGroup(tx, postgres.TxGroupConfig{Writers: 1, Units: units.WithLabelValues("reads")})
	accepts := postgres.NewTxGroup(tx, postgres.TxGroupConfig{Writers: 1, Units: units.WithLabelValues("accepts")})
	reg := postgres.NewMemoryRegistry(in.Pool)
	dl := in.deadLetters(cfg)
	apps := postgres.NewApplicationRepository(in.Pool)
	users := postgres.NewUserRepository(in.Pool)
	limiter := redis.NewLimiter(in.Redis, cfg.StreamPrefix)
	worker := command.WorkerConfig{Lease: cfg.WorkerLease, OrphanAfter: cfg.WorkerClaimIdle}
	bank, workerBank := in.Bank, in.WorkerBank
	replay := command.NewReplayDeadLetterHandler(tx, dl, cmds, l, m)

	hooks := command.WebhookConfig{
		URLs:  webhook.URLPolicy{AllowPrivate: cfg.Webhooks.AllowPrivate},
		Retry: webhook.DefaultRetryPolicy,
		// Past the attempt's timeout, so no second dispatcher sends meanwhile.
		Lease: cfg.Webhooks.Timeout + 30*time.Second,
		Now:   d.Now,
		NewID: func() string { return uuid.Must(uuid.NewV7()).String() },
	}
	endpoints := postgres.NewWebhookRepository(in.Pool, in.Keyring)
	// The scheduler looks endpoints up through a cache; the changes made
	// through it forget the cached copy at once in this process (serve runs
	// the API's and the worker's handlers together). Reads for people, and
	// the dispatcher, read the store.
	scheduled := command.CacheEndpoints(endpoints, cfg.Webhooks.CacheTTL, time.Now)
	sender := webhooksender.NewSender(webhooksender.Config{
		Timeout: cfg.Webhooks.Timeout, AllowPrivate: cfg.Webhooks.AllowPrivate, Registerer: in.Registry, Tracer: in.Tracer,
	})

	// The worker's handlers hand a scope's turn over by running the next
	// waiting write themselves (command.Turns), so each takes turns once built.
	turns := command.NewTurns(cmds, 0, 0)
	if h := tracing.Handover(in.Tracer); h != nil {
		turns.MarkHandovers(h)
	}
	creates := command.NewCreateMemoryHandler(tx, turns, workerBank, reg, worker, l, m)
	updates := command.NewUpdateMemoryHandler(tx, turns, workerBank, reg, worker, l, m)
	deletes := command.NewDeleteMemoryHandler(tx, turns, workerBank, reg, worker, l, m)
	forgets := command.NewForgetMemoriesHandler(tx, turns, workerBank, reg, worker, l, m)
	command.TakeTurns(turns, creates)
	command.TakeTurns(turns, updates)
	command.TakeTurns(turns, deletes)
	command.TakeTurns(turns, forgets)

	return app.Application{
		Commands: app.Commands{
			AcceptCreateMemory:   command.NewAcceptCreateMemoryHandler(accepts, cmds, l, m),
			AcceptUpdateMemory:   command.NewAcceptUpdateMemoryHandler(accepts, cmds, reg, l, m),
			AcceptDeleteMemory:   command.NewAcceptDeleteMemoryHandler(accepts, cmds, reg, l, m),
			AcceptForgetMemories: command.NewAcceptForgetMemoriesHandler(accepts, cmds, l, m),
			CreateMemory:         creates,
			UpdateMemory:         updates,
			DeleteMemory:         deletes,
			ForgetMemories:       forgets,
			PurgeForgotten:       command.NewPurgeForgottenHandler(dl, l, m),
			FailOperation:        command.NewFailOperationHandler(tx, turns, worker, l, m),
			AdmitRequest:         command.NewAdmitRequestHandler(redis.NewAPIBudgets(limiter), cfg.RateLimits, l, m),
			RecordRateLimited:    command.NewRecordRateLimitedHandler(in.Refusals, l, m),
			AuthenticateAdmin: command.NewAuthenticateAdminHandler(cfg.AdminToken, redis.NewFailureBudget(limiter, adminFailureLimit),
				in.Refusals, l, m),
			SignInUpstreamUser: command.NewSignInUpstreamUserHandler(users, l, m),

			RegisterApp:        command.NewRegisterAppHandler(apps, cfg.RateLimits, l, m),
			AddRedirectURI:     command.NewAddRedirectURIHandler(apps, l, m),
			RotateAPIKey:       command.NewRotateAPIKeyHandler(apps, l, m),
			RotateClientSecret: command.NewRotateClientSecretHandler(apps, l, m),
			SetAppRateLimits:   command.NewSetAppRateLimitsHandler(apps, cfg.RateLimits, l, m),
			DisableApp:         command.NewDisableAppHandler(apps, l, m),
			SetAppMCP:          command.NewSetAppMCPHandler(apps, l, m),
			RevokeClient:       command.NewRevokeClientHandler(apps, postgres.NewOAuthStore(in.Pool), l, m),
			CreateUser:         command.NewCreateUserHandler(users, l, m),
			DisableUser:        command.NewDisableUserHandler(users, postgres.NewOAuthStore(in.Pool), l, m),

			ReplayDeadLetter:     replay,
			ReplayAllDeadLetters: command.NewReplayAllDeadLettersHandler(dl, replay, l, m),
			DropDeadLetter:       command.NewDropDeadLetterHandler(dl, l, m),
			ResendLostCommands:   command.NewResendLostCommandsHandler(tx, cmds, redis.NewCommandQueues(in.Redis, topics), l, m),

			SetWebhook:          command.NewSetWebhookHandler(scheduled, hooks, l, m),
			RotateWebhookSecret: command.NewRotateWebhookSecretHandler(scheduled, hooks, l, m),
			RemoveWebhook:       command.NewRemoveWebhookHandler(scheduled, l, m),
			ScheduleWebhook:     command.NewScheduleWebhookHandler(scheduled, hooks, l, m),
			DispatchWebhook:     command.NewDispatchWebhookHandler(endpoints, sender, hooks),
			RedeliverWebhook:    command.NewRedeliverWebhookHandler(endpoints, sender, hooks),
		},
		Queries: app.Queries{
			Authenticate:       query.CacheCredentials(query.NewAuthenticateHandler(apps, d.Tokens, l, m), cfg.CredentialCacheTTL, time.Now),
			MCPEndpoint:        query.NewMCPEndpointHandler(apps, l, m),
			AuthenticateUser:   query.NewAuthenticateUserHandler(users, l, m),
			SearchMemories:     query.NewSearchMemoriesHandler(bank, reads, l, m),
			ListMemories:       query.NewListMemoriesHandler(reg, bank, reads, l, m),
			ExportMemories:     query.NewExportMemoriesHandler(reg, bank, reads, l, m),
			MemorySpacesOfUser: query.NewMemorySpacesOfUserHandler(reg, l, m),
			GetMemory:          query.NewGetMemoryHandler(reg, bank, reads, l, m),
			MemoryHistory:      query.NewMemoryHistoryHandler(reg, bank, reads, l, m),
			GetOperation:       query.NewGetOperationHandler(postgres.NewOperationRepository(in.Pool), l, m),
			ListAudit:          query.NewListAuditHandler(postgres.NewAuditRepository(in.Pool), l, m),
			VerifyAudit:        query.NewVerifyAuditHandler(postgres.NewAuditRepository(in.Pool), l, m),
			WebhookDeliveries:  query.NewWebhookDeliveriesHandler(endpoints, l, m),
			ListApps:           query.NewListAppsHandler(apps, cfg.RateLimits, l, m),
			ClientsOfApp:       query.NewClientsOfAppHandler(apps, postgres.NewOAuthStore(in.Pool), l, m),
			FindUser:           query.NewFindUserHandler(users, l, m),
			ListDeadLetters:    command.NewListDeadLettersHandler(dl, l, m),
		},
	}
}

// NewTokenVerifier is the one check of access tokens, for the API and the
// authorization server alike: signed by one of the process's keys for its
// public URL (issuer and audience both), and not revoked.
func NewTokenVerifier(cfg Config, in *Infrastructure) *query.TokenVerifier {
	return query.NewTokenVerifier(
		&jwt.Verifier{Issuer: cfg.PublicURL, Audience: cfg.PublicURL, Keys: in.Keys, Leeway: 30 * time.Second},
		postgres.NewOAuthStore(in.Pool))
}
