package messaging

import (
	"context"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/cqrs"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// commandHandlers returns the handler of every kind of operation, each
// consuming its command's stream as <Command>.<instance>.
func commandHandlers(c app.Commands, instance string, m *operationMetrics) []cqrs.CommandHandler {
	return []cqrs.CommandHandler{
		run(c.CreateMemory, instance, m),
		run(c.UpdateMemory, instance, m),
		run(c.DeleteMemory, instance, m),
		run(c.ForgetMemories, instance, m),
	}
}

// run consumes the stream of the command C and hands each, as decoded and
// with its correlation id, to the use case that runs it, counted and timed
// under its kind.
func run[C events.Command](useCase interface {
	Handle(context.Context, C) error
}, instance string, m *operationMetrics) cqrs.CommandHandler {
	name := events.Name(*new(C))
	kind := name
	if k, ok := events.KindOfCommand(name); ok {
		kind = string(k.Name)
	}
	return cqrs.NewCommandHandler(name+"."+instance, func(ctx context.Context, c *C) error {
		start := time.Now()
		err := useCase.Handle(withCorrelation(ctx), *c)
		m.observe(kind, start, err)
		return err
	})
}
