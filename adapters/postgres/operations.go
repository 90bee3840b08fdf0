package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// OperationRepository reads operations from custom_gpt_operations.
type OperationRepository struct{ pool *pgxpool.Pool }

func NewOperationRepository(pool *pgxpool.Pool) *OperationRepository {
	return &OperationRepository{pool: pool}
}

const opColumns = `id, app_id, end_user, kind, status, memory_ids, removed, failure, attempts, lease_until, created_at, updated_at, seq, note, bank_event`

func (r *OperationRepository) Get(ctx context.Context, id string) (*operation.Operation, error) {
	return getOperation(ctx, r.pool, id, lockNone)
}

// How getOperation reads: without a lock, locking (waiting for another
// transaction's lock), or locking unless another transaction holds it (then
// the operation reads as missing).
type opLock int

const (
	lockNone opLock = iota
	lockWait
	lockSkipLocked
)

func getOperation(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, id string, lock opLock) (*operation.Operation, error) {
	sql := `SELECT ` + opColumns + ` FROM custom_gpt_operations WHERE id = $1`
	switch lock {
	case lockWait:
		sql += ` FOR UPDATE`
	case lockSkipLocked:
		sql += ` FOR UPDATE SKIP LOCKED`
	}
	op, err := scanOperation(q.QueryRow(ctx, sql, id))
	if err != nil {
		return nil, dbError(err, "operation-not-found", "operation")
	}
	return op, nil
}

// lockOperations reads and locks the operations ids, in their scope's order
// (so that two transactions locking some of the same never deadlock), and
// returns them in the order of ids: nil for one that does not exist, or,
// with lockSkipLocked, that another transaction holds.
func lockOperations(ctx context.Context, tx pgx.Tx, ids []string, lock opLock) ([]*operation.Operation, error) {
	sql := `SELECT ` + opColumns + ` FROM custom_gpt_operations WHERE id = ANY ($1) ORDER BY app_id, end_user, seq FOR UPDATE`
	if lock == lockSkipLocked {
		sql += ` SKIP LOCKED`
	}
	rows, err := tx.Query(ctx, sql, ids)
	if err != nil {
		return nil, fmt.Errorf("lock operations: %w", err)
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*operation.Operation, error) { return scanOperation(row) })
	if err != nil {
		return nil, fmt.Errorf("lock operations: %w", err)
	}
	byID := make(map[string]*operation.Operation, len(found))
	for _, op := range found {
		byID[op.ID()] = op
	}
	out := make([]*operation.Operation, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out, nil
}

// scanOperation reads a row of opColumns.
func scanOperation(row pgx.Row) (*operation.Operation, error) {
	var (
		s                       operation.Stored
		kind, status            string
		failure                 []byte
		lease, created, updated pgtime
		bankEvent               *string
	)
	err := row.Scan(&s.ID, &s.AppID, &s.EndUser, &kind, &status, &s.MemoryIDs, &s.Removed, &failure,
		&s.Attempts, &lease, &created, &updated, &s.Seq, &s.Note, &bankEvent)
	if err != nil {
		return nil, err
	}
	if len(failure) > 0 {
		s.Failure = new(operation.Failure)
		if err := json.Unmarshal(failure, s.Failure); err != nil {
			return nil, fmt.Errorf("decode operation failure: %w", err)
		}
	}
	s.Kind, s.Status = operation.Kind(kind), operation.Status(status)
	s.LeaseUntil, s.CreatedAt, s.UpdatedAt = lease.t(), created.t(), updated.t()
	if bankEvent != nil {
		s.BankEvent = *bankEvent
	}
	return operation.UnmarshalFromDatabase(s), nil
}

// insertOperation writes the new operation op with the command queued for
// it, kept until op ends (cmd nil keeps none), after taking the next place
// among the writes of its scope: insertOperations of one.
func insertOperation(ctx context.Context, tx pgx.Tx, op *operation.Operation, cmd any) error {
	return insertOperations(ctx, tx, []*operation.Operation{op}, []any{cmd})
}

// keptCommand is cmd as its operation's row keeps it: its name and JSON; nil
// for none.
func keptCommand(cmd any) (name *string, payload []byte, err error) {
	if cmd == nil {
		return nil, nil, nil
	}
	n := events.Name(cmd)
	if payload, err = json.Marshal(cmd); err != nil {
		return nil, nil, err
	}
	return &n, payload, nil
}

func saveOperation(ctx context.Context, tx pgx.Tx, op *operation.Operation) error {
	return execLater(ctx, tx, "save operation", `UPDATE custom_gpt_operations
		SET status = $2, memory_ids = $3, removed = $4, failure = $5, attempts = $6, lease_until = $7, updated_at = $8,
			note = $9, bank_event = $10,
			command = CASE WHEN $2 = 'pending' THEN command END,
			command_entry = CASE WHEN $2 = 'pending' THEN command_entry END,
			waiting = waiting AND $2 = 'pending'
		WHERE id = $1`,
		op.ID(), string(op.Status()), nonNil(op.MemoryIDs()), op.Removed(), failureJSON(op.Failure()), op.Attempts(),
		nullTime(op.LeaseUntil()), op.UpdatedAt(), op.Note(), nullString(op.BankEvent()))
}

func failureJSON(f *operation.Failure) []byte {
	if f == nil {
		return nil
	}
	b, _ := json.Marshal(f) // two strings: cannot fail
	return b
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
