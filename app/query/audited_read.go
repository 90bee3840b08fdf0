package query

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// read is one call of a caller that reads memories, to be audited.
type read struct {
	appID, endUser, requestID string
	action                    audit.Action
	what                      string // "search", "listing", ... for error details
}

// finish audits the call and publishes its event (built by event, given when and
// whether it succeeded) before the caller gets an answer: a read whose audit
// cannot be written is not answered. The audit is written even when the caller
// gave up waiting. It returns the error for the caller: readErr, mapped.
func (r read) finish(ctx context.Context, rec ReadRecorder, readErr error, event func(now time.Time, succeeded bool) any) error {
	now := time.Now().UTC()
	entry := audit.Entry{
		AppID: r.appID, EndUser: r.endUser, Action: r.action, Status: audit.StatusSucceeded,
		RequestID: r.requestID, OccurredAt: now, CompletedAt: now, CorrelationID: events.CorrelationID(ctx), Channel: events.Channel(ctx),
		TraceID: events.TraceID(ctx),
	}
	if readErr != nil {
		entry.Status = audit.StatusFailed
		entry.Detail = readErr.Error()
	}
	if err := rec.RecordRead(context.WithoutCancel(ctx), entry, event(now, readErr == nil)); err != nil {
		return errs.Unavailable("audit-unavailable", "the "+r.what+" could not be audited; retry later",
			fmt.Errorf("record %s: %w", r.action, err))
	}
	if readErr != nil {
		return r.callerError(readErr)
	}
	return nil
}

// callerError passes on what the caller can act on (a memory missing from its
// scope, a cursor it made up) and makes any other failure a 503 of the Memory Bank.
func (r read) callerError(err error) error {
	switch errs.KindOf(err) {
	case errs.KindNotFound, errs.KindInvalid, errs.KindUnavailable:
		return err
	}
	var be *memory.BankError
	if errors.As(err, &be) && !be.Transient {
		return errs.Unavailable("memory-bank-rejected", "the Memory Bank refused the "+r.what+": "+be.Reason, err)
	}
	e := errs.Unavailable("memory-bank-unavailable", "the Memory Bank is unavailable; retry later", err)
	e.RetryAfter, _ = memory.NotSent(err)
	return e
}

// checkOwned answers an id that can name no memory (see memory.CheckID) or that
// the registry does not hold for scope as a missing memory, without asking the
// Memory Bank; an id that can name no memory is not repeated in the audit or
// the event either.
func checkOwned(ctx context.Context, registry Registry, scope memory.Scope, id string) (string, error) {
	if memory.CheckID(id) != nil {
		return "", errs.NotFound("memory-not-found", "no memory with this id")
	}
	owned, err := registry.Owns(ctx, scope, id)
	if err != nil {
		return id, errs.Unavailable("registry-unavailable", "the memory could not be looked up; retry later", err)
	}
	if !owned {
		return id, errs.NotFound("memory-not-found", "no memory with this id")
	}
	return id, nil
}
