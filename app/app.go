// Package app holds the service's use cases, one per file, independent of any
// transport: HTTP, message consumers and the command line all call them.
package app

import (
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
)

// Application is every use case the ports may call.
type Application struct {
	Commands Commands
	Queries  Queries
}

type Commands struct {
	// Accepted by the API: each writes a pending operation and sends its command.
	AcceptCreateMemory   command.AcceptCreateMemoryHandler
	AcceptUpdateMemory   command.AcceptUpdateMemoryHandler
	AcceptDeleteMemory   command.AcceptDeleteMemoryHandler
	AcceptForgetMemories command.AcceptForgetMemoriesHandler

	// Run by the worker: each finishes the operation its command names.
	CreateMemory   command.CreateMemoryHandler
	UpdateMemory   command.UpdateMemoryHandler
	DeleteMemory   command.DeleteMemoryHandler
	ForgetMemories command.ForgetMemoriesHandler
	// FailOperation ends the operation of any command parked on the poison stream.
	FailOperation command.FailOperationHandler
	// PurgeForgotten removes what a forget or delete left outside the Memory Bank.
	PurgeForgotten command.PurgeForgottenHandler

	// Rate limits of /api/v1: spend the caller's budgets, audit a refusal.
	AdmitRequest      command.AdmitRequestHandler
	RecordRateLimited command.RecordRateLimitedHandler
	// AuthenticateAdmin guards the admin API: its token, failed attempts per address.
	AuthenticateAdmin command.AuthenticateAdminHandler

	// SignInUpstreamUser finds or creates the local account of an end user
	// who signed in through the upstream OpenID provider.
	SignInUpstreamUser command.SignInUpstreamUserHandler

	// Applications, managed by their operators.
	RegisterApp        command.RegisterAppHandler
	AddRedirectURI     command.AddRedirectURIHandler
	RotateAPIKey       command.RotateAPIKeyHandler
	RotateClientSecret command.RotateClientSecretHandler
	SetAppRateLimits   command.SetAppRateLimitsHandler
	DisableApp         command.DisableAppHandler
	SetAppMCP          command.SetAppMCPHandler
	RevokeClient       command.RevokeClientHandler

	// End-user accounts.
	CreateUser  command.CreateUserHandler
	DisableUser command.DisableUserHandler

	// Commands parked on the dead-letter stream, and those Redis lost.
	ReplayDeadLetter     command.ReplayDeadLetterHandler
	ReplayAllDeadLetters command.ReplayAllDeadLettersHandler
	DropDeadLetter       command.DropDeadLetterHandler
	// ResendLostCommands resends the commands of stalled operations Redis lost.
	ResendLostCommands command.ResendLostCommandsHandler

	// Webhooks: each application's endpoint, and the deliveries to it.
	SetWebhook          command.SetWebhookHandler
	RotateWebhookSecret command.RotateWebhookSecretHandler
	RemoveWebhook       command.RemoveWebhookHandler
	ScheduleWebhook     command.ScheduleWebhookHandler
	DispatchWebhook     command.DispatchWebhookHandler
	RedeliverWebhook    command.RedeliverWebhookHandler
}

type Queries struct {
	Authenticate     query.AuthenticateHandler
	AuthenticateUser query.AuthenticateUserHandler
	// MCPEndpoint tells whether an MCP endpoint has protected resource metadata.
	MCPEndpoint    query.MCPEndpointHandler
	SearchMemories query.SearchMemoriesHandler
	ListMemories   query.ListMemoriesHandler
	ExportMemories query.ExportMemoriesHandler
	// MemorySpacesOfUser lists where an end user has memories, for `users export`.
	MemorySpacesOfUser query.MemorySpacesOfUserHandler
	GetMemory          query.GetMemoryHandler
	MemoryHistory      query.MemoryHistoryHandler
	GetOperation       query.GetOperationHandler
	ListAudit          query.ListAuditHandler
	// VerifyAudit walks the audit's hash chains, for `audit verify`.
	VerifyAudit query.VerifyAuditHandler

	WebhookDeliveries query.WebhookDeliveriesHandler

	ListApps     query.ListAppsHandler
	ClientsOfApp query.ClientsOfAppHandler
	FindUser     query.FindUserHandler
	// ListDeadLetters lives beside the commands that replay and drop what it lists.
	ListDeadLetters command.ListDeadLettersHandler
}
