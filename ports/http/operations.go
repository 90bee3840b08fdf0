package http

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
)

type operationResponse struct {
	OperationID string             `json:"operation_id"`
	Status      string             `json:"status"`
	Kind        string             `json:"kind"`
	MemoryIDs   []string           `json:"memory_ids"`
	Removed     *int               `json:"removed,omitempty"` // forget_memories only
	Error       *operation.Failure `json:"error,omitempty"`
	CreatedAt   time.Time          `json:"created_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
}

func (s *Server) getOperation(w http.ResponseWriter, r *http.Request) {
	caller := callerFrom(r.Context())
	op, err := s.app.Queries.GetOperation.Handle(r.Context(), query.GetOperation{
		OperationID: chi.URLParam(r, "operation_id"), AppID: caller.AppID, EndUser: caller.EndUser,
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	ids := op.MemoryIDs()
	if ids == nil {
		ids = []string{}
	}
	// Pending operations change; tell caches not to keep them.
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, operationResponse{
		OperationID: op.ID(), Kind: string(op.Kind()), Status: string(op.Status()), MemoryIDs: ids, Error: op.Failure(),
		Removed:   removed(op),
		CreatedAt: op.CreatedAt(), UpdatedAt: op.UpdatedAt(),
	})
}

// removed reports how many memories a finished forget_memories operation removed.
func removed(op *operation.Operation) *int {
	if op.Kind() != operation.KindForgetMemories || op.Status() != operation.StatusSucceeded {
		return nil
	}
	n := op.Removed()
	return &n
}
