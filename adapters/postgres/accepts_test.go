package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/idempotency"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// acceptedCreate is what accepting create i in endUser's scope of app-1 writes.
func acceptedCreate(t testing.TB, i int, endUser string) command.Accepted {
	t.Helper()
	id := fmt.Sprintf("op-%d", i)
	now := time.Now().UTC()
	op, err := operation.New(id, "app-1", endUser, operation.KindCreateMemory, now)
	if err != nil {
		t.Fatal(err)
	}
	return command.Accepted{
		Operation: op,
		Command:   &events.CreateMemory{Header: events.Header{Version: 1, OperationID: id, AppID: "app-1", EndUser: endUser}, Draft: memory.Draft{Content: "x"}},
		Entry: audit.Entry{AppID: "app-1", EndUser: endUser, Action: audit.ActionCreateMemory, Status: audit.StatusPending,
			RequestID: "req-" + id, OperationID: id, OccurredAt: now},
	}
}

// Concurrent accepts in three scopes share few transactions; each returns
// once its operation, kept command and audit entry are committed, and each
// scope's writes take the places 1..n, every one once.
func TestTxGroupAcceptsTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, pool := newTransactor(t)
	g := postgres.NewTxGroup(tr, postgres.TxGroupConfig{Writers: 1})
	const accepts = 300
	users := []string{"", "alice", "bob"}
	results := concurrently(accepts, func(i int) error {
		a := acceptedCreate(t, i, users[i%len(users)])
		if err := g.Accept(ctx, a); err != nil {
			return err
		}
		var (
			kept, waiting bool
			seq           int64
		)
		if err := pool.QueryRow(ctx, `SELECT command IS NOT NULL, seq, waiting FROM custom_gpt_operations WHERE id = $1`,
			a.Operation.ID()).Scan(&kept, &seq, &waiting); err != nil || !kept {
			return fmt.Errorf("%s answered before its operation and command were committed: %v", a.Operation.ID(), err)
		}
		// The accept learns its place as written: its command is queued
		// only when it is not behind.
		if a.Operation.Seq() != seq || a.Operation.Behind() != waiting {
			return fmt.Errorf("%s learned place %d, behind %v; its row says %d, %v", a.Operation.ID(), a.Operation.Seq(), a.Operation.Behind(), seq, waiting)
		}
		return nil
	})
	for _, err := range results {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Nothing ends, so in each scope every write after its first is behind.
	if n := count(t, pool, "custom_gpt_operations WHERE waiting"); n != accepts-len(users) {
		t.Errorf("%d operations written waiting, want all but each scope's first: %d", n, accepts-len(users))
	}
	if b := g.Batches(); b == 0 || b >= accepts {
		t.Errorf("%d accepts took %d shared transactions: nothing was grouped", accepts, b)
	}
	if n := count(t, pool, "custom_gpt_audit_entries WHERE status = 'pending' AND operation_id IS NOT NULL"); n != accepts {
		t.Errorf("%d pending audit entries, want %d", n, accepts)
	}
	rows, err := pool.Query(ctx, `SELECT end_user, count(*), count(DISTINCT seq), min(seq), max(seq),
			(SELECT last_seq FROM custom_gpt_scopes s WHERE s.app_id = 'app-1' AND s.end_user = o.end_user)
		FROM custom_gpt_operations o GROUP BY end_user`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			user                         string
			n, distinct, lo, hi, lastSeq int64
		)
		if err := rows.Scan(&user, &n, &distinct, &lo, &hi, &lastSeq); err != nil {
			t.Fatal(err)
		}
		if n != accepts/int64(len(users)) || distinct != n || lo != 1 || hi != n || lastSeq != n {
			t.Errorf("scope %q: %d writes, %d places, %d..%d, last %d; want places 1..%d once each", user, n, distinct, lo, hi, lastSeq, n)
		}
	}
}

// An accept whose Idempotency-Key another request took over fails alone: the
// batch it was in is written again an accept at a time.
func TestTxGroupAcceptFailsAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tr, pool := newTransactor(t)
	g := postgres.NewTxGroup(tr, postgres.TxGroupConfig{Writers: 1})
	const accepts = 40
	results := concurrently(accepts, func(i int) error {
		a := acceptedCreate(t, i, "alice")
		if i == 7 { // a reply under a lock nobody holds
			key, _ := idempotency.ParseKey("key-7")
			a.Reply = &idempotency.Completion{Scope: idempotency.Scope{AppID: "app-1", EndUser: "alice"}, Key: key,
				Lock: uuid.NewString(), Response: idempotency.Response{Status: 202}}
		}
		return g.Accept(ctx, a)
	})
	for i, err := range results {
		if (i == 7) != (err != nil) {
			t.Errorf("accept %d: %v", i, err)
		}
	}
	if n := count(t, pool, "custom_gpt_operations"); n != accepts-1 {
		t.Fatalf("%d operations, want %d", n, accepts-1)
	}
	if n := count(t, pool, "custom_gpt_audit_entries"); n != accepts-1 {
		t.Fatalf("%d audit entries, want %d", n, accepts-1)
	}
}
