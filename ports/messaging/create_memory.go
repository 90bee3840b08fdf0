package messaging

import (
	"context"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// createMemory translates the wire command into the application command.
func createMemory(a app.Application) func(ctx context.Context, c *events.CreateMemory) error {
	return func(ctx context.Context, c *events.CreateMemory) error {
		return a.Commands.CreateMemory.Handle(withCorrelation(ctx), command.CreateMemory{
			OperationID: c.OperationID, AppID: c.AppID, EndUser: c.EndUser, Content: c.Content,
			Metadata: c.Metadata, ConversationID: c.ConversationID, RequestID: c.RequestID, AcceptedAt: c.AcceptedAt,
		})
	}
}
