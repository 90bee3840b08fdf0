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
	AcceptCreateMemory command.AcceptCreateMemoryHandler
	CreateMemory       command.CreateMemoryHandler
	FailCreateMemory   command.FailCreateMemoryHandler
	Apps               command.AppAdmin
	Users              command.UserAdmin
}

type Queries struct {
	Authenticate     query.AuthenticateHandler
	AuthenticateUser query.AuthenticateUserHandler
	SearchMemories   query.SearchMemoriesHandler
	GetOperation     query.GetOperationHandler
	ListAudit        query.ListAuditHandler
}
