package memory

import (
	"time"
	"unicode/utf8"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// MaxIDChars bounds the id of a memory a caller names. mem0's ids are 36-character
// UUIDs; the bound only keeps absurd ids out of operations, audit and streams.
const MaxIDChars = 128

// CheckID refuses a memory id that can name no memory: empty, longer than
// MaxIDChars, not UTF-8, or holding NUL. Whether the memory exists, and is the
// caller's, the registry tells.
func CheckID(id string) error {
	if id == "" || len(id) > MaxIDChars || !utf8.ValidString(id) || hasNUL(id) {
		return errs.Invalid("memory_id", "memory-id-invalid", "memory_id must be the id of a memory, at most 128 characters")
	}
	return nil
}

// Bounds of one page of a scope's memories.
const (
	DefaultListLimit = 20
	MaxListLimit     = 100
)

// Page asks for one page of a scope's memories, newest first. Cursor is empty for
// the first page, then the NextCursor of the page before; it is opaque and only
// the Memory Bank that issued it can read it. A Limit outside 1..MaxListLimit is
// taken as DefaultListLimit, or MaxListLimit when above it.
type Page struct {
	Limit  int
	Cursor string
}

// RecordPage is one page of memories, newest first. NextCursor is empty on the
// last page.
type RecordPage struct {
	Records    []Record
	NextCursor string
}

// Events of a memory's history.
const (
	EventAdd    = "ADD"
	EventUpdate = "UPDATE"
	EventDelete = "DELETE"
)

// Change is one entry of a memory's history, oldest first: what it said before
// and after the event. OldContent is empty for an ADD, NewContent for a DELETE.
type Change struct {
	ID         string
	MemoryID   string
	OldContent string
	NewContent string
	Event      string // EventAdd, EventUpdate or EventDelete, as the Memory Bank spells it
	CreatedAt  time.Time
}

// Size is how many memories the page holds at most: Limit, bounded to 1..MaxListLimit,
// with DefaultListLimit for a Limit left at zero or below.
func (p Page) Size() int {
	switch {
	case p.Limit <= 0:
		return DefaultListLimit
	case p.Limit > MaxListLimit:
		return MaxListLimit
	}
	return p.Limit
}

// Registered is one memory this service stored, as its registry keeps it: the
// registry, not the Memory Bank's listing, says which memories a scope holds.
type Registered struct {
	ID          string
	OperationID string // the write that stored it
	CreatedAt   time.Time
}

// Added is what one add left in the Memory Bank.
type Added struct {
	// Pending, when set, is the Memory Bank's own id of an add it accepted and
	// is still doing (mem0's asynchronous add); the rest is empty until it ends.
	Pending string
	// IDs are the memories holding the content now: new ones, and with
	// inference on older servers, existing ones it was folded into.
	IDs []string
	// Removed are memories the Memory Bank deleted while adding (inference
	// on mem0 servers older than its ADD-only algorithm).
	Removed []string
}
