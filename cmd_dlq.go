package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/service"
)

// replayJSON is the outcome of replaying one dead letter.
type replayJSON struct {
	MessageID   string `json:"message_id"`
	OperationID string `json:"operation_id"`
	Replayed    bool   `json:"replayed"`
	Error       string `json:"error,omitempty"`
}

// runDLQ lists and replays commands parked on the dead-letter (poison) stream.
// Output is JSON on stdout so scripts can read it.
func runDLQ(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	return withService(ctx, getenv, stderr, func(svc *service.Service) error {
		dlq := svc.App()
		enc := json.NewEncoder(stdout)
		switch {
		case args[0] == "list" && len(args) == 1:
			letters, err := dlq.Queries.ListDeadLetters.Handle(ctx, command.ListDeadLetters{})
			if err != nil {
				return err
			}
			return enc.Encode(letters)
		case args[0] == "replay" && len(args) == 2 && args[1] == "--all":
			results, err := dlq.Commands.ReplayAllDeadLetters.Handle(ctx, command.ReplayAllDeadLetters{})
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
			if encErr := enc.Encode(out); encErr != nil {
				return encErr
			}
			if err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("dlq replay: %d of %d dead letters could not be replayed", failed, len(results))
			}
			return nil
		case args[0] == "drop" && len(args) == 2:
			l, err := dlq.Commands.DropDeadLetter.Handle(ctx, command.DropDeadLetter{MessageID: args[1]})
			if err != nil {
				return fmt.Errorf("dlq drop %s: %w", args[1], err)
			}
			return enc.Encode(map[string]any{"message_id": l.ID, "operation_id": l.OperationID, "dropped": true})
		case args[0] == "replay" && len(args) == 2:
			l, err := dlq.Commands.ReplayDeadLetter.Handle(ctx, command.ReplayDeadLetter{MessageID: args[1]})
			if err != nil {
				return fmt.Errorf("dlq replay %s: %w", args[1], err)
			}
			return enc.Encode(replayJSON{MessageID: l.ID, OperationID: l.OperationID, Replayed: true})
		}
		return errUsage
	})
}
