package events

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// Header is what every command carries, whatever its kind: the operation it
// runs, whose it is, and the request that accepted it. Embedded, its fields
// sit flat in the command's JSON beside those of the kind.
type Header struct {
	Version     int       `json:"version"`
	OperationID string    `json:"operation_id"`
	AppID       string    `json:"app_id"`
	EndUser     string    `json:"end_user,omitempty"`
	RequestID   string    `json:"request_id"`
	AcceptedAt  time.Time `json:"accepted_at"`
}

// CommandHeader returns the header; every command has it by embedding.
func (h Header) CommandHeader() Header { return h }

// Command is the payload of an operation's command, on the stream
// <prefix>.commands.<Name>. Its kind is in the table of kinds.go.
type Command interface{ CommandHeader() Header }

// CreateMemory asks a worker to store one memory in the Memory Bank.
type CreateMemory struct {
	Header
	// Draft is sent as content, metadata and conversation_id (see MarshalJSON).
	Draft memory.Draft
}

// UpdateMemory asks a worker to replace the content of one memory of the
// caller's scope.
type UpdateMemory struct {
	Header
	MemoryID string `json:"memory_id"`
	Content  string `json:"content"`
}

// DeleteMemory asks a worker to delete one memory of the caller's scope.
type DeleteMemory struct {
	Header
	MemoryID string `json:"memory_id"`
}

// ForgetMemories asks a worker to delete every memory of the caller's scope.
type ForgetMemories struct{ Header }

// createMemoryWire is CreateMemory as it is sent: the draft's fields flat
// beside the header.
type createMemoryWire struct {
	Header
	Content        string         `json:"content"`
	Metadata       map[string]any `json:"metadata,omitempty"`
	ConversationID string         `json:"conversation_id,omitempty"`
}

func (c CreateMemory) MarshalJSON() ([]byte, error) {
	return json.Marshal(createMemoryWire{c.Header, c.Draft.Content, c.Draft.Metadata, c.Draft.ConversationID})
}

// UnmarshalJSON builds the draft with the domain's constructor, so a command
// whose memory breaks its rules is refused as undecodable, never stored.
func (c *CreateMemory) UnmarshalJSON(b []byte) error {
	var w createMemoryWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	d, err := memory.NewDraft(w.Content, w.Metadata, w.ConversationID)
	if err != nil {
		return fmt.Errorf("the memory of the command: %w", err)
	}
	*c = CreateMemory{Header: w.Header, Draft: d}
	return nil
}

// MemoryOf is the memory a command is about, "" when it is about a new
// memory or a whole scope: its failure event names it.
func MemoryOf(cmd Command) string {
	if c, ok := cmd.(interface{ memory() string }); ok {
		return c.memory()
	}
	return ""
}

func (c UpdateMemory) memory() string { return c.MemoryID }
func (c DeleteMemory) memory() string { return c.MemoryID }

// NewCommand returns a pointer to an empty command named name, and whether
// there is such a command.
func NewCommand(name string) (Command, bool) {
	k, ok := KindOfCommand(name)
	if !ok {
		return nil, false
	}
	return reflect.New(reflect.TypeOf(k.Command)).Interface().(Command), true
}

// CommandNames lists every command, for tools that walk their streams.
func CommandNames() []string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = Name(k.Command)
	}
	return names
}

// OperationID returns the operation a command runs, "" for anything else.
func OperationID(cmd any) string {
	if c, ok := cmd.(Command); ok {
		return c.CommandHeader().OperationID
	}
	return ""
}
