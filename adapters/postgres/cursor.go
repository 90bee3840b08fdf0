package postgres

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

const maxCursorChars = 512

// position is where a page of memories ended: the last one's creation time and
// id. A keyset, not an offset, so that memories added or deleted between two
// pages neither repeat nor skip the ones that were already there.
type position struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"id"`
}

func encodeCursor(p position) string {
	b, _ := json.Marshal(p)
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
	if err := json.Unmarshal(b, &p); err != nil || p.ID == "" || strings.IndexByte(p.ID, 0) >= 0 {
		return nil, invalid
	}
	return &p, nil
}
