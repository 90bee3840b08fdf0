package events

import "time"

// MemoryCreated: an operation stored its memory. Topic: <prefix>.events.MemoryCreated.
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

// MemoryUpdated: an operation replaced the content of a memory.
// Topic: <prefix>.events.MemoryUpdated.
type MemoryUpdated struct {
	Version     int       `json:"version"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	MemoryID    string    `json:"memory_id"`
	RequestID   string    `json:"request_id"`
	OccurredAt  time.Time `json:"occurred_at"`
}

// MemoryUpdateFailed: an update operation ended without changing its memory.
// Topic: <prefix>.events.MemoryUpdateFailed.
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

// MemoryDeleted: an operation deleted a memory, or found it already gone on a
// retry of its own. Topic: <prefix>.events.MemoryDeleted.
type MemoryDeleted struct {
	Version     int       `json:"version"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	MemoryID    string    `json:"memory_id"`
	RequestID   string    `json:"request_id"`
	OccurredAt  time.Time `json:"occurred_at"`
}

// MemoryDeletionFailed: a delete operation ended without deleting its memory.
// Topic: <prefix>.events.MemoryDeletionFailed.
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

// MemoriesForgotten: an operation deleted every memory of a scope. Removed is how
// many the attempt that finished found; a retry after an attempt that deleted
// them but did not commit finds fewer. Topic: <prefix>.events.MemoriesForgotten.
type MemoriesForgotten struct {
	Version     int       `json:"version"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	Removed     int       `json:"removed"`
	RequestID   string    `json:"request_id"`
	OccurredAt  time.Time `json:"occurred_at"`
}

// MemoriesForgettingFailed: a forget operation ended without deleting the scope's
// memories. Topic: <prefix>.events.MemoriesForgettingFailed.
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

// MemoriesListed: an application read a page of its memories. Like
// MemoriesSearched it carries counts, never contents.
// Topic: <prefix>.events.MemoriesListed.
type MemoriesListed struct {
	Version     int       `json:"version"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	ResultCount int       `json:"result_count"`
	Succeeded   bool      `json:"succeeded"`
	RequestID   string    `json:"request_id"`
	OccurredAt  time.Time `json:"occurred_at"`
}

// MemoriesExported: an application, or an operator for an end user, began
// an export of every memory of one memory space with its history. Like the
// other reads it carries no contents. Topic: <prefix>.events.MemoriesExported.
type MemoriesExported struct {
	Version    int       `json:"version"`
	AppID      string    `json:"app_id"`
	EndUser    string    `json:"end_user,omitempty"`
	Succeeded  bool      `json:"succeeded"`
	RequestID  string    `json:"request_id"`
	OccurredAt time.Time `json:"occurred_at"`
}

// MemoryRead: an application read one memory; Succeeded is false when it was
// missing or another scope's. Topic: <prefix>.events.MemoryRead.
type MemoryRead struct {
	Version    int       `json:"version"`
	AppID      string    `json:"app_id"`
	EndUser    string    `json:"end_user,omitempty"`
	MemoryID   string    `json:"memory_id"`
	Succeeded  bool      `json:"succeeded"`
	RequestID  string    `json:"request_id"`
	OccurredAt time.Time `json:"occurred_at"`
}

// MemoryHistoryRead: an application read the history of one memory.
// Topic: <prefix>.events.MemoryHistoryRead.
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
