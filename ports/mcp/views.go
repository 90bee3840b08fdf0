package mcp

import (
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

// The tools' structured outputs: the fields of /api/v1's answers, so that a
// client moving between the two reads the same names.

type memoryItem struct {
	MemoryID  string         `json:"memory_id" jsonschema:"the memory's id, for get_memory, update_memory, delete_memory and memory_history"`
	Content   string         `json:"content" jsonschema:"what was remembered"`
	Metadata  map[string]any `json:"metadata,omitempty" jsonschema:"the tags stored with the memory"`
	CreatedAt *time.Time     `json:"created_at,omitempty" jsonschema:"when the memory was stored, when known"`
	UpdatedAt *time.Time     `json:"updated_at,omitempty" jsonschema:"when the memory last changed, when known"`
}

func toItem(rec memory.Record) memoryItem {
	return memoryItem{
		MemoryID: rec.ID, Content: rec.Content, Metadata: memory.PublicMetadata(rec.Metadata),
		CreatedAt: timeOrNil(rec.CreatedAt), UpdatedAt: timeOrNil(rec.UpdatedAt),
	}
}

type operationView struct {
	OperationID string   `json:"operation_id" jsonschema:"pass it to get_operation to learn when the work is done"`
	Status      string   `json:"status" jsonschema:"pending, succeeded or failed"`
	Kind        string   `json:"kind,omitempty" jsonschema:"create_memory, update_memory, delete_memory or forget_memories"`
	MemoryIDs   []string `json:"memory_ids,omitempty" jsonschema:"the memories the operation stored or changed"`
	Removed     *int     `json:"removed,omitempty" jsonschema:"how many memories a finished forget_memories removed"`
	Note        string   `json:"note,omitempty" jsonschema:"said of a finished create that stored nothing: the memory found nothing new in the content"`
	ErrorCode   string   `json:"error_code,omitempty" jsonschema:"why a failed operation failed: a stable code such as memory-not-found"`
	ErrorDetail string   `json:"error_detail,omitempty" jsonschema:"why a failed operation failed, for a person"`
}

func toView(op *operation.Operation) operationView {
	v := operationView{OperationID: op.ID(), Status: string(op.Status()), Kind: string(op.Kind()), MemoryIDs: op.MemoryIDs(), Note: op.Note()}
	if op.Kind() == operation.KindForgetMemories && op.Status() == operation.StatusSucceeded {
		n := op.Removed()
		v.Removed = &n
	}
	if f := op.Failure(); f != nil {
		v.ErrorCode, v.ErrorDetail = f.Code, f.Detail
	}
	return v
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
