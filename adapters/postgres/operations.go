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

const opColumns = `id, app_id, end_user, kind, status, memory_ids, removed, failure, attempts, lease_until, created_at, updated_at`

func (r *OperationRepository) Get(ctx context.Context, id string) (*operation.Operation, error) {
	return getOperation(ctx, r.pool, id, false)
}

func getOperation(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, id string, lock bool) (*operation.Operation, error) {
	sql := `SELECT ` + opColumns + ` FROM custom_gpt_operations WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	var (
		opID, appID, endUser, kind, status string
		memoryIDs                          []string
		failure                            []byte
		removed, attempts                  int
		lease, created, updated            pgtime
	)
	err := q.QueryRow(ctx, sql, id).Scan(&opID, &appID, &endUser, &kind, &status, &memoryIDs, &removed, &failure, &attempts, &lease, &created, &updated)
	if err != nil {
		return nil, dbError(err, "operation-not-found", "operation")
	}
	var f *operation.Failure
	if len(failure) > 0 {
		f = new(operation.Failure)
		if err := json.Unmarshal(failure, f); err != nil {
			return nil, fmt.Errorf("decode operation failure: %w", err)
		}
	}
	return operation.UnmarshalFromDatabase(opID, appID, endUser, operation.Kind(kind), operation.Status(status),
		memoryIDs, removed, f, attempts, lease.t(), created.t(), updated.t()), nil
}

// insertOperation writes op with the command queued for it, kept until op
// ends (cmd nil keeps none).
func insertOperation(ctx context.Context, tx pgx.Tx, op *operation.Operation, cmd any) error {
	var name *string
	var payload []byte
	if cmd != nil {
		n := events.Name(cmd)
		name = &n
		var err error
		if payload, err = json.Marshal(cmd); err != nil {
			return fmt.Errorf("insert operation: %w", err)
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO custom_gpt_operations (`+opColumns+`, command_name, command)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		op.ID(), op.AppID(), op.EndUser(), string(op.Kind()), string(op.Status()), nonNil(op.MemoryIDs()), op.Removed(),
		failureJSON(op.Failure()), op.Attempts(), nullTime(op.LeaseUntil()), op.CreatedAt(), op.UpdatedAt(), name, payload)
	if err != nil {
		return fmt.Errorf("insert operation: %w", err)
	}
	return nil
}

func saveOperation(ctx context.Context, tx pgx.Tx, op *operation.Operation) error {
	_, err := tx.Exec(ctx, `UPDATE custom_gpt_operations
		SET status = $2, memory_ids = $3, removed = $4, failure = $5, attempts = $6, lease_until = $7, updated_at = $8,
			command = CASE WHEN $2 = 'pending' THEN command END
		WHERE id = $1`,
		op.ID(), string(op.Status()), nonNil(op.MemoryIDs()), op.Removed(), failureJSON(op.Failure()), op.Attempts(),
		nullTime(op.LeaseUntil()), op.UpdatedAt())
	if err != nil {
		return fmt.Errorf("save operation: %w", err)
	}
	return nil
}

func failureJSON(f *operation.Failure) []byte {
	if f == nil {
		return nil
	}
	b, _ := json.Marshal(f) // two strings: cannot fail
	return b
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
