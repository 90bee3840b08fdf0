package events

import "time"

// CreateMemory asks a worker to store one memory in the Memory Bank.
// Topic: <prefix>.commands.CreateMemory.
type CreateMemory struct {
	Version        int            `json:"version"`
	OperationID    string         `json:"operation_id"`
	AppID          string         `json:"app_id"`
	EndUser        string         `json:"end_user,omitempty"`
	Content        string         `json:"content"`
	Metadata       map[string]any `json:"metadata,omitempty"`
	ConversationID string         `json:"conversation_id,omitempty"`
	RequestID      string         `json:"request_id"`
	AcceptedAt     time.Time      `json:"accepted_at"`
}
