package memory_test

import (
	"testing"

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
