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

// Failure codes of the write path.
const (
	// FailureSuperseded ends a write that comes to run after a later write of
	// its scope already took effect (a replayed dead letter): running it now
	// would undo the later one.
	FailureSuperseded = "superseded"
	// FailureUndecodable ends an operation whose queued command cannot be read:
	// no retry can run it.
	FailureUndecodable = "command-undecodable"
)

// NoteNothingNew is said of an add after which the Memory Bank holds no new
// memory: with inference on, mem0 found nothing in the content worth keeping
// (or already held it).
const NoteNothingNew = "the Memory Bank found nothing new to remember in this content (it may already know it)"

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
	note       string
	failure    *Failure
	attempts   int
	leaseUntil time.Time
	createdAt  time.Time
	updatedAt  time.Time
	// seq is the operation's place among the writes of its scope (application
	// and end user), in the order they were accepted: they take effect in it.
	seq int64
	// bankEvent is the Memory Bank's own id of work it accepted for this
	// operation and is still doing (mem0's asynchronous add), so that a later
	// attempt follows that work instead of asking for it again.
	bankEvent string
	// behind is true when, as the store recorded this new operation, an
	// earlier write of its scope was still pending (see PlaceBehind).
	behind bool
}

// Stored is an operation as the store keeps it; adapters only.
type Stored struct {
	ID, AppID, EndUser   string
	Kind                 Kind
	Status               Status
	MemoryIDs            []string
	Removed              int
	Note                 string
	Failure              *Failure
	Attempts             int
	LeaseUntil           time.Time
	CreatedAt, UpdatedAt time.Time
	Seq                  int64
	BankEvent            string
}

// New accepts an operation in state pending.
func New(id, appID, endUser string, kind Kind, now time.Time) (*Operation, error) {
	if id == "" || appID == "" {
		return nil, errs.Invalid("operation_id", "operation-invalid", "an operation needs an id and an application")
	}
	return &Operation{id: id, appID: appID, endUser: endUser, kind: kind, status: StatusPending, createdAt: now, updatedAt: now}, nil
}

// UnmarshalFromDatabase rebuilds an operation from storage; adapters only.
func UnmarshalFromDatabase(s Stored) *Operation {
	return &Operation{id: s.ID, appID: s.AppID, endUser: s.EndUser, kind: s.Kind, status: s.Status, memoryIDs: s.MemoryIDs,
		removed: s.Removed, note: s.Note, failure: s.Failure, attempts: s.Attempts, leaseUntil: s.LeaseUntil,
		createdAt: s.CreatedAt, updatedAt: s.UpdatedAt, seq: s.Seq, bankEvent: s.BankEvent}
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
func (o *Operation) Note() string          { return o.note }
func (o *Operation) Seq() int64            { return o.seq }
func (o *Operation) BankEvent() string     { return o.bankEvent }

// Sequence places a new operation among the writes of its scope; the store
// calls it when it records the operation, from the scope's own counter.
func (o *Operation) Sequence(seq int64) { o.seq = seq }

// PlaceBehind records, as the store records a new operation, whether an
// earlier write of its scope is still pending: that write hands this one its
// turn when it ends, from the command kept with it.
func (o *Operation) PlaceBehind(behind bool) { o.behind = behind }

// Behind tells whether the new operation was recorded behind a pending write
// of its scope: its command then needs no queue, the earlier write runs it.
func (o *Operation) Behind() bool { return o.behind }

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
	return o.SucceedWithNote(memoryIDs, "", now)
}

// SucceedWithNote is Succeed with a word for the caller about the outcome,
// such as NoteNothingNew for an add that stored no memory.
func (o *Operation) SucceedWithNote(memoryIDs []string, note string, now time.Time) error {
	if o.IsTerminal() {
		return ErrTerminal
	}
	o.status = StatusSucceeded
	o.memoryIDs = append([]string{}, memoryIDs...)
	o.note = note
	o.leaseUntil = time.Time{}
	o.bankEvent = ""
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
	o.bankEvent = ""
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

// ErrLeaseLost is returned to an attempt whose lease ended or passed to
// another attempt: it must stop calling the Memory Bank at once.
var ErrLeaseLost = &errs.Error{Kind: errs.KindConflict, Slug: "operation-lease-lost", Detail: "the attempt no longer holds the operation"}

// Renew extends the lease of attempt, still running, to now+lease. It fails
// with ErrLeaseLost when the attempt's lease has already run out (another
// worker may have the operation now) or a later attempt holds it, and with
// ErrTerminal when the operation ended meanwhile.
func (o *Operation) Renew(attempt int, now time.Time, lease time.Duration) error {
	if o.IsTerminal() {
		return ErrTerminal
	}
	if attempt != o.attempts || !now.Before(o.leaseUntil) {
		return ErrLeaseLost
	}
	o.leaseUntil = now.Add(lease)
	return nil
}

// AwaitBank records that the Memory Bank accepted attempt's work and is still
// doing it under its own id, so that a later attempt follows it rather than
// asking again. Only the attempt holding the lease may.
func (o *Operation) AwaitBank(attempt int, eventID string) error {
	if o.IsTerminal() {
		return ErrTerminal
	}
	if attempt != o.attempts {
		return ErrLeaseLost
	}
	o.bankEvent = eventID
	return nil
}

// ForgetBankEvent drops a Memory Bank event that ended without the work (it
// failed, or the Memory Bank no longer knows it): the next attempt starts over.
func (o *Operation) ForgetBankEvent() { o.bankEvent = "" }
