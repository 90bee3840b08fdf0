package http

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

type createMemoryRequest struct {
	Content        string         `json:"content"`
	Metadata       map[string]any `json:"metadata"`
	ConversationID string         `json:"conversation_id"`
}

type operationAccepted struct {
	OperationID string `json:"operation_id"`
	Status      string `json:"status"`
}

// createMemory answers 202 only once the command is durably queued and its
// operation recorded; the Location header is where to follow it.
func (s *Server) createMemory(w http.ResponseWriter, r *http.Request) {
	var req createMemoryRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	draft, err := memory.NewDraft(req.Content, req.Metadata, req.ConversationID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	caller := callerFrom(r.Context())
	opID := uuid.Must(uuid.NewV7()).String()
	err = s.app.Commands.AcceptCreateMemory.Handle(r.Context(), command.AcceptCreateMemory{
		OperationID: opID, AppID: caller.AppID, EndUser: caller.EndUser, Draft: draft, RequestID: requestID(r.Context()),
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/operations/"+opID)
	writeJSON(w, http.StatusAccepted, operationAccepted{OperationID: opID, Status: "pending"})
}
