// Package operation models asynchronous work accepted with 202 and finished by a
// worker: its state machine and the lease that keeps two workers off one operation.
package operation

import (
	"context"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// Status of an operation. Only pending changes; succeeded and failed are terminal.
type Status string

const (
	StatusPending   Status = "pending"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
)

// Kind names the work an operation does.
type Kind string

const (
	KindCreateMemory   Kind = "create_memory"
	KindUpdateMemory   Kind = "update_memory"
	KindDeleteMemory   Kind = "delete_memory"
	KindForgetMemories Kind = "forget_memories"
)

// FailureRetriesExhausted is the failure code of an operation whose command was
// parked on the dead-letter (poison) stream: the only failure a replay may undo.
const FailureRetriesExhausted = "retries-exhausted"

// Failure says why an operation failed, in words safe to show the caller.
type Failure struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// Operation is one accepted asynchronous request.
type Operation struct {
	id         string
	appID      string
	endUser    string
	kind       Kind
	status     Status
	memoryIDs  []string
	removed    int
	failure    *Failure
	attempts   int
	leaseUntil time.Time
	createdAt  time.Time
	updatedAt  time.Time
}

// New accepts an operation in state pending.
func New(id, appID, endUser string, kind Kind, now time.Time) (*Operation, error) {
	if id == "" || appID == "" {
		return nil, errs.Invalid("operation_id", "operation-invalid", "an operation needs an id and an application")
	}
	return &Operation{id: id, appID: appID, endUser: endUser, kind: kind, status: StatusPending, createdAt: now, updatedAt: now}, nil
}

// UnmarshalFromDatabase rebuilds an operation from storage; adapters only.
func UnmarshalFromDatabase(id, appID, endUser string, kind Kind, status Status, memoryIDs []string, removed int,
	failure *Failure, attempts int, leaseUntil, createdAt, updatedAt time.Time) *Operation {
	return &Operation{id: id, appID: appID, endUser: endUser, kind: kind, status: status, memoryIDs: memoryIDs,
		removed: removed, failure: failure, attempts: attempts, leaseUntil: leaseUntil, createdAt: createdAt, updatedAt: updatedAt}
}

func (o *Operation) ID() string            { return o.id }
func (o *Operation) AppID() string         { return o.appID }
func (o *Operation) EndUser() string       { return o.endUser }
func (o *Operation) Kind() Kind            { return o.kind }
func (o *Operation) Status() Status        { return o.status }
func (o *Operation) MemoryIDs() []string   { return o.memoryIDs }
func (o *Operation) Removed() int          { return o.removed }
func (o *Operation) Failure() *Failure     { return o.failure }
func (o *Operation) Attempts() int         { return o.attempts }
func (o *Operation) LeaseUntil() time.Time { return o.leaseUntil }
func (o *Operation) CreatedAt() time.Time  { return o.createdAt }
func (o *Operation) UpdatedAt() time.Time  { return o.updatedAt }

// IsTerminal tells whether the operation is finished for good.
func (o *Operation) IsTerminal() bool { return o.status != StatusPending }

// VisibleTo tells whether a caller may see the operation: only its own.
func (o *Operation) VisibleTo(appID, endUser string) bool {
	return o.appID == appID && o.endUser == endUser
}

// ErrTerminal is returned when a finished operation is asked to change.
var ErrTerminal = &errs.Error{Kind: errs.KindConflict, Slug: "operation-terminal", Detail: "the operation has already finished"}

// ErrLeased is returned when another worker holds the operation right now.
var ErrLeased = &errs.Error{Kind: errs.KindConflict, Slug: "operation-leased", Detail: "another worker is processing the operation"}

// Claim gives the caller the operation for lease, so that a duplicate delivery
// running at the same time backs off instead of calling the Memory Bank twice.
func (o *Operation) Claim(now time.Time, lease time.Duration) error {
	if o.IsTerminal() {
		return ErrTerminal
	}
	if now.Before(o.leaseUntil) {
		return ErrLeased
	}
	o.attempts++
	o.leaseUntil = now.Add(lease)
	o.updatedAt = now
	return nil
}

// Succeed finishes the operation with the memories it produced, or changed.
func (o *Operation) Succeed(memoryIDs []string, now time.Time) error {
	if o.IsTerminal() {
		return ErrTerminal
	}
	o.status = StatusSucceeded
	o.memoryIDs = append([]string{}, memoryIDs...)
	o.leaseUntil = time.Time{}
	o.updatedAt = now
	return nil
}

// SucceedRemoved finishes an operation that forgot memories with how many it
// removed. The count is what the Memory Bank reported to the attempt that
// finished; a negative count is taken as none.
func (o *Operation) SucceedRemoved(removed int, now time.Time) error {
	if err := o.Succeed(nil, now); err != nil {
		return err
	}
	o.removed = max(removed, 0)
	return nil
}

// Fail finishes the operation with a reason.
func (o *Operation) Fail(f Failure, now time.Time) error {
	if o.IsTerminal() {
		return ErrTerminal
	}
	o.status = StatusFailed
	o.failure = &f
	o.leaseUntil = time.Time{}
	o.updatedAt = now
	return nil
}

// ErrNotReplayable is returned when an operation is asked to reopen but did not
// fail because its command was parked: it succeeded, is still pending, or failed
// for a reason a replay cannot change.
var ErrNotReplayable = &errs.Error{Kind: errs.KindConflict, Slug: "operation-not-replayable",
	Detail: "only an operation that failed because its command exhausted its retries can be replayed"}

// Reopen puts an operation that failed because its command exhausted its
// retries back to pending, so a replay of that command can finish it. Attempts
// are kept: a replayed attempt must still look for work an earlier one did.
func (o *Operation) Reopen(now time.Time) error {
	if o.status != StatusFailed || o.failure == nil || o.failure.Code != FailureRetriesExhausted {
		return ErrNotReplayable
	}
	o.status = StatusPending
	o.failure = nil
	o.leaseUntil = time.Time{}
	o.updatedAt = now
	return nil
}

// Repository reads operations outside transactions; writes go through the
// application's unit of work so they commit with their audit entry and event.
type Repository interface {
	// Get returns errs.KindNotFound when no operation has that id.
	Get(ctx context.Context, id string) (*Operation, error)
}

// Release gives up the lease of attempt after it failed, so a retry can start at
// once. A later attempt's lease is left alone: a slow worker whose lease expired
// must not free the operation while another worker is calling the Memory Bank.
func (o *Operation) Release(attempt int) {
	if attempt == o.attempts {
		o.leaseUntil = time.Time{}
	}
}
