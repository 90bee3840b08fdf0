package memory_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

func TestPage_Size(t *testing.T) {
	t.Parallel()

	tests := []struct {
		limit, want int
	}{
		{-5, memory.DefaultListLimit},
		{0, memory.DefaultListLimit},
		{1, 1},
		{37, 37},
		{memory.MaxListLimit, memory.MaxListLimit},
		{memory.MaxListLimit + 1, memory.MaxListLimit},
	}
	for _, tt := range tests {
		if got := (memory.Page{Limit: tt.limit}).Size(); got != tt.want {
			t.Errorf("Page{Limit: %d}.Size() = %d, want %d", tt.limit, got, tt.want)
		}
	}
}

func TestCheckID(t *testing.T) {
	t.Parallel()

	tests := []struct {
		id    string
		valid bool
	}{
		{"", false},
		{"2f1b5a0e-6a8e-4c1e-9c39-0e5d2b3c4d5e", true},
		{"mem-1", true}, // only the Memory Bank can tell it names nothing
		{strings.Repeat("m", memory.MaxIDChars), true},
		{strings.Repeat("m", memory.MaxIDChars+1), false},
		{"\xff", false},
	}
	for _, tt := range tests {
		err := memory.CheckID(tt.id)
		if tt.valid {
			if err != nil {
				t.Errorf("CheckID(%.20q) = %v, want nil", tt.id, err)
			}
			continue
		}
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Field != "memory_id" {
			t.Errorf("CheckID(%.20q) = %v, want KindInvalid on memory_id", tt.id, err)
		}
	}
}

// NewContent holds the content rules of NewDraft, which uses it: an update
// follows exactly the rules of a create.
func TestNewContent_sameRulesAsNewDraft(t *testing.T) {
	t.Parallel()

	for _, content := range []string{"", "x", strings.Repeat("é", memory.MaxContentChars), strings.Repeat("a", memory.MaxContentChars+1), "abc\xffdef"} {
		got, err := memory.NewContent(content)
		_, draftErr := memory.NewDraft(content, nil, "")
		if (err == nil) != (draftErr == nil) || (err != nil && err.Error() != draftErr.Error()) {
			t.Errorf("NewContent error %v, NewDraft error %v", err, draftErr)
		}
		if err == nil && got != content {
			t.Errorf("content changed: %d bytes in, %d out", len(content), len(got))
		}
	}
}
