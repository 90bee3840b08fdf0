package mcp

import (
	"context"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

type searchInput struct {
	Query string `json:"query" jsonschema:"what to look for, in natural language (1 to 2000 characters)"`
	Limit *int   `json:"limit,omitempty" jsonschema:"how many memories to return at most, 1 to 50; 10 when absent"`
}

type searchHit struct {
	MemoryID       string         `json:"memory_id" jsonschema:"the memory's id"`
	Content        string         `json:"content" jsonschema:"what was remembered"`
	RelevanceScore float64        `json:"relevance_score" jsonschema:"how well the memory matches the query, from 0 to 1"`
	Metadata       map[string]any `json:"metadata,omitempty" jsonschema:"the tags stored with the memory"`
	CreatedAt      *time.Time     `json:"created_at,omitempty" jsonschema:"when the memory was stored, when known"`
}

type searchOutput struct {
	RequestID string      `json:"request_id" jsonschema:"the request's id, for support"`
	Results   []searchHit `json:"results" jsonschema:"the best matches first"`
}

type listInput struct {
	Limit  *int   `json:"limit,omitempty" jsonschema:"how many memories per page, 1 to 100"`
	Cursor string `json:"cursor,omitempty" jsonschema:"the next_cursor of the previous page; absent for the first page"`
}

type listOutput struct {
	Memories   []memoryItem `json:"memories" jsonschema:"the user's memories, newest first"`
	NextCursor string       `json:"next_cursor,omitempty" jsonschema:"pass as cursor to get the next page; absent on the last page"`
}

type memoryRef struct {
	MemoryID string `json:"memory_id" jsonschema:"the memory's id, as search_memories or list_memories gave it"`
}

type change struct {
	ChangeID   string     `json:"change_id"`
	Event      string     `json:"event" jsonschema:"ADD, UPDATE or DELETE"`
	OldContent string     `json:"old_content" jsonschema:"the content before the change; empty for ADD"`
	NewContent string     `json:"new_content" jsonschema:"the content after the change; empty for DELETE"`
	CreatedAt  *time.Time `json:"created_at,omitempty"`
}

type historyOutput struct {
	MemoryID string   `json:"memory_id"`
	Changes  []change `json:"changes" jsonschema:"the memory's changes, oldest first"`
}

type operationRef struct {
	OperationID string `json:"operation_id" jsonschema:"the operation_id a write returned"`
}

func (t tools) addReads(s *mcp.Server) {
	add(s, t.scopes, &mcp.Tool{
		Name: "search_memories", Annotations: hints("Search memories", true, false, true),
		Description: "Search the user's long-term memory for facts relevant to a question, best matches first. " +
			"Call it before answering anything that may depend on what the user said in earlier conversations.",
	}, t.search)
	add(s, t.scopes, &mcp.Tool{
		Name: "list_memories", Annotations: hints("List memories", true, false, true),
		Description: "List everything remembered about the user, newest first, one page at a time; " +
			"pass next_cursor back as cursor for the next page. Prefer search_memories to find something.",
	}, t.list)
	add(s, t.scopes, &mcp.Tool{
		Name: "get_memory", Annotations: hints("Get a memory", true, false, true),
		Description: "Read one memory by its memory_id.",
	}, t.get)
	add(s, t.scopes, &mcp.Tool{
		Name: "memory_history", Annotations: hints("Memory history", true, false, true),
		Description: "Show how one memory changed over time: when it was added, updated or deleted, with the content before and after.",
	}, t.history)
	add(s, t.scopes, &mcp.Tool{
		Name: "get_operation", Annotations: hints("Get an operation", true, false, true),
		Description: "Follow a write (remember, update_memory, delete_memory, forget_everything) that answered pending: " +
			"status becomes succeeded or failed, with the memories it stored or changed.",
	}, t.operation)
}

func (t tools) search(ctx context.Context, _ *mcp.CallToolRequest, in searchInput) (*mcp.CallToolResult, searchOutput, error) {
	q, err := memory.NewQuery(in.Query, in.Limit)
	if err != nil {
		return nil, searchOutput{}, toolError(err)
	}
	c := request.Caller(ctx)
	hits, err := t.app.Queries.SearchMemories.Handle(ctx, query.SearchMemories{
		AppID: c.AppID, EndUser: c.EndUser, Query: q, RequestID: request.ID(ctx),
	})
	if err != nil {
		return nil, searchOutput{}, toolError(err)
	}
	out := searchOutput{RequestID: request.ID(ctx), Results: make([]searchHit, 0, len(hits))}
	for _, h := range hits {
		out.Results = append(out.Results, searchHit{
			MemoryID: h.ID, Content: h.Content, RelevanceScore: h.Relevance,
			Metadata: memory.PublicMetadata(h.Metadata), CreatedAt: timeOrNil(h.CreatedAt),
		})
	}
	return text(fmt.Sprintf("%d memories found.", len(out.Results))), out, nil
}

func (t tools) list(ctx context.Context, _ *mcp.CallToolRequest, in listInput) (*mcp.CallToolResult, listOutput, error) {
	page := memory.Page{Cursor: in.Cursor}
	if in.Limit != nil {
		page.Limit = *in.Limit
	}
	c := request.Caller(ctx)
	got, err := t.app.Queries.ListMemories.Handle(ctx, query.ListMemories{
		AppID: c.AppID, EndUser: c.EndUser, Page: page, RequestID: request.ID(ctx),
	})
	if err != nil {
		return nil, listOutput{}, toolError(err)
	}
	out := listOutput{Memories: make([]memoryItem, 0, len(got.Records)), NextCursor: got.NextCursor}
	for _, rec := range got.Records {
		out.Memories = append(out.Memories, toItem(rec))
	}
	more := ""
	if out.NextCursor != "" {
		more = " More on the next page."
	}
	return text(fmt.Sprintf("%d memories on this page.%s", len(out.Memories), more)), out, nil
}

func (t tools) get(ctx context.Context, _ *mcp.CallToolRequest, in memoryRef) (*mcp.CallToolResult, memoryItem, error) {
	c := request.Caller(ctx)
	rec, err := t.app.Queries.GetMemory.Handle(ctx, query.GetMemory{
		AppID: c.AppID, EndUser: c.EndUser, MemoryID: in.MemoryID, RequestID: request.ID(ctx),
	})
	if err != nil {
		return nil, memoryItem{}, toolError(err)
	}
	return text(rec.Content), toItem(rec), nil
}

func (t tools) history(ctx context.Context, _ *mcp.CallToolRequest, in memoryRef) (*mcp.CallToolResult, historyOutput, error) {
	c := request.Caller(ctx)
	changes, err := t.app.Queries.MemoryHistory.Handle(ctx, query.MemoryHistory{
		AppID: c.AppID, EndUser: c.EndUser, MemoryID: in.MemoryID, RequestID: request.ID(ctx),
	})
	if err != nil {
		return nil, historyOutput{}, toolError(err)
	}
	out := historyOutput{MemoryID: in.MemoryID, Changes: make([]change, 0, len(changes))}
	for _, ch := range changes {
		out.Changes = append(out.Changes, change{
			ChangeID: ch.ID, Event: ch.Event, OldContent: ch.OldContent, NewContent: ch.NewContent, CreatedAt: timeOrNil(ch.CreatedAt),
		})
	}
	return text(fmt.Sprintf("%d changes.", len(out.Changes))), out, nil
}

func (t tools) operation(ctx context.Context, _ *mcp.CallToolRequest, in operationRef) (*mcp.CallToolResult, operationView, error) {
	c := request.Caller(ctx)
	op, err := t.app.Queries.GetOperation.Handle(ctx, query.GetOperation{OperationID: in.OperationID, AppID: c.AppID, EndUser: c.EndUser})
	if err != nil {
		return nil, operationView{}, toolError(err)
	}
	v := toView(op)
	return text(v.summary()), v, nil
}
