package events

import "time"

// MemoryCreated: an operation stored its memory. Topic: <prefix>.events.MemoryCreated.
type MemoryCreated struct {
	Version     int       `json:"version"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	MemoryIDs   []string  `json:"memory_ids"`
	RequestID   string    `json:"request_id"`
	OccurredAt  time.Time `json:"occurred_at"`
}

// MemoryCreationFailed: an operation ended without storing its memory.
// Topic: <prefix>.events.MemoryCreationFailed.
type MemoryCreationFailed struct {
	Version     int       `json:"version"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	Code        string    `json:"code"`
	Detail      string    `json:"detail"`
	RequestID   string    `json:"request_id"`
	OccurredAt  time.Time `json:"occurred_at"`
}

// MemoriesSearched: an application searched its memories. The query text is not
// included: it can hold personal data, and subscribers need only the fact.
// Topic: <prefix>.events.MemoriesSearched.
type MemoriesSearched struct {
	Version     int       `json:"version"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	ResultCount int       `json:"result_count"`
	Succeeded   bool      `json:"succeeded"`
	RequestID   string    `json:"request_id"`
	OccurredAt  time.Time `json:"occurred_at"`
}
