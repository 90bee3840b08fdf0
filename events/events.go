package events

import "time"

// MemoryCreated ends a create_memory operation that succeeded. Every event
// is on the stream <prefix>.events.<Name>; what it tells subscribers is in
// the table of kinds.go (operations) or catalog.go (reads).
type MemoryCreated struct {
	Version     int      `json:"version"`
	OperationID string   `json:"operation_id"`
	AppID       string   `json:"app_id"`
	EndUser     string   `json:"end_user,omitempty"`
	MemoryIDs   []string `json:"memory_ids"`
	// Note is set when the add left no memory: with inference on, mem0 found
	// nothing new to remember in the content.
	Note       string    `json:"note,omitempty"`
	RequestID  string    `json:"request_id"`
	OccurredAt time.Time `json:"occurred_at"`
}

// MemoryCreationFailed ends a create_memory operation that failed.
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

// MemoriesSearched says an application searched its memories, never what for.
type MemoriesSearched struct {
	Version     int       `json:"version"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	ResultCount int       `json:"result_count"`
	Succeeded   bool      `json:"succeeded"`
	RequestID   string    `json:"request_id"`
	OccurredAt  time.Time `json:"occurred_at"`
}

// MemoryUpdated ends an update_memory operation that succeeded.
type MemoryUpdated struct {
	Version     int       `json:"version"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	MemoryID    string    `json:"memory_id"`
	RequestID   string    `json:"request_id"`
	OccurredAt  time.Time `json:"occurred_at"`
}

// MemoryUpdateFailed ends an update_memory operation that failed.
type MemoryUpdateFailed struct {
	Version     int       `json:"version"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	MemoryID    string    `json:"memory_id"`
	Code        string    `json:"code"`
	Detail      string    `json:"detail"`
	RequestID   string    `json:"request_id"`
	OccurredAt  time.Time `json:"occurred_at"`
}

// MemoryDeleted ends a delete_memory operation that succeeded.
type MemoryDeleted struct {
	Version     int       `json:"version"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	MemoryID    string    `json:"memory_id"`
	RequestID   string    `json:"request_id"`
	OccurredAt  time.Time `json:"occurred_at"`
}

// MemoryDeletionFailed ends a delete_memory operation that failed.
type MemoryDeletionFailed struct {
	Version     int       `json:"version"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	MemoryID    string    `json:"memory_id"`
	Code        string    `json:"code"`
	Detail      string    `json:"detail"`
	RequestID   string    `json:"request_id"`
	OccurredAt  time.Time `json:"occurred_at"`
}

// MemoriesForgotten ends a forget_memories operation that succeeded.
type MemoriesForgotten struct {
	Version     int       `json:"version"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	Removed     int       `json:"removed"`
	RequestID   string    `json:"request_id"`
	OccurredAt  time.Time `json:"occurred_at"`
}

// MemoriesForgettingFailed ends a forget_memories operation that failed.
type MemoriesForgettingFailed struct {
	Version     int       `json:"version"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	Code        string    `json:"code"`
	Detail      string    `json:"detail"`
	RequestID   string    `json:"request_id"`
	OccurredAt  time.Time `json:"occurred_at"`
}

// MemoriesListed says an application read a page of its memories.
type MemoriesListed struct {
	Version     int       `json:"version"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	ResultCount int       `json:"result_count"`
	Succeeded   bool      `json:"succeeded"`
	RequestID   string    `json:"request_id"`
	OccurredAt  time.Time `json:"occurred_at"`
}

// MemoriesExported says an export of one memory space began.
type MemoriesExported struct {
	Version    int       `json:"version"`
	AppID      string    `json:"app_id"`
	EndUser    string    `json:"end_user,omitempty"`
	Succeeded  bool      `json:"succeeded"`
	RequestID  string    `json:"request_id"`
	OccurredAt time.Time `json:"occurred_at"`
}

// MemoryRead says an application read one memory.
type MemoryRead struct {
	Version    int       `json:"version"`
	AppID      string    `json:"app_id"`
	EndUser    string    `json:"end_user,omitempty"`
	MemoryID   string    `json:"memory_id"`
	Succeeded  bool      `json:"succeeded"`
	RequestID  string    `json:"request_id"`
	OccurredAt time.Time `json:"occurred_at"`
}

// MemoryHistoryRead says an application read the history of one memory.
type MemoryHistoryRead struct {
	Version     int       `json:"version"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	MemoryID    string    `json:"memory_id"`
	ChangeCount int       `json:"change_count"`
	Succeeded   bool      `json:"succeeded"`
	RequestID   string    `json:"request_id"`
	OccurredAt  time.Time `json:"occurred_at"`
}
