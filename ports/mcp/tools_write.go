package mcp

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

type rememberInput struct {
	Content        string         `json:"content" jsonschema:"the fact to remember, in one short self-contained sentence (at most 16384 characters)"`
	Metadata       map[string]any `json:"metadata,omitempty" jsonschema:"optional flat tags: at most 32 keys with string, number or boolean values"`
	ConversationID string         `json:"conversation_id,omitempty" jsonschema:"optional id of the conversation the fact comes from"`
}

type rememberOutput struct {
	operationView
	Finished bool `json:"finished" jsonschema:"true when the memory was stored (or refused) before the answer; false: follow operation_id with get_operation"`
}

type updateInput struct {
	MemoryID string `json:"memory_id" jsonschema:"the memory to correct"`
	Content  string `json:"content" jsonschema:"the corrected fact, replacing the memory's content"`
}

type accepted struct {
	OperationID string `json:"operation_id" jsonschema:"pass it to get_operation to learn when the work is done"`
	Status      string `json:"status" jsonschema:"always pending: the work runs in the background"`
}

type nothing struct{}

func (t tools) addWrites(s *mcp.Server) {
	add(s, t.scopes, &mcp.Tool{
		Name: "remember", Annotations: hints("Remember", false, false, false),
		Description: "Store a durable fact about the user (a preference, a plan, a person, a project) in their long-term memory. " +
			"Waits a few seconds for it to be stored; when finished is false, follow operation_id with get_operation.",
	}, t.remember)
	add(s, t.scopes, &mcp.Tool{
		Name: "update_memory", Annotations: hints("Update a memory", false, true, true),
		Description: "Replace the content of one memory with a corrected fact, when the user says it changed or was wrong.",
	}, t.update)
	add(s, t.scopes, &mcp.Tool{
		Name: "delete_memory", Annotations: hints("Delete a memory", false, true, true),
		Description: "Delete one memory for good, when the user asks to forget that fact.",
	}, t.delete)
	add(s, t.scopes, &mcp.Tool{
		Name: "forget_everything", Annotations: hints("Forget everything", false, true, true),
		Description: "Delete every memory of the user, for good. Only when the user explicitly asks to forget everything; confirm with them first.",
	}, t.forget)
}

// acceptance names the operation (the port generates its id) for the caller.
// No Idempotency-Key: an MCP client retries a tool call as a new call.
func acceptance(ctx context.Context) command.Acceptance {
	c := request.Caller(ctx)
	return command.Acceptance{
		OperationID: uuid.Must(uuid.NewV7()).String(), AppID: c.AppID, EndUser: c.EndUser, RequestID: request.ID(ctx),
	}
}

func (t tools) remember(ctx context.Context, _ *mcp.CallToolRequest, in rememberInput) (*mcp.CallToolResult, rememberOutput, error) {
	a := acceptance(ctx)
	err := t.app.Commands.AcceptCreateMemory.Handle(ctx, command.AcceptCreateMemory{
		Acceptance: a, Content: in.Content, Metadata: in.Metadata, ConversationID: in.ConversationID,
	})
	if err != nil {
		return nil, rememberOutput{}, toolError(err)
	}
	op, err := t.await(ctx, a)
	if err != nil {
		// Accepted all the same: the model can follow it.
		out := rememberOutput{operationView: operationView{OperationID: a.OperationID, Status: string(operation.StatusPending)}}
		return text(out.summary()), out, nil
	}
	out := rememberOutput{operationView: toView(op), Finished: op.Status() != operation.StatusPending}
	return text(out.summary()), out, nil
}

// await polls the operation until it ends or RememberWait passes, and
// returns it as last seen.
func (t tools) await(ctx context.Context, a command.Acceptance) (*operation.Operation, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.RememberWait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	q := query.GetOperation{OperationID: a.OperationID, AppID: a.AppID, EndUser: a.EndUser}
	var last *operation.Operation
	for {
		op, err := t.app.Queries.GetOperation.Handle(ctx, q)
		switch {
		case err == nil:
			last = op
			if op.Status() != operation.StatusPending {
				return op, nil
			}
		case last == nil && ctx.Err() != nil:
			return nil, err
		}
		select {
		case <-ctx.Done():
			if last == nil {
				return nil, ctx.Err()
			}
			return last, nil
		case <-tick.C:
		}
	}
}

func (t tools) update(ctx context.Context, _ *mcp.CallToolRequest, in updateInput) (*mcp.CallToolResult, accepted, error) {
	a := acceptance(ctx)
	err := t.app.Commands.AcceptUpdateMemory.Handle(ctx, command.AcceptUpdateMemory{Acceptance: a, MemoryID: in.MemoryID, Content: in.Content})
	return answer(a, err)
}

func (t tools) delete(ctx context.Context, _ *mcp.CallToolRequest, in memoryRef) (*mcp.CallToolResult, accepted, error) {
	a := acceptance(ctx)
	err := t.app.Commands.AcceptDeleteMemory.Handle(ctx, command.AcceptDeleteMemory{Acceptance: a, MemoryID: in.MemoryID})
	return answer(a, err)
}

func (t tools) forget(ctx context.Context, _ *mcp.CallToolRequest, _ nothing) (*mcp.CallToolResult, accepted, error) {
	a := acceptance(ctx)
	err := t.app.Commands.AcceptForgetMemories.Handle(ctx, command.AcceptForgetMemories{Acceptance: a})
	return answer(a, err)
}

// answer is what a write that does not wait says once accepted.
func answer(a command.Acceptance, err error) (*mcp.CallToolResult, accepted, error) {
	if err != nil {
		return nil, accepted{}, toolError(err)
	}
	return text(fmt.Sprintf("Accepted; it runs in the background (operation %s).", a.OperationID)),
		accepted{OperationID: a.OperationID, Status: string(operation.StatusPending)}, nil
}

// summary is an operation's short text content.
func (v operationView) summary() string {
	switch v.Status {
	case string(operation.StatusSucceeded):
		if v.Note != "" {
			return "Done: " + v.Note + "."
		}
		return fmt.Sprintf("Done: %d memories stored or changed.", len(v.MemoryIDs))
	case string(operation.StatusFailed):
		return fmt.Sprintf("Failed: %s: %s.", v.ErrorCode, v.ErrorDetail)
	}
	return fmt.Sprintf("Still pending; follow it with get_operation (operation %s).", v.OperationID)
}
