package http

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

type operationResponse struct {
	OperationID string            `json:"operation_id" example:"0193a6f0-7c1e-7b3a-9f51-2c4d5e6f7a8b"`
	Status      string            `json:"status" enum:"pending,succeeded,failed" doc:"pending until the work is done." example:"succeeded"`
	Kind        string            `json:"kind" enum:"create_memory,update_memory,delete_memory,forget_memories" example:"create_memory"`
	MemoryIDs   []string          `json:"memory_ids" doc:"The memories the operation stored or changed."`
	Removed     *int              `json:"removed,omitempty" doc:"How many memories a finished forget_memories removed." example:"12"` // forget_memories only
	Note        string            `json:"note,omitempty" doc:"Said of a finished create that stored no memory: the Memory Bank found nothing new to remember in the content. Tell the user it was already known or not worth keeping." example:"the Memory Bank found nothing new to remember in this content (it may already know it)"`
	Error       *operationFailure `json:"error,omitempty" doc:"Why a failed operation failed."`
	CreatedAt   time.Time         `json:"created_at" example:"2026-11-26T10:00:00Z"`
	UpdatedAt   time.Time         `json:"updated_at" example:"2026-11-26T10:00:01Z"`
}

func (s *Server) getOperation(w http.ResponseWriter, r *http.Request) {
	caller := request.Caller(r.Context())
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
		OperationID: op.ID(), Kind: string(op.Kind()), Status: string(op.Status()), MemoryIDs: ids, Error: failureOf(op),
		Removed: removed(op), Note: op.Note(),
		CreatedAt: op.CreatedAt(), UpdatedAt: op.UpdatedAt(),
	})
}

type operationFailure struct {
	Code   string `json:"code" doc:"A stable code of the failure." example:"memory-not-found"`
	Detail string `json:"detail" doc:"What went wrong, for a person." example:"no such memory"`
}

func failureOf(op *operation.Operation) *operationFailure {
	f := op.Failure()
	if f == nil {
		return nil
	}
	return &operationFailure{Code: f.Code, Detail: f.Detail}
}

// removed reports how many memories a finished forget_memories operation removed.
func removed(op *operation.Operation) *int {
	if op.Kind() != operation.KindForgetMemories || op.Status() != operation.StatusSucceeded {
		return nil
	}
	n := op.Removed()
	return &n
}
