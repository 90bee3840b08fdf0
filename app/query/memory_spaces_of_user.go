package query

import (
	"context"
	"log/slog"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
)

// MemorySpacesOfUser lists the applications in which an end user has a memory
// space (wrote at least once), for an operator answering the user's request
// for their data.
type MemorySpacesOfUser struct {
	EndUser string
}

type MemorySpacesOfUserHandler decorator.QueryHandler[MemorySpacesOfUser, []string]

// MemorySpaces knows every memory space that was ever written to.
type MemorySpaces interface {
	// AppsOf returns the ids of the applications where endUser has a memory
	// space, in a stable order.
	AppsOf(ctx context.Context, endUser string) ([]string, error)
}

type memorySpacesOfUserHandler struct{ spaces MemorySpaces }

func NewMemorySpacesOfUserHandler(spaces MemorySpaces, log *slog.Logger, m *decorator.Metrics) MemorySpacesOfUserHandler {
	return decorator.ApplyQueryDecorators[MemorySpacesOfUser, []string](memorySpacesOfUserHandler{spaces: spaces}, log, m)
}

func (h memorySpacesOfUserHandler) Handle(ctx context.Context, q MemorySpacesOfUser) ([]string, error) {
	return h.spaces.AppsOf(ctx, q.EndUser)
}
