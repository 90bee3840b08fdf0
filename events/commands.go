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

// UpdateMemory asks a worker to replace the content of one memory of the caller's
// scope. Topic: <prefix>.commands.UpdateMemory.
type UpdateMemory struct {
	Version     int       `json:"version"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	MemoryID    string    `json:"memory_id"`
	Content     string    `json:"content"`
	RequestID   string    `json:"request_id"`
	AcceptedAt  time.Time `json:"accepted_at"`
}

// DeleteMemory asks a worker to delete one memory of the caller's scope.
// Topic: <prefix>.commands.DeleteMemory.
type DeleteMemory struct {
	Version     int       `json:"version"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	MemoryID    string    `json:"memory_id"`
	RequestID   string    `json:"request_id"`
	AcceptedAt  time.Time `json:"accepted_at"`
}

// ForgetMemories asks a worker to delete every memory of the caller's scope.
// Topic: <prefix>.commands.ForgetMemories.
type ForgetMemories struct {
	Version     int       `json:"version"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	RequestID   string    `json:"request_id"`
	AcceptedAt  time.Time `json:"accepted_at"`
}

// commandTypes builds an empty command from its name, to decode one kept in the
// operation store.
var commandTypes = map[string]func() any{
	Name(CreateMemory{}):   func() any { return &CreateMemory{} },
	Name(UpdateMemory{}):   func() any { return &UpdateMemory{} },
	Name(DeleteMemory{}):   func() any { return &DeleteMemory{} },
	Name(ForgetMemories{}): func() any { return &ForgetMemories{} },
}

// NewCommand returns a pointer to an empty command named name, and whether
// there is such a command.
func NewCommand(name string) (any, bool) {
	f, ok := commandTypes[name]
	if !ok {
		return nil, false
	}
	return f(), true
}

// CommandNames lists every command, for tools that walk their streams.
func CommandNames() []string {
	return []string{Name(CreateMemory{}), Name(UpdateMemory{}), Name(DeleteMemory{}), Name(ForgetMemories{})}
}

// OperationID returns the operation a command runs, "" for anything else.
func OperationID(cmd any) string {
	switch c := cmd.(type) {
	case *CreateMemory:
		return c.OperationID
	case *UpdateMemory:
		return c.OperationID
	case *DeleteMemory:
		return c.OperationID
	case *ForgetMemories:
		return c.OperationID
	}
	return ""
}
