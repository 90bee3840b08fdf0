package command

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// An operation's life, which every asynchronous command shares: accepted with
// its audit entry and kept command in one transaction, its command queued
// after that commits, claimed under a lease by the worker when its scope's
// earlier writes have ended, and finished with its audit entry and event in
// another transaction, which also hands the turn to the next write waiting.

// pending is what an accepted operation writes before its command is sent.
type pending struct {
	operationID, appID, endUser, requestID string
	kind                                   operation.Kind
	action                                 audit.Action
	// reply, when set, is the Idempotency-Key response that answers for the
	// operation, stored with it.
	reply *idempotency.Completion
}

// acceptOperation writes the pending operation, its audit entry and its kept
// command in one transaction, and queues the command once that commits. The
// caller's 202 rests on the commit alone: a command that cannot be queued
// (Redis unreachable, the process dying right after the commit) is sent again
// by LostCommands from the operation's kept copy. Queuing after the commit
// also means a worker never receives a command whose operation it cannot see.
func acceptOperation(ctx context.Context, t Transactor, sender CommandSender, p pending, command func(acceptedAt time.Time) any) error {
	now := time.Now().UTC()
	op, err := operation.New(p.operationID, p.appID, p.endUser, p.kind, now)
	if err != nil {
		return err
	}
	cmd := command(now)
	err = t.InTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.InsertOperation(ctx, op, cmd); err != nil {
			return err
		}
		if err := tx.InsertAudit(ctx, audit.Entry{
			AppID: p.appID, EndUser: p.endUser, Action: p.action, Status: audit.StatusPending,
			RequestID: p.requestID, OperationID: p.operationID, OccurredAt: now, CorrelationID: events.CorrelationID(ctx),
		}); err != nil {
			return err
		}
		if p.reply == nil {
			return nil
		}
		return tx.CompleteIdempotency(ctx, *p.reply)
	})
	if errors.Is(err, idempotency.ErrLockLost) {
		// Another request took the key over (this one was presumed dead): it
		// does the work, this one must not.
		return &errs.Error{Kind: errs.KindConflict, Slug: "idempotency-key-in-flight",
			Detail: "a request with this Idempotency-Key took over; retry shortly", Err: err, RetryAfter: time.Second}
	}
	if err != nil {
		return errs.Unavailable("not-accepted", "the request could not be stored durably; retry later",
			fmt.Errorf("accept %s: %w", p.kind, err))
	}
	// The sender reports its own failures; the kept copy covers them.
	_ = sender.Send(context.WithoutCancel(ctx), cmd)
	return nil
}
