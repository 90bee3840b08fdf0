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

// Acceptance is what every accept command carries: the operation, which
// the port names so that it can answer with it, who asks, and how.
type Acceptance struct {
	OperationID string
	AppID       string
	EndUser     string
	RequestID   string
	// Reply, when the request carries an Idempotency-Key, is its response,
	// stored in the transaction that accepts the operation.
	Reply *idempotency.Completion
}

// Accepted is what accepting an operation writes, all or nothing: the pending
// operation with its kept command, its audit entry and, when the request
// carries an Idempotency-Key, its reply.
type Accepted struct {
	Operation *operation.Operation
	Command   events.Command
	Entry     audit.Entry
	Reply     *idempotency.Completion
}

// Write writes a through tx.
func (a Accepted) Write(ctx context.Context, tx Tx) error {
	if err := tx.InsertOperation(ctx, a.Operation, a.Command); err != nil {
		return err
	}
	if err := tx.InsertAudit(ctx, a.Entry); err != nil {
		return err
	}
	if a.Reply == nil {
		return nil
	}
	return tx.CompleteIdempotency(ctx, *a.Reply)
}

// AcceptStore commits what an accept writes. A store may commit many
// accepts together (group commit), each in fewer statements than Write
// runs, as long as each returns only once its own writes are committed.
type AcceptStore interface {
	Accept(ctx context.Context, a Accepted) error
}

// accepter is what every accept use case shares: it writes and queues.
type accepter struct {
	tx     AcceptStore
	sender CommandSender
}

// accept writes the pending operation, its audit entry and its kept
// command in one transaction, and queues the command once that commits. The
// command, which command builds around its header, names the kind. The
// caller's 202 rests on the commit alone: a command that cannot be queued
// (Redis unreachable, the process dying right after the commit) is sent again
// by LostCommands from the operation's kept copy. Queuing after the commit
// also means a worker never receives a command whose operation it cannot see.
func (a accepter) accept(ctx context.Context, p Acceptance, command func(events.Header) events.Command) error {
	now := time.Now().UTC()
	cmd := command(events.Header{
		Version: events.Version, OperationID: p.OperationID, AppID: p.AppID, EndUser: p.EndUser,
		RequestID: p.RequestID, AcceptedAt: now,
	})
	kind, ok := events.KindOfCommand(events.Name(cmd))
	if !ok {
		return fmt.Errorf("accept %s: not the command of a kind", events.Name(cmd))
	}
	op, err := operation.New(p.OperationID, p.AppID, p.EndUser, kind.Name, now)
	if err != nil {
		return err
	}
	err = a.tx.Accept(ctx, Accepted{Operation: op, Command: cmd, Reply: p.Reply, Entry: audit.Entry{
		AppID: p.AppID, EndUser: p.EndUser, Action: kind.Action, Status: audit.StatusPending,
		RequestID: p.RequestID, OperationID: p.OperationID, OccurredAt: now, CorrelationID: events.CorrelationID(ctx), Channel: events.Channel(ctx),
		TraceID: events.TraceID(ctx),
	}})
	if errors.Is(err, idempotency.ErrLockLost) {
		// Another request took the key over (this one was presumed dead): it
		// does the work, this one must not.
		return &errs.Error{Kind: errs.KindConflict, Slug: "idempotency-key-in-flight",
			Detail: "a request with this Idempotency-Key took over; retry shortly", Err: err, RetryAfter: time.Second}
	}
	if err != nil {
		return errs.Unavailable("not-accepted", "the request could not be stored durably; retry later",
			fmt.Errorf("accept %s: %w", kind.Name, err))
	}
	if op.Behind() {
		// An earlier write of the scope is pending: when it ends it hands
		// this one its turn from the kept command. Queued, the command would
		// only be read, found waiting and set aside.
		return nil
	}
	// The sender reports its own failures; the kept copy covers them.
	_ = a.sender.Send(context.WithoutCancel(ctx), cmd)
	return nil
}
