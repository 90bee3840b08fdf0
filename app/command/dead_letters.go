package command

import (
	"context"
	"encoding/json"
	"time"
)

// DeadLetter is a command parked on the dead-letter (poison) stream after it
// exhausted its retries; its operation was ended as failed with Reason.
type DeadLetter struct {
	ID          string    `json:"message_id"` // the stream entry's id
	Command     string    `json:"command"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	MemoryID    string    `json:"memory_id,omitempty"` // the memory an update or delete was for
	Reason      string    `json:"reason"`
	Topic       string    `json:"original_topic"`
	ParkedAt    time.Time `json:"parked_at"`
	// CorrelationID is the request the command came from.
	CorrelationID string `json:"correlation_id,omitempty"`
	// Payload is the command as it was parked.
	Payload json.RawMessage `json:"-"`
}

// DeadLetterStore is the dead-letter stream.
type DeadLetterStore interface {
	// List returns every parked command, oldest first.
	List(ctx context.Context) ([]DeadLetter, error)
	// Get returns errs.KindNotFound when no parked command has id.
	Get(ctx context.Context, id string) (DeadLetter, error)
	// Remove deletes the parked command; removing a missing one is no error.
	Remove(ctx context.Context, id string) error
}
