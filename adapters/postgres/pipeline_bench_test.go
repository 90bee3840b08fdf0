package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

var benchRuns atomic.Int64

// BenchmarkEndOfAWrite times the transaction in which the worker ends a
// stored memory's create (runner.finish): lock the operation, register the
// memory, complete the audit entry, publish the event, save the operation,
// take the scope's turn lock and look for the next write, commit. "pipelined"
// is how Transactor.InTx runs it (pipeTx: four round trips); "plain" sends
// each statement on its own, as before (eleven).
func BenchmarkEndOfAWrite(b *testing.B) {
	tr, _ := newTransactor(b)
	ctx := context.Background()
	modes := []struct {
		name string
		inTx func(context.Context, func(context.Context, command.Tx) error) error
	}{{"pipelined", tr.InTx}, {"plain", tr.InPlainTx}}
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			ids := make([]string, b.N)
			now := time.Now().UTC()
			for i := range ids {
				ids[i] = fmt.Sprintf("%s-%d-%d", mode.name, benchRuns.Add(1), i)
				op, _ := operation.New(ids[i], "app-1", "", operation.KindCreateMemory, now)
				if err := tr.InTx(ctx, func(ctx context.Context, tx command.Tx) error {
					if err := tx.InsertOperation(ctx, op, nil); err != nil {
						return err
					}
					return tx.InsertAudit(ctx, audit.Entry{AppID: "app-1", Action: audit.ActionCreateMemory,
						Status: audit.StatusPending, RequestID: "r", OperationID: ids[i], OccurredAt: now})
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				err := mode.inTx(ctx, func(ctx context.Context, tx command.Tx) error {
					op, err := tx.LockOperation(ctx, ids[i])
					if err != nil {
						return err
					}
					at := time.Now().UTC()
					if err := op.Succeed([]string{"mem-" + ids[i]}, at); err != nil {
						return err
					}
					if err := tx.RegisterMemories(ctx, op, op.MemoryIDs(), at); err != nil {
						return err
					}
					if err := tx.CompleteAudit(ctx, op.ID(), audit.StatusSucceeded, "", at); err != nil {
						return err
					}
					if err := tx.Publish(ctx, &events.MemoryCreated{Version: events.Version, OperationID: op.ID(), AppID: "app-1", OccurredAt: at}); err != nil {
						return err
					}
					if err := tx.SaveOperation(ctx, op); err != nil {
						return err
					}
					_, err = tx.NextWaiting(ctx, op, 1)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
