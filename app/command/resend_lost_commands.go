package command

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// CommandQueues tells whether a command is still on its way to a worker.
type CommandQueues interface {
	// OnItsWay tells whether the command queued as entry of its stream is
	// still there, waiting for a worker or held by one; false when the entry is
	// gone (trimmed after its acknowledgement, or lost with Redis's data).
	OnItsWay(ctx context.Context, commandName, entry string) (bool, error)
	// Idle tells whether every entry of the command's stream was delivered and
	// acknowledged: then no command of that name is on its way.
	Idle(ctx context.Context, commandName string) (bool, error)
}

// ResendLostCommands sends again the commands of operations that stalled for
// StalledFor and whose command is no longer on its way: Redis lost
// acknowledged writes (a crash between fsyncs, a failover, a flush), the
// command could not be queued after its operation committed, or its worker
// acknowledged it without ending the operation. Its kept copy is sent again;
// handlers are idempotent on the operation id, so a needless resend costs one
// claim.
type ResendLostCommands struct{ StalledFor time.Duration }

// ResendLostCommandsHandler answers with how many commands it sent.
type ResendLostCommandsHandler decorator.QueryHandler[ResendLostCommands, int]

type resendLostCommandsHandler struct {
	tx     Transactor
	sender CommandSender
	queues CommandQueues
	batch  int
}

func NewResendLostCommandsHandler(tx Transactor, sender CommandSender, queues CommandQueues, log *slog.Logger, m *decorator.Metrics) ResendLostCommandsHandler {
	return decorator.ApplyQueryDecorators[ResendLostCommands, int](
		resendLostCommandsHandler{tx: tx, sender: sender, queues: queues, batch: 100}, log, m)
}

// Handle looks, per command stream, at up to one batch of the operations
// untouched for StalledFor (each at most once per StalledFor, so a long backlog
// is looked at in turn), sends again the commands no longer on their way, and
// returns how many it sent. A command whose stream entry is known is looked up
// in its stream, so this works while the stream is busy; one whose entry is
// not known (queued by an older version) is sent only while its stream is idle.
func (l resendLostCommandsHandler) Handle(ctx context.Context, c ResendLostCommands) (int, error) {
	sent := 0
	for _, name := range events.CommandNames() {
		now := time.Now().UTC()
		var kept []KeptCommand
		err := l.tx.InTx(ctx, func(ctx context.Context, tx Tx) error {
			var err error
			kept, err = tx.StaleCommands(ctx, name, now.Add(-c.StalledFor), now, l.batch)
			return err
		})
		if err != nil {
			return sent, fmt.Errorf("look for stalled %s: %w", name, err)
		}
		idle, idleKnown := false, false
		for _, k := range kept {
			lost, err := l.lost(ctx, name, k, &idle, &idleKnown)
			if err != nil {
				return sent, fmt.Errorf("inspect %s stream: %w", name, err)
			}
			if !lost {
				continue
			}
			if err := l.sender.Send(ctx, k.Command); err != nil {
				return sent, fmt.Errorf("resend %s: %w", name, err)
			}
			sent++
		}
	}
	return sent, nil
}

// lost tells whether k's command is no longer on its way.
func (l resendLostCommandsHandler) lost(ctx context.Context, name string, k KeptCommand, idle, idleKnown *bool) (bool, error) {
	if k.Entry != "" {
		onItsWay, err := l.queues.OnItsWay(ctx, name, k.Entry)
		return !onItsWay, err
	}
	if !*idleKnown {
		var err error
		if *idle, err = l.queues.Idle(ctx, name); err != nil {
			return false, err
		}
		*idleKnown = true
	}
	return *idle, nil
}
