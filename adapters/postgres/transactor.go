package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/trace"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/tracing"
)

// Transactor is the unit of work: operations, audit entries and outbox events
// written through one Tx commit together or not at all.
type Transactor struct {
	pool   *pgxpool.Pool
	outbox *Outbox
	tracer trace.Tracer // nil: no spans (WithTracer)
}

func NewTransactor(pool *pgxpool.Pool, outbox *Outbox) *Transactor {
	return &Transactor{pool: pool, outbox: outbox}
}

// WithTracer makes each transaction a span of tp, whose statements
// (otelpgx's spans) are its children, and each group commit of a TxGroup
// over t a span linked to the requests it served. A provider that records
// nothing adds nothing.
func (t *Transactor) WithTracer(tp trace.TracerProvider) *Transactor {
	if tracing.On(tp) {
		t.tracer = tracing.Tracer(tp)
	}
	return t
}

// InTx commits when fn returns nil and checks the commit's own error: a commit
// that fails means nothing happened. A database that is out of reach, or that
// answered "not now", is reported as command.ErrStoreUnavailable, so a worker
// waits for it instead of spending a command's retries.
func (t *Transactor) InTx(ctx context.Context, fn func(ctx context.Context, tx command.Tx) error) (err error) {
	if t.tracer != nil {
		var span trace.Span
		ctx, span = t.tracer.Start(ctx, "postgres.transaction")
		defer func() { tracing.End(span, err) }()
	}
	err = t.inTx(ctx, fn)
	if err == nil || ctx.Err() != nil {
		return err
	}
	if notNow(err) || (!answered(err) && t.unreachable(ctx)) {
		return fmt.Errorf("%w: %w", command.ErrStoreUnavailable, err)
	}
	return err
}

// notNowCodes are the SQLSTATEs of a database that cannot take the work right
// now but will: shutting down or starting up, out of connections, a read-only
// replica (a failover in progress), or a transaction that lost a race and may
// simply run again. None says the work itself is wrong.
var notNowCodes = map[string]bool{
	"57P01": true, // admin_shutdown
	"57P03": true, // cannot_connect_now (starting up, recovering)
	"53300": true, // too_many_connections
	"25006": true, // read_only_sql_transaction (a standby, or a primary being demoted)
	"40001": true, // serialization_failure
	"40P01": true, // deadlock_detected
}

func notNow(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && notNowCodes[pgErr.Code]
}

func (t *Transactor) inTx(ctx context.Context, fn func(ctx context.Context, tx command.Tx) error) error {
	return inPipe(ctx, t.pool, func(pgtx pgx.Tx) error {
		x := &tx{tx: pgtx, outbox: t.outbox}
		if err := fn(ctx, x); err != nil {
			return err
		}
		return x.flush()
	})
}

// answered tells a failure that needs no ping to rule the database out: it
// answered (a PgError), or the work refused the change with a typed error
// (a lease held, an operation already finished), which is the common failure.
// An unavailable error may wrap a lost connection, so it is not ruled out.
func answered(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return true
	}
	k := errs.KindOf(err)
	return k != errs.KindInternal && k != errs.KindUnavailable
}

// unreachable tells, after a failed transaction, whether the database itself is
// out of reach (rather than the transaction at fault), so callers can wait for
// it instead of counting the failure against the work. Only failures pay for it.
func (t *Transactor) unreachable(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return t.pool.Ping(ctx) != nil
}

// RecordRead writes the audit entry of a read (a search, a listing, ...) and its
// event in one transaction.
func (t *Transactor) RecordRead(ctx context.Context, e audit.Entry, event any) error {
	return t.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
		if err := tx.InsertAudit(ctx, e); err != nil {
			return err
		}
		return tx.Publish(ctx, event)
	})
}

type tx struct {
	tx     pgx.Tx
	outbox *Outbox
	// events published in the transaction, written to the outbox together
	// at its end (flush), so that several of one stream are one row
	events []outboxMessage
}

// flush writes the transaction's events to the outbox; its caller commits.
func (t *tx) flush() error {
	if len(t.events) == 0 {
		return nil
	}
	return t.outbox.write(t.tx, t.events)
}

func (t *tx) InsertOperation(ctx context.Context, op *operation.Operation, cmd any) error {
	return insertOperation(ctx, t.tx, op, cmd)
}

func (t *tx) LockOperation(ctx context.Context, id string) (*operation.Operation, error) {
	return getOperation(ctx, t.tx, id, lockWait)
}

func (t *tx) LockOperations(ctx context.Context, ids []string) ([]*operation.Operation, error) {
	ops, err := lockOperations(ctx, t.tx, ids, lockWait)
	if err != nil {
		return nil, err
	}
	for i, op := range ops {
		if op == nil {
			return nil, fmt.Errorf("lock operations: %w", errs.NotFound("operation-not-found", "operation "+ids[i]))
		}
	}
	return ops, nil
}

func (t *tx) TryLockOperations(ctx context.Context, ids []string) ([]*operation.Operation, error) {
	return lockOperations(ctx, t.tx, ids, lockSkipLocked)
}

func (t *tx) SaveOperation(ctx context.Context, op *operation.Operation) error {
	return saveOperation(ctx, t.tx, op)
}

func (t *tx) InsertAudit(ctx context.Context, e audit.Entry) error { return insertAudit(ctx, t.tx, e) }

func (t *tx) CompleteAudit(ctx context.Context, operationID string, status audit.Status, detail string, at time.Time) error {
	return completeAudit(ctx, t.tx, operationID, status, detail, at)
}

func (t *tx) ReopenAudit(ctx context.Context, operationID string) error {
	return reopenAudit(ctx, t.tx, operationID)
}

// Publish makes event a message at once (an event that cannot be encoded
// fails here) and writes it with the transaction's others before it commits.
func (t *tx) Publish(ctx context.Context, event any) error {
	m, err := t.outbox.message(outboxEvent{ctx: ctx, event: event})
	if err != nil {
		return err
	}
	t.events = append(t.events, m)
	return nil
}

func (t *tx) StaleCommands(ctx context.Context, name string, before, now time.Time, limit int) ([]command.KeptCommand, error) {
	return staleCommands(ctx, t.tx, name, before, now, limit)
}

func (t *tx) CompleteIdempotency(ctx context.Context, c idempotency.Completion) error {
	return completeIdempotency(ctx, t.tx, c)
}

func (t *tx) KeepCommand(ctx context.Context, op *operation.Operation, cmd any) error {
	return keepCommand(ctx, t.tx, op, cmd)
}

func (t *tx) WaitForEarlier(ctx context.Context, op *operation.Operation) (bool, error) {
	return waitForEarlier(ctx, t.tx, op)
}

func (t *tx) NextWaiting(ctx context.Context, op *operation.Operation, most int) ([]any, error) {
	return nextWaiting(ctx, t.tx, op, most)
}

func (t *tx) StrandedNext(ctx context.Context, op *operation.Operation, now time.Time) (any, bool, error) {
	return strandedNext(ctx, t.tx, op, now)
}

func (t *tx) RegisterMemories(ctx context.Context, op *operation.Operation, ids []string, at time.Time) error {
	return registerMemories(ctx, t.tx, op, ids, at)
}

func (t *tx) UnregisterMemories(ctx context.Context, op *operation.Operation, ids []string) error {
	return unregisterMemories(ctx, t.tx, op, ids)
}

func (t *tx) RewroteMemory(ctx context.Context, op *operation.Operation, id string) error {
	return rewroteMemory(ctx, t.tx, op, id)
}

func (t *tx) ForgetScope(ctx context.Context, op *operation.Operation) (int, error) {
	return forgetScope(ctx, t.tx, op)
}
