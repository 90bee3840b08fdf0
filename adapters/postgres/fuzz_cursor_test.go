package postgres

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// FuzzDecodeCursor checks the cursor of the memory registry's pages that a
// caller sends back (query parameter cursor): it is refused as invalid input on "cursor", or it names
// a position with an id that re-encodes to a cursor reading the same.
func FuzzDecodeCursor(f *testing.F) {
	valid := encodeCursor(position{ID: "5b7e2a1c", CreatedAt: time.Date(2026, 11, 26, 10, 0, 0, 123, time.UTC)})
	for _, s := range []string{
		"", valid, valid + "=", valid[:len(valid)-1], "e30", "bnVsbA", "W10",
		base64.RawURLEncoding.EncodeToString([]byte(`{"t":"not a time","id":"x"}`)),
		base64.RawURLEncoding.EncodeToString([]byte(`{"t":"9999-12-31T23:59:59Z","id":"\u0000"}`)),
		base64.RawURLEncoding.EncodeToString([]byte(`{"t":"0001-01-01T00:00:00Z","id":"x","id":""}`)),
		base64.RawURLEncoding.EncodeToString([]byte(`{"T":"2026-01-01T00:00:00+14:00","ID":"x"}`)),
		strings.Repeat("A", 513), "%00", "eyJvIjoyMH0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := decodeCursor(s)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Field != "cursor" {
				t.Fatalf("decodeCursor(%q) = %v, want invalid input on cursor", s, err)
			}
			return
		}
		if p == nil {
			if s != "" {
				t.Fatalf("decodeCursor(%q) = nil, nil: only the empty cursor means the first page", s)
			}
			return
		}
		if p.ID == "" || len(s) > maxCursorChars {
			t.Fatalf("decodeCursor(%q) = %+v", s, p)
		}
		again, err := decodeCursor(encodeCursor(*p))
		if err != nil || again.ID != p.ID || !again.CreatedAt.Equal(p.CreatedAt) {
			t.Fatalf("decodeCursor(%q) = %+v, which re-encodes to %+v, %v", s, p, again, err)
		}
	})
}
