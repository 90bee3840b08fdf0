package http

import (
	"net/http"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
)

type createMemoryRequest struct {
	Content        string         `json:"content" minLength:"1" maxLength:"16384" doc:"The fact to remember, in a short self-contained sentence." example:"The user prefers window seats on long flights"`
	Metadata       map[string]any `json:"metadata,omitempty" doc:"Optional flat tags: at most 32 keys, string, number or boolean values, strings at most 2048 characters. Keys the service or the Memory Bank sets (source, app_id, operation_id, conversation_id, user_id, agent_id, run_id, actor_id, role, attributed_to, expiration_date, data, hash, id, created_at, updated_at, text_lemmatized) are refused." example:"{\"topic\":\"travel\"}"`
	ConversationID string         `json:"conversation_id,omitempty" doc:"Optional id of the conversation the fact comes from." example:"conv-1"`
}

type operationAccepted struct {
	OperationID string `json:"operation_id" doc:"Pass it to getOperation to learn when the work is done." example:"0193a6f0-7c1e-7b3a-9f51-2c4d5e6f7a8b"`
	Status      string `json:"status" enum:"pending" doc:"Always pending: the work runs in the background." example:"pending"`
}

// createMemory answers 202 only once the command is durably queued and its
// operation recorded; the Location header is where to follow it.
func (s *Server) createMemory(w http.ResponseWriter, r *http.Request) {
	var req createMemoryRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	a := newAcceptance(r)
	err := s.app.Commands.AcceptCreateMemory.Handle(r.Context(), command.AcceptCreateMemory{
		Acceptance: a.command(r), Content: req.Content, Metadata: req.Metadata, ConversationID: req.ConversationID,
	})
	a.answer(w, r, err)
}
