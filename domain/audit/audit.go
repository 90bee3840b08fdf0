// Package audit records every call an application makes: who, what, when, and how
// it ended. An entry is written once; an asynchronous call's entry moves from
// pending to its terminal status exactly once, when the operation finishes.
package audit

import (
	"context"
	"time"
)

// Action is what the caller asked for.
type Action string

const (
	ActionSearch         Action = "search"
	ActionCreateMemory   Action = "create_memory"
	ActionListMemories   Action = "list_memories"
	ActionExportMemories Action = "export_memories"
	ActionGetMemory      Action = "get_memory"
	ActionMemoryHistory  Action = "memory_history"
	ActionUpdateMemory   Action = "update_memory"
	ActionDeleteMemory   Action = "delete_memory"
	ActionForgetMemories Action = "forget_memories"
	// ActionRateLimited is a request refused with 429 before it did anything.
	ActionRateLimited Action = "rate_limited"
	// ActionAdminAuth is a request to the admin API refused for a missing or
	// wrong admin token; it belongs to no application.
	ActionAdminAuth Action = "admin_auth"
)

// Status of the audited call.
type Status string

const (
	StatusPending   Status = "pending"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
)

// Entry is one audited call.
type Entry struct {
	ID          int64
	AppID       string
	EndUser     string
	Action      Action
	Status      Status
	RequestID   string
	OperationID string
	Detail      string
	OccurredAt  time.Time
	CompletedAt time.Time

	// RequestID is made by the service, one per request; CorrelationID is the
	// client's X-Request-ID when it sent one, else the request id: chosen by
	// the client, so neither unique nor to be trusted.
	CorrelationID string
	// Channel is the door the call came through: "api" (the REST API) or
	// "mcp"; empty is stored as "api".
	Channel string
	// TraceID is the W3C trace id of the request's trace, "" when it was not
	// traced.
	TraceID string
}

// Filter selects a page of entries, newest first unless OldestFirst. AfterID
// is the cursor: only entries after it in that order are returned. Empty
// fields select everything.
type Filter struct {
	AppID   string
	EndUser string
	Action  Action
	Status  Status
	// Since and Until bound occurred_at: Since <= occurred_at < Until.
	Since, Until time.Time
	Limit        int
	AfterID      int64
	OldestFirst  bool
}

// Actions is every action an entry may record.
var Actions = []Action{ActionSearch, ActionCreateMemory, ActionListMemories, ActionExportMemories, ActionGetMemory,
	ActionMemoryHistory, ActionUpdateMemory, ActionDeleteMemory, ActionForgetMemories, ActionRateLimited, ActionAdminAuth}

// Statuses is every status an entry may have.
var Statuses = []Status{StatusPending, StatusSucceeded, StatusFailed}

// Repository reads the audit trail; writes go through the unit of work.
type Repository interface {
	List(ctx context.Context, f Filter) ([]Entry, error)
}
