package command

import (
	"context"
	"fmt"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// CommandQueues tells whether a command's stream is idle: every entry in it
// delivered to the workers and acknowledged, none held or in progress.
type CommandQueues interface {
	Idle(ctx context.Context, commandName string) (bool, error)
}

// LostCommands sends again the commands of operations that stalled while their
// stream is idle. Such an operation's command is in no queue any more: Redis
// lost acknowledged writes (a crash between fsyncs, a failover), or the API's
// commit outlived the command it sent. Its kept copy is sent again; handlers
// are idempotent on the operation id, so a needless resend costs one claim.
type LostCommands struct {
	tx     Transactor
	sender CommandSender
	queues CommandQueues
	batch  int
}

func NewLostCommands(tx Transactor, sender CommandSender, queues CommandQueues) LostCommands {
	return LostCommands{tx: tx, sender: sender, queues: queues, batch: 100}
}

// Resend resends, per command stream that is idle, up to one batch of the
// commands of operations untouched for stalledFor, and returns how many.
func (l LostCommands) Resend(ctx context.Context, stalledFor time.Duration) (int, error) {
	sent := 0
	for _, name := range events.CommandNames() {
		idle, err := l.queues.Idle(ctx, name)
		if err != nil {
			return sent, fmt.Errorf("inspect %s stream: %w", name, err)
		}
		if !idle {
			continue // the command may still be on its way: never resend one that is
		}
		now := time.Now().UTC()
		var n int
		err = l.tx.InTx(ctx, func(ctx context.Context, tx Tx) error {
			cmds, err := tx.StaleCommands(ctx, name, now.Add(-stalledFor), now, l.batch)
			if err != nil {
				return err
			}
			for _, cmd := range cmds {
				if err := l.sender.Send(ctx, cmd); err != nil {
					return err
				}
			}
			n = len(cmds)
			return nil
		})
		if err != nil {
			return sent, fmt.Errorf("resend %s: %w", name, err)
		}
		sent += n
	}
	return sent, nil
}
