package messaging

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/components/cqrs"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// commandHandlers returns the handler of every kind of operation, each
// consuming its command's stream as <Command>.<instance>.
func commandHandlers(c app.Commands, instance string) []cqrs.CommandHandler {
	return []cqrs.CommandHandler{
		run(c.CreateMemory, instance),
		run(c.UpdateMemory, instance),
		run(c.DeleteMemory, instance),
		run(c.ForgetMemories, instance),
	}
}

// run consumes the stream of the command C and hands each, as decoded and
// with its correlation id, to the use case that runs it.
func run[C events.Command](useCase interface {
	Handle(context.Context, C) error
}, instance string) cqrs.CommandHandler {
	return cqrs.NewCommandHandler(events.Name(*new(C))+"."+instance, func(ctx context.Context, c *C) error {
		return useCase.Handle(withCorrelation(ctx), *c)
	})
}
