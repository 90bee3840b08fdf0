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

	Apps        command.AppAdmin
	Users       command.UserAdmin
	DeadLetters command.DeadLetterAdmin
	// LostCommands resends the commands of stalled operations Redis lost.
	LostCommands command.LostCommands

	Webhooks         command.WebhookAdmin
	ScheduleWebhook  command.ScheduleWebhookHandler
	DispatchWebhook  command.DispatchWebhookHandler
	RedeliverWebhook command.RedeliverWebhookHandler
}

type Queries struct {
	Authenticate     query.AuthenticateHandler
	AuthenticateUser query.AuthenticateUserHandler
	SearchMemories   query.SearchMemoriesHandler
	ListMemories     query.ListMemoriesHandler
	ExportMemories   query.ExportMemoriesHandler
	// MemorySpacesOfUser lists where an end user has memories, for `users export`.
	MemorySpacesOfUser query.MemorySpacesOfUserHandler
	GetMemory          query.GetMemoryHandler
	MemoryHistory      query.MemoryHistoryHandler
	GetOperation       query.GetOperationHandler
	ListAudit          query.ListAuditHandler

	WebhookDeliveries query.WebhookDeliveriesHandler
}
