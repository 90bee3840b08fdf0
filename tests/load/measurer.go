package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// procGroup is a process whose CPU the report shows: nginx is its master
// and workers.
type procGroup struct {
	name string
	pids func() []int
}

// measurer runs the cells in the table's order, each from a quiet adapter.
type measurer struct {
	ctx    context.Context
	opts   options
	pool   *pgxpool.Pool
	report *report
	procs  []procGroup
	say    func(string, ...any)
	prof   *profiler // nil unless -profile
	// workerTimeouts counts the worker's error lines for an I/O deadline.
	workerTimeouts func() int
	// dumpWorker writes the worker's goroutines and metrics to files, for
	// a stuck worker, and says where.
	dumpWorker func() string
}

// measureAll runs every cell: sc is the API key's scope, user the end
// user's.
func (m *measurer) measureAll(bank *mem0, proxy *nginx, a *adapter, sc, user scope) error {
	direct, _ := json.Marshal(map[string]any{
		"query": searchQuery, "top_k": searchLimit,
		"filters": map[string]string{"user_id": sc.userID, "agent_id": sc.agentID},
	})
	viaAdapter, _ := json.Marshal(map[string]any{"query": searchQuery, "limit": searchLimit})
	conns := max(m.opts.Conns, m.opts.MaxInFlight)
	search := func(url, header, value string, body []byte, in scope) target {
		return target{client: newClient(conns), check: checkSearch(m.opts.Seed > 0, in),
			request: func(int) *http.Request { return jsonPost(url, body, header, value) }}
	}
	// Each search target has a max-throughput and a fixed-rate row.
	type column struct {
		maxRow, rateRow, col string
		t                    target
	}
	searches := []column{{rowSearchMax, rowSearchRate, colDirect, search(bank.url+"/search", "X-API-Key", bank.key, direct, sc)}}
	if proxy != nil {
		searches = append(searches, column{rowSearchMax, rowSearchRate, colNginx, search(proxy.url+"/search", "X-API-Key", bank.key, direct, sc)})
	}
	viaAPI := search(a.url+"/api/v1/search", "Authorization", "Bearer "+a.apiKey, viaAdapter, sc)
	asUser := search(a.url+"/api/v1/search", "Authorization", "Bearer "+a.user.token, viaAdapter, user)
	searches = append(searches,
		column{rowSearchMax, rowSearchRate, colAdapter, viaAPI},
		column{rowSearchMaxUser, rowSearchRateUser, colAdapter, asUser})
	create := func(client *http.Client, credential func(i int) string) target {
		return target{client: client, check: checkCreate, request: func(i int) *http.Request {
			body, _ := json.Marshal(map[string]string{"content": fmt.Sprintf("load memory %d: the user prefers aisle seats", i)})
			return jsonPost(a.url+"/api/v1/memories", body, "Authorization", "Bearer "+credential(i))
		}}
	}
	createAsKey := create(viaAPI.client, func(i int) string { return a.keys[i%len(a.keys)] })
	createAsUser := create(asUser.client, func(int) string { return a.user.token })

	// Searches first: the creates add memories to the scopes they search.
	// Their columns take turns, round after round, so that the host's drift
	// over minutes falls on every column alike.
	rounds := max(m.opts.Rounds, 1)
	share := m.opts.Duration / time.Duration(rounds)
	for round := range rounds {
		for _, s := range searches {
			if err := m.measure(s.maxRow, s.col, share, round == 0, func(d time.Duration) *outcome {
				return closedLoop(m.ctx, s.t, m.opts.Conns, d)
			}); err != nil {
				return err
			}
		}
	}
	for round := range rounds {
		for _, s := range searches {
			if err := m.measure(s.rateRow, s.col, share, round == 0, func(d time.Duration) *outcome {
				return openLoop(m.ctx, s.t, m.opts.SearchRate, d, m.opts.MaxInFlight)
			}); err != nil {
				return err
			}
		}
	}
	if m.opts.SearchesOnly {
		return nil
	}
	if err := m.cell(rowCreateMax, colAdapter, func(d time.Duration) *outcome {
		return closedLoop(m.ctx, createAsKey, m.opts.Conns, d)
	}); err != nil {
		return err
	}
	if err := m.stored(); err != nil {
		return err
	}
	m.report.createRate = m.sustainedCreateRate()
	if err := m.cell(rowCreateRate, colAdapter, func(d time.Duration) *outcome {
		return openLoop(m.ctx, createAsKey, m.report.createRate, d, m.opts.MaxInFlight)
	}); err != nil {
		return err
	}
	if err := m.succeeded(m.report.cell(rowCreateRate, colAdapter)); err != nil {
		return err
	}
	// The end user's creates last, so that the worker's rows above measure
	// the API key's creates alone; their operations are checked once the
	// worker has stored them all.
	if err := m.cell(rowCreateMaxUser, colAdapter, func(d time.Duration) *outcome {
		return closedLoop(m.ctx, createAsUser, m.opts.Conns, d)
	}); err != nil {
		return err
	}
	if _, err := m.succeededAt(m.report.cell(rowCreateMaxUser, colAdapter)); err != nil {
		return err
	}
	// Last: a backlog this large in one scope leaves the pending writes'
	// index full of dead entries until autovacuum has passed, which the
	// next cell would pay for.
	return m.storedPaused(createAsKey)
}

// cell waits for the adapter to be quiet, warms up, then measures load for
// the run's duration and the CPU each process used meanwhile.
func (m *measurer) cell(row, col string, load func(time.Duration) *outcome) error {
	return m.measure(row, col, m.opts.Duration, true, load)
}

// measure is cell for d; a cell measured again (a later round) adds to the
// first, and profile says whether this round's profiles are taken.
func (m *measurer) measure(row, col string, d time.Duration, profile bool, load func(time.Duration) *outcome) error {
	if err := m.settle(); err != nil {
		return err
	}
	m.say("%s, %s", m.report.rowLabel(row), col)
	if m.opts.Warmup > 0 {
		load(m.opts.Warmup)
	}
	profiled := func() error { return nil }
	if col == colAdapter && profile {
		profiled = m.prof.during(m.ctx, m.report.rowLabel(row), d)
	}
	before, wall := m.cpu(), time.Now()
	out := load(d)
	if err := m.ctx.Err(); err != nil {
		return err
	}
	if err := profiled(); err != nil {
		return err
	}
	after, elapsed := m.cpu(), time.Since(wall)
	c := &cell{row: row, col: col, out: out, from: wall, to: wall.Add(elapsed), cpuAtEnd: after}
	c.cpu = coresUsed(before, after, elapsed)
	c.rounds = []float64{out.perSecond()}
	if first := m.report.cell(row, col); first != nil {
		first.merge(c)
		return nil
	}
	m.report.cells = append(m.report.cells, c)
	return nil
}

// formatCores lists cores used by process, in a stable order.
func formatCores(cores map[string]float64) string {
	var out []string
	for name, c := range cores {
		out = append(out, fmt.Sprintf("%s %.2f", name, c))
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// coresUsed is the CPU each process used between two readings of m.cpu, in
// cores over elapsed.
func coresUsed(before, after map[string]time.Duration, elapsed time.Duration) map[string]float64 {
	out := map[string]float64{}
	for name, used := range after {
		out[name] = (used - before[name]).Seconds() / elapsed.Seconds()
	}
	return out
}

// cpu is the CPU time of each process so far, and the whole machine's busy time.
func (m *measurer) cpu() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, g := range m.procs {
		for _, pid := range g.pids() {
			if t, err := cpuTime(pid); err == nil {
				out[g.name] += t
			}
		}
	}
	if busy, stolen, err := machineCPU(); err == nil {
		out[cpuMachine], out[cpuStolen] = busy, stolen
	}
	return out
}

// settle waits until every operation has ended and the outbox relay has
// caught up, so that no cell pays for the one before.
func (m *measurer) settle() error {
	deadline := time.Now().Add(m.opts.Settle)
	first := -1
	for {
		pending, relayed, err := m.backlog()
		if err != nil {
			return err
		}
		if pending == 0 && relayed {
			return nil
		}
		if first < 0 {
			first = pending
		}
		if time.Now().After(deadline) {
			before, wall := m.cpu(), time.Now()
			dumped := m.dumpWorker() // takes seconds: the CPU used meanwhile says who works
			cores := coresUsed(before, m.cpu(), time.Since(wall))
			return fmt.Errorf("after %s, %d operations are still pending of %d (relayed outbox: %v): the worker is stuck (see its log with -keep; %s; cores busy meanwhile: %s; the first pending: %s; what Postgres ran: %s; %s)",
				m.opts.Settle, pending, first, relayed, dumped, formatCores(cores), m.pendingHead(), m.busyStatements(), m.horizon())
		}
		select {
		case <-m.ctx.Done():
			return m.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// backlog is the work the adapter still owes: pending operations, and
// whether the forwarder has relayed the newest outbox row (watermill-sql's
// own position: transaction id, then offset).
func (m *measurer) backlog() (pending int, relayed bool, err error) {
	err = m.pool.QueryRow(m.ctx, `
		SELECT (SELECT count(*) FROM custom_gpt_operations WHERE status = 'pending'),
		       NOT EXISTS (
		           SELECT 1 FROM (SELECT transaction_id, "offset" FROM custom_gpt_outbox
		                          ORDER BY transaction_id DESC, "offset" DESC LIMIT 1) newest
		           WHERE NOT EXISTS (SELECT 1 FROM custom_gpt_outbox_offsets f
		                             WHERE (newest.transaction_id, newest."offset") <= (f.last_processed_transaction_id, f.offset_acked)))`,
	).Scan(&pending, &relayed)
	return pending, relayed, err
}

// pendingHead describes the first pending operations, scope by scope, for
// a stuck worker: which write holds the others up, and why.
func (m *measurer) pendingHead() string {
	rows, err := m.pool.Query(m.ctx, `SELECT seq, waiting, command IS NOT NULL, attempts, lease_until, resent_at, updated_at
		FROM custom_gpt_operations WHERE status = 'pending' ORDER BY app_id, end_user, seq LIMIT 4`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var (
			seq           int64
			waiting, kept bool
			attempts      int
			lease, resent *time.Time
			updated       time.Time
		)
		if err := rows.Scan(&seq, &waiting, &kept, &attempts, &lease, &resent, &updated); err != nil {
			return err.Error()
		}
		out = append(out, fmt.Sprintf("seq %d waiting %v kept %v attempts %d lease %v resent %v updated %s ago",
			seq, waiting, kept, attempts, lease, resent, time.Since(updated).Round(time.Millisecond)))
	}
	return strings.Join(out, "; ")
}

// horizon is what keeps Postgres from cleaning up: the oldest open
// transactions and snapshots of the cluster, and the dead rows of this
// run's busiest tables. A snapshot held open keeps every row version written
// since, and each read of a hot row (a scope's, a chain's head) walks them.
func (m *measurer) horizon() string {
	snapshots, err := m.texts(`SELECT coalesce(datname, '-') || ' pid ' || pid || ' ' || coalesce(state, '-') ||
			' xact ' || coalesce((now() - xact_start)::text, '-') || ' xmin age ' || coalesce(age(backend_xmin)::text, '-') ||
			' ' || left(regexp_replace(query, '\s+', ' ', 'g'), 80)
		FROM pg_stat_activity WHERE backend_xmin IS NOT NULL OR xact_start IS NOT NULL
		ORDER BY xact_start NULLS LAST LIMIT 4`)
	if err != nil {
		return err.Error()
	}
	dead, err := m.texts(`SELECT relname || ' live ' || n_live_tup || ' dead ' || n_dead_tup ||
			' vacuumed ' || coalesce((now() - greatest(last_vacuum, last_autovacuum))::text, 'never')
		FROM pg_stat_user_tables WHERE relname LIKE 'custom_gpt_%' ORDER BY n_dead_tup DESC LIMIT 6`)
	if err != nil {
		return err.Error()
	}
	return "oldest transactions and dead rows: " + strings.Join(append(snapshots, dead...), "; ")
}

// texts runs a query of one text column and returns its rows.
func (m *measurer) texts(sql string) ([]string, error) {
	rows, err := m.pool.Query(m.ctx, sql)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// busyStatements samples, 40 times 25 ms apart, the statements this run's
// database is running, and counts them: where a slow worker's time goes.
func (m *measurer) busyStatements() string {
	seen := map[string]int{}
	for range 40 {
		active, err := m.texts(`SELECT coalesce(wait_event_type || ':' || wait_event, 'cpu') || ' ' ||
				left(regexp_replace(query, '\s+', ' ', 'g'), 120)
			FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`)
		if err != nil {
			return err.Error()
		}
		for _, q := range active {
			seen[q]++
		}
		time.Sleep(25 * time.Millisecond)
	}
	var out []string
	for q, n := range seen {
		out = append(out, fmt.Sprintf("%d× %s", n, q))
	}
	slices.Sort(out)
	return strings.Join(out, " | ")
}

// stored measures the worker twice with the max create row: while the API
// accepted at its max (operations that succeeded in that row's window), and
// alone, storing the backlog that row left, from the end of its load until
// the last operation succeeded.
func (m *measurer) stored() error {
	load := m.report.cell(rowCreateMax, colAdapter)
	// The first seconds of the backlog's storing, as long as a cell's.
	profiled := m.prof.during(m.ctx, "worker alone", m.opts.Duration)
	if err := m.settle(); err != nil {
		return err
	}
	drained, drainedCPU := time.Now(), m.cpu()
	if err := profiled(); err != nil {
		return err
	}
	var (
		during, after int
		last          *time.Time
	)
	if err := m.pool.QueryRow(m.ctx, `
		SELECT count(*) FILTER (WHERE updated_at BETWEEN $1 AND $2),
		       count(*) FILTER (WHERE updated_at > $2),
		       max(updated_at)
		FROM custom_gpt_operations WHERE status = 'succeeded'`,
		load.from, load.to).Scan(&during, &after, &last); err != nil {
		return err
	}
	c := &cell{row: rowStored, col: colAdapter, out: newOutcome(), backlog: after}
	if load.cpuAtEnd != nil {
		// From the end of the load until the backlog was stored and relayed
		// (settle polls every 100 ms): the worker alone, with what it drives.
		c.cpu = coresUsed(load.cpuAtEnd, drainedCPU, drained.Sub(load.to))
	}
	c.storedLoaded = float64(during) / load.to.Sub(load.from).Seconds()
	if last != nil && after > 0 {
		c.stored = float64(after) / last.Sub(load.to).Seconds()
	}
	var failed int
	if err := m.pool.QueryRow(m.ctx, `SELECT count(*) FROM custom_gpt_operations WHERE status = 'failed'`).Scan(&failed); err != nil {
		return err
	}
	if failed > 0 {
		c.out.failures["operation failed"] = failed
	}
	m.report.cells = append(m.report.cells, c)
	return nil
}

// sustainedCreateRate is -create-rate, or less when the adapter just showed
// it cannot keep up with that: 80 % of the creates it accepted per second at
// most, half what the worker stored per second alone, and 80 % of what it
// stored while the API accepted at its max (the two share the CPUs, and the
// worker stores less then). Above what it sustains the backlog, and every
// latency with it, grows with the length of the run rather than saying
// anything about the adapter.
func (m *measurer) sustainedCreateRate() float64 {
	rate := m.opts.CreateRate
	if accepted := m.report.cell(rowCreateMax, colAdapter).out.perSecond(); accepted > 0 {
		rate = min(rate, 0.8*accepted)
	}
	stored := m.report.cell(rowStored, colAdapter)
	if stored.stored > 0 {
		rate = min(rate, 0.5*stored.stored)
	}
	if stored.storedLoaded > 0 {
		rate = min(rate, 0.8*stored.storedLoaded)
	}
	return rate
}

// succeeded completes the fixed-rate create cell with when each accepted
// operation succeeded, by the worker's clock in its row, counted from when
// the create was due: what a GPT waits for its write to take effect.
func (m *measurer) succeeded(c *cell) error {
	at, err := m.succeededAt(c)
	if err != nil {
		return err
	}
	for _, s := range c.out.ok {
		if t, ok := at[s.opID]; ok {
			c.done = append(c.done, t.Sub(s.due))
		}
	}
	slices.Sort(c.done)
	return nil
}

// succeededAt waits for the worker to end every operation, then checks that
// each one the cell's creates were accepted for succeeded (a failure of the
// cell otherwise) and says when, by the worker's clock in its row.
func (m *measurer) succeededAt(c *cell) (map[string]time.Time, error) {
	if err := m.settle(); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(c.out.ok))
	for _, s := range c.out.ok {
		ids = append(ids, s.opID)
	}
	rows, err := m.pool.Query(m.ctx, `SELECT id, status, updated_at FROM custom_gpt_operations WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	at := make(map[string]time.Time, len(ids))
	seen := 0
	for rows.Next() {
		var (
			id, status string
			when       time.Time
		)
		if err := rows.Scan(&id, &status, &when); err != nil {
			return nil, err
		}
		seen++
		if status != "succeeded" {
			c.out.fail("operation "+status, id)
			continue
		}
		at[id] = when
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if missing := len(ids) - seen; missing > 0 {
		c.out.fail("accepted operation not in Postgres", fmt.Sprint(missing))
	}
	return at, nil
}

// storedPaused measures the worker alone on a backlog it did not see
// arrive: the worker is stopped (SIGSTOP) while the API accepts creates, at
// its max and then at a fixed rate, a cell's time each, then continued, and
// timed until it stored them all. The backlog left by the max create row is
// only what the worker could not keep up with, which can be too little to
// time.
func (m *measurer) storedPaused(create target) error {
	if err := m.settle(); err != nil {
		return err
	}
	var worker []int
	for _, g := range m.procs {
		if g.name == "worker" {
			worker = g.pids()
		}
	}
	if len(worker) == 0 {
		return nil
	}
	signal := func(sig syscall.Signal) error {
		for _, pid := range worker {
			if err := syscall.Kill(pid, sig); err != nil {
				return fmt.Errorf("signal the worker: %w", err)
			}
		}
		return nil
	}
	m.say("%s, %s", m.report.rowLabel(rowStoredPaused), colAdapter)
	errsBefore := m.workerTimeouts()
	if err := signal(syscall.SIGSTOP); err != nil {
		return err
	}
	// What the API accepts with the machine to itself: the create
	// target, apart from the worker's share of the cores: its max, then
	// the rate, open loop. Only api is profiled: the worker, stopped,
	// would answer once continued.
	stopped := func(row string, load func() *outcome) error {
		before, from := m.cpu(), time.Now()
		profiled := m.prof.during(m.ctx, m.report.rowLabel(row), m.opts.Duration, "api")
		out := load()
		to := time.Now()
		m.report.cells = append(m.report.cells, &cell{row: row, col: colAdapter, out: out,
			from: from, to: to, cpu: coresUsed(before, m.cpu(), to.Sub(from))})
		return profiled()
	}
	err := stopped(rowCreateStopped, func() *outcome { return closedLoop(m.ctx, create, m.opts.Conns, m.opts.Duration) })
	if m.opts.StoppedRate > 0 && err == nil {
		err = stopped(rowCreateRateStopped, func() *outcome {
			return openLoop(m.ctx, create, m.opts.StoppedRate, m.opts.Duration, m.opts.MaxInFlight)
		})
	}
	resumed, before := time.Now(), m.cpu()
	if err := signal(syscall.SIGCONT); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	if err := m.ctx.Err(); err != nil {
		return err
	}
	// The worker's first seconds on the backlog, as long as a cell's.
	profiled := m.prof.during(m.ctx, m.report.rowLabel(rowStoredPaused), m.opts.Duration, "worker")
	if err := m.settle(); err != nil {
		_ = profiled()
		return err
	}
	drained, after := time.Now(), m.cpu()
	if err := profiled(); err != nil {
		return err
	}
	// A stopped process's reads outlive their deadlines: the worker logs
	// them when it continues. They are the stop's, not the adapter's.
	m.report.pausedErrs = m.workerTimeouts() - errsBefore
	var (
		n           int
		first, last *time.Time
	)
	if err := m.pool.QueryRow(m.ctx, `SELECT count(*), min(updated_at), max(updated_at) FROM custom_gpt_operations
		WHERE status = 'succeeded' AND updated_at > $1`, resumed).Scan(&n, &first, &last); err != nil {
		return err
	}
	c := &cell{row: rowStoredPaused, col: colAdapter, out: newOutcome(), backlog: n,
		cpu: coresUsed(before, after, drained.Sub(resumed))}
	if last != nil && n > 0 {
		c.stored = float64(n) / last.Sub(resumed).Seconds()
		c.firstStored = first.Sub(resumed)
	}
	m.report.cells = append(m.report.cells, c)
	return nil
}
