package http

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

type memoryItem struct {
	MemoryID  string         `json:"memory_id" doc:"The memory's id." example:"5b7e2a1c-3d4f-4e5a-8b9c-0d1e2f3a4b5c"`
	Content   string         `json:"content" doc:"What was remembered; cut when truncated is true." example:"The user prefers window seats on long flights"`
	Metadata  map[string]any `json:"metadata" doc:"The tags stored with the memory." example:"{\"topic\":\"travel\"}"`
	CreatedAt *time.Time     `json:"created_at" nullable:"true" doc:"When the memory was stored; null when the Memory Bank did not say." example:"2026-11-26T10:00:00Z"`
	UpdatedAt *time.Time     `json:"updated_at,omitempty" doc:"When the memory last changed, when known." example:"2026-11-26T11:00:00Z"`
	Truncated bool           `json:"truncated" doc:"True when content or metadata was cut to keep the answer small." example:"false"`
}

// memoryPage and memoryHistory are not named <operation>Response: client
// generators (oapi-codegen) give that name to their own response wrappers.
type memoryPage struct {
	Memories   []memoryItem `json:"memories" doc:"The caller's memories, newest first."`
	NextCursor string       `json:"next_cursor,omitempty" doc:"Pass as cursor to get the next page; absent on the last page." example:"eyJvIjoyMH0"`
	Truncated  bool         `json:"truncated" doc:"True when contents were cut to keep the answer under 100,000 characters." example:"false"`
}

type updateMemoryRequest struct {
	Content string `json:"content" minLength:"1" maxLength:"16384" doc:"The corrected fact, replacing the memory's content." example:"The user prefers aisle seats on long flights"`
}

type memoryChange struct {
	ChangeID   string     `json:"change_id" example:"7c1e2a1c-3d4f-4e5a-8b9c-0d1e2f3a4b5c"`
	Event      string     `json:"event" enum:"ADD,UPDATE,DELETE" example:"UPDATE"`
	OldContent string     `json:"old_content" doc:"The content before the change; empty for ADD." example:"The user prefers window seats"`
	NewContent string     `json:"new_content" doc:"The content after the change; empty for DELETE." example:"The user prefers aisle seats"`
	CreatedAt  *time.Time `json:"created_at" nullable:"true" example:"2026-11-26T11:00:00Z"`
}

type memoryHistory struct {
	MemoryID  string         `json:"memory_id" example:"5b7e2a1c-3d4f-4e5a-8b9c-0d1e2f3a4b5c"`
	Changes   []memoryChange `json:"changes" doc:"The memory's changes, oldest first."`
	Truncated bool           `json:"truncated" doc:"True when contents were cut or the newest changes left out to keep the answer small." example:"false"`
}

func toItem(rec memory.Record) memoryItem {
	return memoryItem{
		MemoryID: rec.ID, Content: rec.Content, Metadata: publicMetadata(rec.Metadata),
		CreatedAt: timeOrNil(rec.CreatedAt), UpdatedAt: timeOrNil(rec.UpdatedAt),
	}
}

func (s *Server) listMemories(w http.ResponseWriter, r *http.Request) {
	var page memory.Page
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeError(w, r, errs.Invalid("limit", "limit-not-a-number", "limit must be a whole number"))
			return
		}
		page.Limit = n
	}
	page.Cursor = r.URL.Query().Get("cursor")
	caller := request.Caller(r.Context())
	got, err := s.app.Queries.ListMemories.Handle(r.Context(), query.ListMemories{
		AppID: caller.AppID, EndUser: caller.EndUser, Page: page, RequestID: request.ID(r.Context()),
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	resp := memoryPage{Memories: make([]memoryItem, 0, len(got.Records)), NextCursor: got.NextCursor}
	for _, rec := range got.Records {
		resp.Memories = append(resp.Memories, toItem(rec))
	}
	resp.Truncated = fitItems(resp.Memories, func() any { return resp })
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) getMemory(w http.ResponseWriter, r *http.Request) {
	caller := request.Caller(r.Context())
	rec, err := s.app.Queries.GetMemory.Handle(r.Context(), query.GetMemory{
		AppID: caller.AppID, EndUser: caller.EndUser, MemoryID: chi.URLParam(r, "memory_id"), RequestID: request.ID(r.Context()),
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	items := []memoryItem{toItem(rec)}
	fitItems(items, func() any { return items[0] })
	writeJSON(w, http.StatusOK, items[0])
}

func (s *Server) memoryHistory(w http.ResponseWriter, r *http.Request) {
	caller := request.Caller(r.Context())
	id := chi.URLParam(r, "memory_id")
	changes, err := s.app.Queries.MemoryHistory.Handle(r.Context(), query.MemoryHistory{
		AppID: caller.AppID, EndUser: caller.EndUser, MemoryID: id, RequestID: request.ID(r.Context()),
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	resp := memoryHistory{MemoryID: id, Changes: make([]memoryChange, 0, len(changes))}
	for _, c := range changes {
		resp.Changes = append(resp.Changes, memoryChange{
			ChangeID: c.ID, Event: c.Event, OldContent: c.OldContent, NewContent: c.NewContent, CreatedAt: timeOrNil(c.CreatedAt),
		})
	}
	resp.Truncated = fitChanges(&resp)
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) updateMemory(w http.ResponseWriter, r *http.Request) {
	var req updateMemoryRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	a := newAcceptance(r)
	err := s.app.Commands.AcceptUpdateMemory.Handle(r.Context(), command.AcceptUpdateMemory{
		Acceptance: a.command(r), MemoryID: chi.URLParam(r, "memory_id"), Content: req.Content,
	})
	a.answer(w, r, err)
}

func (s *Server) deleteMemory(w http.ResponseWriter, r *http.Request) {
	a := newAcceptance(r)
	err := s.app.Commands.AcceptDeleteMemory.Handle(r.Context(), command.AcceptDeleteMemory{
		Acceptance: a.command(r), MemoryID: chi.URLParam(r, "memory_id"),
	})
	a.answer(w, r, err)
}

func (s *Server) forgetMemories(w http.ResponseWriter, r *http.Request) {
	a := newAcceptance(r)
	err := s.app.Commands.AcceptForgetMemories.Handle(r.Context(), command.AcceptForgetMemories{Acceptance: a.command(r)})
	a.answer(w, r, err)
}

// acceptance is the 202 a write answers once its operation is durably
// accepted: built before the use case runs, so that an Idempotency-Key
// response can be stored in the same transaction as the operation.
type acceptance struct {
	opID   string
	resp   idempotency.Response
	reply  *idempotency.Completion
	stored func()
}

// newAcceptance names the operation (the port generates its id) and builds
// its 202.
func newAcceptance(r *http.Request) *acceptance {
	opID := uuid.Must(uuid.NewV7()).String()
	body, _ := json.Marshal(operationAccepted{OperationID: opID, Status: "pending"}) // two strings: cannot fail
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Location", "/api/v1/operations/"+opID)
	a := &acceptance{opID: opID, resp: idempotency.Response{Status: http.StatusAccepted, Header: h, Body: body}}
	a.reply, a.stored = replyFor(r, a.resp)
	return a
}

// command is what the write's use case needs of the request to accept it:
// the operation named here, the caller, the request id and the reply.
func (a *acceptance) command(r *http.Request) command.Acceptance {
	caller := request.Caller(r.Context())
	return command.Acceptance{
		OperationID: a.opID, AppID: caller.AppID, EndUser: caller.EndUser, RequestID: request.ID(r.Context()), Reply: a.reply,
	}
}

// answer sends the 202, once the operation is accepted, or the problem err
// maps to.
func (a *acceptance) answer(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	a.stored()
	for k, v := range a.resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(a.resp.Status)
	_, _ = w.Write(a.resp.Body)
}
