package memorybank

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

const maxCursorChars = 512

// position is where a page ended: the last record's creation time and id. A keyset,
// not an offset, so that memories added or deleted between two pages neither repeat
// nor skip the ones that were already there.
type position struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"id"`
}

func encodeCursor(r memory.Record) string {
	b, _ := json.Marshal(position{CreatedAt: r.CreatedAt, ID: r.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor of ours; nil for the first page.
func decodeCursor(s string) (*position, error) {
	if s == "" {
		return nil, nil
	}
	invalid := errs.Invalid("cursor", "cursor-invalid", "cursor must be the next_cursor of an earlier page")
	if len(s) > maxCursorChars || strings.ContainsAny(s, "=+/") {
		return nil, invalid
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, invalid
	}
	var p position
	if err := json.Unmarshal(b, &p); err != nil || p.ID == "" {
		return nil, invalid
	}
	return &p, nil
}

// newestFirst orders records by creation time, newest first, then by id descending,
// so that the order is total and a position names one place in it.
func newestFirst(a, b memory.Record) int {
	if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
		return c
	}
	return strings.Compare(b.ID, a.ID)
}

// after tells whether r comes after p in newest-first order.
func (p position) after(r memory.Record) bool {
	return newestFirst(memory.Record{CreatedAt: p.CreatedAt, ID: p.ID}, r) < 0
}
