package memory

import "time"

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
