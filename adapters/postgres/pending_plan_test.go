package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
)

// A scope whose ended writes come first and whose pending ones are many (the
// backlog of a stopped worker, with statistics taken since): the questions
// of whether a write waits behind a pending one read the pending writes'
// index under Postgres's generic plan, which prepared statements get after
// their fifth run. Asked as EXISTS, they scanned every ended write first.
func TestPendingQuestionsUseTheIndexWhateverThePlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, pool := newTransactor(t)
	if _, err := pool.Exec(ctx, `INSERT INTO custom_gpt_operations (id, app_id, end_user, kind, status, created_at, updated_at, seq, command_name, command)
		SELECT 'op-' || g, 'app-1', '', 'create_memory', CASE WHEN g <= 20000 THEN 'succeeded' ELSE 'pending' END, now(), now(), g,
			CASE WHEN g > 20000 THEN 'CreateMemory' END, CASE WHEN g > 20000 THEN '\x7b7d'::bytea END
		FROM generate_series(1, 50000) g`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE custom_gpt_operations`); err != nil {
		t.Fatal(err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		name, sql, args string
	}{
		{"wait for earlier", postgres.WaitForEarlierSQL, `'app-1', '', 20100, 'op-20100'`},
		{"pending after", postgres.PendingAfterSQL, `'app-1', '', 20100, 32`},
		{"insert operations", postgres.InsertOperationsSQL, `'{app-1}'::text[], '{""}'::text[], '{1}'::bigint[], '{op-x}'::text[], '{app-1}'::text[],
			'{""}'::text[], '{create_memory}'::text[], '{pending}'::text[], ARRAY[now()], ARRAY[now()], '{""}'::text[],
			'{CreateMemory}'::text[], ARRAY['\x7b7d'::bytea]`},
	} {
		t.Run(q.name, func(t *testing.T) {
			stmt := strings.ReplaceAll(q.name, " ", "_")
			if _, err := conn.Exec(ctx, fmt.Sprintf("PREPARE %s AS %s", stmt, q.sql)); err != nil {
				t.Fatal(err)
			}
			rows, err := conn.Query(ctx, fmt.Sprintf("EXPLAIN EXECUTE %s(%s)", stmt, q.args))
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, line)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if p := strings.Join(plan, "\n"); strings.Contains(p, "Seq Scan on custom_gpt_operations") {
				t.Errorf("the generic plan reads every operation:\n%s", p)
			}
		})
	}
}
