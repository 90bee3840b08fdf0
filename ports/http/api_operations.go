package http

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// Descriptions are written for the model that reads them: when to call the
// operation and what comes back, in at most 300 characters (gpt-actions.md).

func memoryIDParam(what string) *huma.Param {
	return &huma.Param{
		Name: "memory_id", In: "path", Required: true,
		Description: "The id of the memory " + what + ", as returned by searchMemories or listMemories.",
		Schema:      &huma.Schema{Type: "string", MinLength: intPtr(1), MaxLength: intPtr(128)},
		Example:     "5b7e2a1c-3d4f-4e5a-8b9c-0d1e2f3a4b5c",
	}
}

// Problems the handlers add to those of the middleware.
var (
	memoryNotFound    = problemCase{http.StatusNotFound, "no memory has this id in the caller's memory space"}
	memoryIDInvalid   = problemCase{http.StatusUnprocessableEntity, "memory_id cannot name a memory (over 128 characters)"}
	operationNotFound = problemCase{http.StatusNotFound, "no operation of the caller has this id"}
)

var acceptedResponse = map[int]response{
	http.StatusAccepted: {
		description: "Accepted: the work runs in the background; follow operation_id with getOperation.",
		body:        operationAccepted{},
		headers: map[string]*huma.Param{"Location": {
			Description: "The operation to follow.", Schema: &huma.Schema{Type: "string"},
			Example: "/api/v1/operations/0193a6f0-7c1e-7b3a-9f51-2c4d5e6f7a8b",
		}},
	},
}

func (s *Server) operations() []apiOperation {
	return []apiOperation{
		{
			op: huma.Operation{
				OperationID: "searchMemories", Method: http.MethodPost, Path: "/api/v1/search",
				Summary: "Search the user's memories",
				Description: "Call before answering whenever what the user said earlier may matter (preferences, facts, plans). " +
					"Returns the best matching memories with a relevance_score from 0 to 1 and created_at, to tell old from new.",
				Tags: []string{tagMemories},
			},
			idempotent: true, // a replayed search is neither audited nor published twice
			request:    searchRequest{},
			responses:  map[int]response{http.StatusOK: {description: "The matches, best first.", body: searchResponse{}}},
			problems:   []problemCase{{http.StatusUnprocessableEntity, "query is empty, over 2000 characters or not text, or limit is not 1 to 50"}},
			handler:    s.searchMemories,
		},
		{
			op: huma.Operation{
				OperationID: "createMemory", Method: http.MethodPost, Path: "/api/v1/memories",
				Summary: "Remember a new fact",
				Description: "Call when the user shares a lasting fact or preference worth remembering, or asks you to remember something. " +
					"Answers 202 with an operation_id at once; the memory is stored in the background (see getOperation).",
				Tags: []string{tagMemories},
			},
			write: true, idempotent: true,
			request:   createMemoryRequest{},
			responses: acceptedResponse,
			problems:  []problemCase{{http.StatusUnprocessableEntity, "content, metadata or conversation_id breaks a rule (field names which)"}},
			handler:   s.createMemory,
		},
		{
			op: huma.Operation{
				OperationID: "listMemories", Method: http.MethodGet, Path: "/api/v1/memories",
				Summary: "List the user's memories",
				Description: "Call when the user asks what you remember about them. Returns their memories newest first, " +
					"a page at a time; pass next_cursor as cursor for the next page.",
				Tags: []string{tagMemories},
				Parameters: []*huma.Param{
					{
						Name: "limit", In: "query",
						Description: "How many memories to return, 1 to 100 (default 20).",
						Schema:      &huma.Schema{Type: "integer", Minimum: floatPtr(1), Maximum: floatPtr(100)},
						Example:     20,
					},
					{
						Name: "cursor", In: "query",
						Description: "The next_cursor of the previous page; leave out for the first page.",
						Schema:      &huma.Schema{Type: "string"},
						Example:     "eyJvIjoyMH0",
					},
				},
			},
			responses: map[int]response{http.StatusOK: {description: "One page of memories.", body: memoryPage{}}},
			problems:  []problemCase{{http.StatusUnprocessableEntity, "limit is not a whole number, or cursor is not the next_cursor of an earlier page"}},
			handler:   s.listMemories,
		},
		{
			op: huma.Operation{
				OperationID: "exportMemories", Method: http.MethodGet, Path: "/api/v1/memories/export",
				Summary: "Export every memory (a download; not for conversations)",
				Description: "Do not call this in a conversation: it returns everything the user has stored, with every change, " +
					"as one large JSON document, for the user to take elsewhere. Use listMemories to show memories.",
				Tags: []string{tagMemories},
			},
			responses: map[int]response{http.StatusOK: {description: "Every memory of the caller, streamed.", body: exportDocument{}}},
			handler:   s.exportMemories,
		},
		{
			op: huma.Operation{
				OperationID: "getMemory", Method: http.MethodGet, Path: "/api/v1/memories/{memory_id}",
				Summary:     "Read one memory",
				Description: "Call to read one memory in full by its id. Returns its content, metadata and when it was created and last updated.",
				Tags:        []string{tagMemories},
				Parameters:  []*huma.Param{memoryIDParam("to read")},
			},
			responses: map[int]response{http.StatusOK: {description: "The memory.", body: memoryItem{}}},
			problems:  []problemCase{memoryNotFound},
			handler:   s.getMemory,
		},
		{
			op: huma.Operation{
				OperationID: "updateMemory", Method: http.MethodPatch, Path: "/api/v1/memories/{memory_id}",
				Summary: "Correct a memory",
				Description: "Call when the user corrects something you remember; replaces the memory's content. " +
					"Answers 202 with an operation_id; the change is made in the background (see getOperation).",
				Tags:       []string{tagMemories},
				Parameters: []*huma.Param{memoryIDParam("to correct")},
			},
			write: true, idempotent: true, consequential: true,
			request:   updateMemoryRequest{},
			responses: acceptedResponse,
			problems: []problemCase{memoryNotFound, memoryIDInvalid,
				{http.StatusUnprocessableEntity, "content is empty, over 16384 characters or not text"}},
			handler: s.updateMemory,
		},
		{
			op: huma.Operation{
				OperationID: "deleteMemory", Method: http.MethodDelete, Path: "/api/v1/memories/{memory_id}",
				Summary: "Forget one memory",
				Description: "Call when the user asks you to forget one thing, after confirming with them. " +
					"Answers 202 with an operation_id; the memory is deleted in the background (see getOperation).",
				Tags:       []string{tagMemories},
				Parameters: []*huma.Param{memoryIDParam("to forget")},
			},
			write: true, idempotent: true, consequential: true,
			responses: acceptedResponse,
			problems:  []problemCase{memoryNotFound, memoryIDInvalid},
			handler:   s.deleteMemory,
		},
		{
			op: huma.Operation{
				OperationID: "forgetAllMemories", Method: http.MethodDelete, Path: "/api/v1/memories",
				Summary: "Forget everything about the user",
				Description: "Call only when the user explicitly asks you to forget everything, after confirming. " +
					"Answers 202 with an operation_id; getOperation then reports how many memories were removed.",
				Tags: []string{tagMemories},
			},
			write: true, idempotent: true, consequential: true,
			responses: acceptedResponse,
			handler:   s.forgetMemories,
		},
		{
			op: huma.Operation{
				OperationID: "memoryHistory", Method: http.MethodGet, Path: "/api/v1/memories/{memory_id}/history",
				Summary:     "Show how a memory changed",
				Description: "Call when the user asks how or when a memory changed. Returns its changes oldest first: ADD, UPDATE or DELETE, with the content before and after.",
				Tags:        []string{tagMemories},
				Parameters:  []*huma.Param{memoryIDParam("whose history to show")},
			},
			responses: map[int]response{http.StatusOK: {description: "The memory's changes.", body: memoryHistory{}}},
			problems:  []problemCase{memoryNotFound},
			handler:   s.memoryHistory,
		},
		{
			op: huma.Operation{
				OperationID: "getOperation", Method: http.MethodGet, Path: "/api/v1/operations/{operation_id}",
				Summary: "Follow a write until it is done",
				Description: "Call after createMemory, updateMemory, deleteMemory or forgetAllMemories to learn whether the work is done. " +
					"status is pending, succeeded or failed; call again a few seconds later while pending.",
				Tags: []string{tagOperations},
				Parameters: []*huma.Param{{
					Name: "operation_id", In: "path", Required: true,
					Description: "The operation_id a write answered with.",
					Schema:      &huma.Schema{Type: "string"},
					Example:     "0193a6f0-7c1e-7b3a-9f51-2c4d5e6f7a8b",
				}},
			},
			responses: map[int]response{http.StatusOK: {description: "The operation.", body: operationResponse{}}},
			problems:  []problemCase{operationNotFound},
			handler:   s.getOperation,
		},
	}
}

func floatPtr(f float64) *float64 { return &f }
