package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
)

// replayJSON is the outcome of replaying one dead letter.
type replayJSON struct {
	MessageID   string `json:"message_id"`
	OperationID string `json:"operation_id"`
	Replayed    bool   `json:"replayed"`
	Error       string `json:"error,omitempty"`
}

// dlqCommand lists, replays and drops commands parked on the dead-letter
// (poison) stream. Output is JSON on stdout so scripts can read it.
func dlqCommand() *node {
	return group("dlq", "list, replay and drop commands parked on the dead-letter (poison) stream; output is JSON on stdout",
		leaf("list", "", "list commands parked on the dead-letter (poison) stream", noFlags(dlqList)),
		leaf("replay", "MESSAGE_ID|--all", "reopen the operations of parked commands and send them again", dlqReplay),
		leaf("drop", "MESSAGE_ID", "delete a parked command without replaying it (its operation stays failed)", noFlags(dlqDrop)),
	)
}

func dlqList(ctx context.Context, c *call, args []string) error {
	if len(args) != 0 {
		return misuse("takes no arguments")
	}
	return c.connect(ctx, func(rt Runtime) error {
		letters, err := rt.App().Queries.ListDeadLetters.Handle(ctx, command.ListDeadLetters{})
		if err != nil {
			return err
		}
		return json.NewEncoder(c.env.Stdout).Encode(letters)
	})
}

func dlqReplay(fs *flag.FlagSet) action {
	all := fs.Bool("all", false, "replay every parked command")
	return func(ctx context.Context, c *call, args []string) error {
		switch {
		case *all && len(args) == 0:
			return c.connect(ctx, func(rt Runtime) error { return replayAll(ctx, c, rt) })
		case *all || len(args) != 1:
			return misuse("give exactly one MESSAGE_ID, or --all")
		}
		return c.connect(ctx, func(rt Runtime) error {
			l, err := rt.App().Commands.ReplayDeadLetter.Handle(ctx, command.ReplayDeadLetter{MessageID: args[0]})
			if err != nil {
				return fmt.Errorf("dlq replay %s: %w", args[0], err)
			}
			return json.NewEncoder(c.env.Stdout).Encode(replayJSON{MessageID: l.ID, OperationID: l.OperationID, Replayed: true})
		})
	}
}

// replayAll replays every dead letter, prints each outcome, and fails when
// any could not be replayed.
func replayAll(ctx context.Context, c *call, rt Runtime) error {
	results, err := rt.App().Commands.ReplayAllDeadLetters.Handle(ctx, command.ReplayAllDeadLetters{})
	out := make([]replayJSON, 0, len(results))
	failed := 0
	for _, r := range results {
		j := replayJSON{MessageID: r.Letter.ID, OperationID: r.Letter.OperationID, Replayed: r.Err == nil}
		if r.Err != nil {
			j.Error = r.Err.Error()
			failed++
		}
		out = append(out, j)
	}
	if encErr := json.NewEncoder(c.env.Stdout).Encode(out); encErr != nil {
		return encErr
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("dlq replay: %d of %d dead letters could not be replayed", failed, len(results))
	}
	return nil
}

func dlqDrop(ctx context.Context, c *call, args []string) error {
	if len(args) != 1 {
		return misuse("give exactly one MESSAGE_ID")
	}
	return c.connect(ctx, func(rt Runtime) error {
		l, err := rt.App().Commands.DropDeadLetter.Handle(ctx, command.DropDeadLetter{MessageID: args[0]})
		if err != nil {
			return fmt.Errorf("dlq drop %s: %w", args[0], err)
		}
		return json.NewEncoder(c.env.Stdout).Encode(map[string]any{"message_id": l.ID, "operation_id": l.OperationID, "dropped": true})
	})
}
