package messaging

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/components/cqrs"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// commandHandlers returns one handler per command stream, named name.<instance>;
// each only translates the wire command into the application command.
func commandHandlers(a app.Application, instance string) []cqrs.CommandHandler {
	return []cqrs.CommandHandler{
		cqrs.NewCommandHandler("CreateMemory."+instance, createMemory(a)),
		cqrs.NewCommandHandler("UpdateMemory."+instance, updateMemory(a)),
		cqrs.NewCommandHandler("DeleteMemory."+instance, deleteMemory(a)),
		cqrs.NewCommandHandler("ForgetMemories."+instance, forgetMemories(a)),
	}
}

func createMemory(a app.Application) func(ctx context.Context, c *events.CreateMemory) error {
	return func(ctx context.Context, c *events.CreateMemory) error {
		return a.Commands.CreateMemory.Handle(withCorrelation(ctx), command.CreateMemory{
			OperationID: c.OperationID, AppID: c.AppID, EndUser: c.EndUser, Content: c.Content,
			Metadata: c.Metadata, ConversationID: c.ConversationID, RequestID: c.RequestID, AcceptedAt: c.AcceptedAt,
		})
	}
}

func updateMemory(a app.Application) func(ctx context.Context, c *events.UpdateMemory) error {
	return func(ctx context.Context, c *events.UpdateMemory) error {
		return a.Commands.UpdateMemory.Handle(withCorrelation(ctx), command.UpdateMemory{
			OperationID: c.OperationID, AppID: c.AppID, EndUser: c.EndUser, MemoryID: c.MemoryID,
			Content: c.Content, RequestID: c.RequestID, AcceptedAt: c.AcceptedAt,
		})
	}
}

func deleteMemory(a app.Application) func(ctx context.Context, c *events.DeleteMemory) error {
	return func(ctx context.Context, c *events.DeleteMemory) error {
		return a.Commands.DeleteMemory.Handle(withCorrelation(ctx), command.DeleteMemory{
			OperationID: c.OperationID, AppID: c.AppID, EndUser: c.EndUser, MemoryID: c.MemoryID,
			RequestID: c.RequestID, AcceptedAt: c.AcceptedAt,
		})
	}
}

func forgetMemories(a app.Application) func(ctx context.Context, c *events.ForgetMemories) error {
	return func(ctx context.Context, c *events.ForgetMemories) error {
		return a.Commands.ForgetMemories.Handle(withCorrelation(ctx), command.ForgetMemories{
			OperationID: c.OperationID, AppID: c.AppID, EndUser: c.EndUser,
			RequestID: c.RequestID, AcceptedAt: c.AcceptedAt,
		})
	}
}
