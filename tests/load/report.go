package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// The table's rows and columns, as issue 13 draws it, and the rows an end
// user's token repeats (issue 13: the API key is the application's, with
// one budget; an end user's request spends two and has a scope of its own).
const (
	rowSearchMax         = "search max"
	rowSearchMaxUser     = "search max, end user"
	rowSearchRate        = "search rate"
	rowSearchRateUser    = "search rate, end user"
	rowCreateMax         = "create max"
	rowCreateMaxUser     = "create max, end user"
	rowCreateStopped     = "create max, worker stopped"
	rowCreateRateStopped = "create rate, worker stopped"
	rowCreateRate        = "create rate"
	rowStored            = "stored"
	rowStoredPaused      = "stored, paused"

	colDirect  = "direct"
	colNginx   = "nginx"
	colAdapter = "adapter"
)

var (
	rows = []string{rowSearchMax, rowSearchMaxUser, rowSearchRate, rowSearchRateUser,
		rowCreateMax, rowCreateMaxUser, rowCreateStopped, rowCreateRateStopped, rowCreateRate, rowStored, rowStoredPaused}
	columns = []string{colDirect, colNginx, colAdapter}
	// keyRows are the API key's rows the end user's repeat: the same load,
	// read the same way and compared with the same direct and nginx cells.
	keyRows = map[string]string{rowSearchMaxUser: rowSearchMax, rowSearchRateUser: rowSearchRate, rowCreateMaxUser: rowCreateMax}
)

// kind is the row's load: its own, or that of the API key's row it repeats.
func kind(row string) string {
	if k, ok := keyRows[row]; ok {
		return k
	}
	return row
}

// The machine's columns of the CPU table, beside the processes'.
const (
	cpuPostgres = "postgres"
	cpuRedis    = "redis"
	cpuMachine  = "whole machine"
	cpuStolen   = "stolen"
)

// cell is one measurement: a row's load against one column's target.
type cell struct {
	row, col string
	out      *outcome
	cpu      map[string]float64       // cores used while measured, by process
	cpuAtEnd map[string]time.Duration // CPU time of each process when the measurement ended
	done     []time.Duration          // create → succeeded, sorted
	from, to time.Time                // the measured window
	// The worker's memories stored per second, while the API accepted
	// creates at its max and alone after, and how many it stored alone.
	storedLoaded, stored float64
	backlog              int
	// firstStored is how long after it was continued the worker ended the
	// first write of a backlog accepted while it was stopped: a drain that
	// starts late (a command lost on its way) shows here, not in the rate.
	firstStored time.Duration
	// rounds is the rate of each round the cell was measured in (-rounds).
	rounds []float64
}

// merge adds a later round of the same cell: its requests, its time, and
// the CPU it used, weighted by its length.
func (c *cell) merge(later *cell) {
	a, b := c.out.elapsed.Seconds(), later.out.elapsed.Seconds()
	for name, cores := range later.cpu {
		c.cpu[name] = (c.cpu[name]*a + cores*b) / (a + b)
	}
	c.out.ok = append(c.out.ok, later.out.ok...)
	for reason, n := range later.out.failures {
		c.out.failures[reason] += n
		if _, ok := c.out.examples[reason]; !ok {
			c.out.examples[reason] = later.out.examples[reason]
		}
	}
	c.out.unsent.Add(later.out.unsent.Load())
	c.out.elapsed += later.out.elapsed
	c.to, c.cpuAtEnd = later.to, later.cpuAtEnd
	c.rounds = append(c.rounds, later.rounds...)
}

// report is a run's result.
type report struct {
	started  time.Time
	commit   string
	cpus     int
	model    string
	memory   string
	settings [][2]string
	opts     options
	cells    []*cell
	// createRate is the create → succeeded row's: -create-rate, or less when
	// the adapter sustains less (see measurer.sustainedCreateRate).
	createRate float64
	rss        map[string]int64         // peak resident memory by adapter process
	ready      map[string]time.Duration // from start to /readyz 200, by adapter process
	logErrs    map[string]int           // error lines each adapter process logged
	pausedErrs int                      // of the worker's, those logged as it continued after being stopped
	mem0Errs   []string                 // the fake mem0's complaints
	noNginx    string                   // why the nginx column is empty, when it is
}

func (r *report) cell(row, col string) *cell {
	for _, c := range r.cells {
		if c.row == row && c.col == col {
			return c
		}
	}
	return nil
}

// failed counts the requests that failed their checks, and the fake mem0's
// complaints, each of which is a request mem0 would have refused.
func (r *report) failed() int {
	n := len(r.mem0Errs)
	for _, c := range r.cells {
		if c.out != nil {
			n += c.out.failed()
		}
	}
	return n
}

func (r *report) rowLabel(row string) string {
	switch row {
	case rowSearchMax:
		return fmt.Sprintf("search, max throughput (%d connections, API key)", r.opts.Conns)
	case rowSearchMaxUser:
		return fmt.Sprintf("search, max throughput (%d connections, end user's token)", r.opts.Conns)
	case rowSearchRate:
		return fmt.Sprintf("search at a fixed %s/s (API key)", thousands(r.opts.SearchRate))
	case rowSearchRateUser:
		return fmt.Sprintf("search at a fixed %s/s (end user's token)", thousands(r.opts.SearchRate))
	case rowCreateMax:
		return fmt.Sprintf("create until 202, max (%d connections, %s)", r.opts.Conns, r.apiKeys())
	case rowCreateMaxUser:
		return fmt.Sprintf("create until 202, max (%d connections, end user's token, one scope)", r.opts.Conns)
	case rowCreateStopped:
		return fmt.Sprintf("create until 202, max, the worker stopped (%d connections, %s)", r.opts.Conns, r.apiKeys())
	case rowCreateRateStopped:
		return fmt.Sprintf("create at a fixed %s/s until 202, the worker stopped (%s)", thousands(r.opts.StoppedRate), r.apiKeys())
	case rowCreateRate:
		label := fmt.Sprintf("create at a fixed %s/s (%s): until 202, until `succeeded`", thousands(r.createRate), r.apiKeys())
		if r.createRate < r.opts.CreateRate {
			label += fmt.Sprintf(" (what it sustains; %s/s asked)", thousands(r.opts.CreateRate))
		}
		return label
	case rowStored:
		return fmt.Sprintf("worker: memories stored per second (%s)", r.scopes())
	case rowStoredPaused:
		return fmt.Sprintf("worker alone: a backlog accepted while it was stopped, stored per second (%s)", r.scopes())
	}
	return row
}

func (r *report) scopes() string {
	if r.opts.Scopes <= 1 {
		return "one scope"
	}
	return fmt.Sprintf("%d scopes", r.opts.Scopes)
}

// apiKeys says which credentials the API key's creates go round: one
// application's key, or one per scope.
func (r *report) apiKeys() string {
	if r.opts.Scopes <= 1 {
		return "API key, one scope"
	}
	return fmt.Sprintf("%d API keys, a scope each", r.opts.Scopes)
}

var columnLabels = map[string]string{
	colDirect: "direct to the fake mem0", colNginx: "through nginx `proxy_pass`", colAdapter: "through the adapter",
}

// text is what one cell says in the table.
func (r *report) text(c *cell) string {
	if c == nil {
		return ""
	}
	var parts []string
	lat := c.out.latencies()
	p50, p99 := percentile(lat, 0.50), percentile(lat, 0.99)
	switch kind(c.row) {
	case rowSearchMax, rowCreateMax:
		rate := thousands(c.out.perSecond()) + "/s"
		if c.col == colAdapter {
			var shares []string
			if base := r.baseline(rowSearchMax); kind(c.row) == rowSearchMax && base != nil && base.out.perSecond() > 0 {
				shares = append(shares, fmt.Sprintf("%.0f %% of %s", 100*c.out.perSecond()/base.out.perSecond(), base.col)+roundsSpread(c, base))
			}
			if key := r.cell(kind(c.row), colAdapter); c.row != kind(c.row) && key != nil && key.out.perSecond() > 0 {
				shares = append(shares, fmt.Sprintf("%.0f %% of the API key's", 100*c.out.perSecond()/key.out.perSecond()))
			}
			switch {
			case len(shares) > 0 && kind(c.row) == rowSearchMax: // the ratio issue 13 sets a target for
				rate = fmt.Sprintf("**%s (%s)**", rate, strings.Join(shares, ", "))
			case len(shares) > 0:
				rate = fmt.Sprintf("%s (%s)", rate, strings.Join(shares, ", "))
			}
		}
		parts = append(parts, rate, "p50 "+ms(p50), "p99 "+ms(p99))
	case rowCreateStopped:
		rate := thousands(c.out.perSecond()) + "/s"
		if running := r.cell(rowCreateMax, colAdapter); running != nil && running.out.perSecond() > 0 {
			rate += fmt.Sprintf(" (%.0f %% of the row with the worker running)", 100*c.out.perSecond()/running.out.perSecond())
		}
		parts = append(parts, rate, "p50 "+ms(p50), "p99 "+ms(p99))
	case rowSearchRate:
		p50s, p99s := "p50 "+ms(p50), "p99 "+ms(p99)
		if direct := r.cell(rowSearchRate, colDirect); c.col != colDirect && direct != nil && len(direct.out.ok) > 0 {
			dl := direct.out.latencies()
			p50s += fmt.Sprintf(" (%+.2f ms over direct)", float64(p50-percentile(dl, 0.50))/1e6)
			p99s += fmt.Sprintf(" (%.1f× direct)", float64(p99)/float64(percentile(dl, 0.99)))
		}
		parts = append(parts, p50s, p99s)
		parts = append(parts, r.behind(c, r.opts.SearchRate)...)
	case rowCreateRateStopped:
		parts = append(parts, "p50 "+ms(p50), "p99 "+ms(p99))
		parts = append(parts, r.behind(c, r.opts.StoppedRate)...)
	case rowCreateRate:
		parts = append(parts, "202: p50 "+ms(p50)+", p99 "+ms(p99))
		if len(c.done) > 0 {
			parts = append(parts, "succeeded: p50 "+ms(percentile(c.done, 0.50))+", p99 "+ms(percentile(c.done, 0.99)))
		}
		parts = append(parts, r.behind(c, r.createRate)...)
	case rowStored:
		parts = append(parts, fmt.Sprintf("**%s/s** while the API accepts at max", thousands(c.storedLoaded)))
		if c.backlog > 0 {
			parts = append(parts, fmt.Sprintf("%s/s alone (the %s left after)", thousands(c.stored), thousands(float64(c.backlog))))
		}
	case rowStoredPaused:
		parts = append(parts, fmt.Sprintf("**%s/s** (a backlog of %s, the first stored %s after it continued)",
			thousands(c.stored), thousands(float64(c.backlog)), ms(c.firstStored)))
	}
	if n := c.out.failed(); n > 0 {
		parts = append(parts, fmt.Sprintf("**%d failed**", n))
	}
	return strings.Join(parts, ", ")
}

// baseline is the cell the adapter's throughput is a share of: nginx's, or
// the direct one when nginx was not measured.
// roundsSpread is the lowest and highest of the rounds' ratios of c to
// base, when they were measured in more than one round.
func roundsSpread(c, base *cell) string {
	if len(c.rounds) < 2 || len(c.rounds) != len(base.rounds) {
		return ""
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, rate := range c.rounds {
		if base.rounds[i] <= 0 {
			return ""
		}
		ratio := 100 * rate / base.rounds[i]
		lo, hi = min(lo, ratio), max(hi, ratio)
	}
	return fmt.Sprintf("; %.0f–%.0f %% by round", lo, hi)
}

func (r *report) baseline(row string) *cell {
	if c := r.cell(row, colNginx); c != nil {
		return c
	}
	return r.cell(row, colDirect)
}

// behind says so when a fixed-rate cell's target served less than was asked,
// and how many requests were never sent because it fell too far behind
// (their latency is in no percentile).
func (r *report) behind(c *cell, rate float64) []string {
	var out []string
	if got := c.out.perSecond(); got < 0.95*rate {
		out = append(out, fmt.Sprintf("served only %s/s", thousands(got)))
	}
	if n := c.out.unsent.Load(); n > 0 {
		out = append(out, fmt.Sprintf("**%s never sent**", thousands(float64(n))))
	}
	return out
}

// write prints the report as Markdown, its tables padded so that they read
// in a terminal too.
func (r *report) write(w io.Writer) {
	fmt.Fprintf(w, "Commit `%s`, %s. Machine: %d × %s (nproc %d), %s RAM.\n\n",
		r.commit, r.started.UTC().Format("2006-01-02 15:04 MST"), r.cpus, r.model, r.cpus, r.memory)
	var set []string
	for _, kv := range r.settings {
		set = append(set, fmt.Sprintf("%s %s", kv[0], kv[1]))
	}
	fmt.Fprintf(w, "Servers: %s.\n\n", strings.Join(set, ", "))
	fmt.Fprintf(w, "Load: %s per cell after a %s warm-up; max rows closed loop over %d connections; fixed rates open loop (latency from each request's due time, at most %d outstanding); %d memories in each searched scope (the API key's, the end user's); limit %d.\n\n",
		r.opts.Duration, r.opts.Warmup, r.opts.Conns, r.opts.MaxInFlight, r.opts.Seed, searchLimit)
	if r.opts.Rounds > 1 {
		fmt.Fprintf(w, "The search rows' columns took turns in %d rounds of %s each, so that the host's drift falls on all alike; a ratio is over all rounds, with its lowest and highest round.\n\n",
			r.opts.Rounds, (r.opts.Duration / time.Duration(r.opts.Rounds)).Round(time.Millisecond))
	}
	if len(r.opts.AdapterEnv) > 0 {
		fmt.Fprintf(w, "Adapter environment added: `%s`.\n\n", strings.Join(r.opts.AdapterEnv, " "))
	}

	header := []string{"path"}
	for _, col := range columns {
		header = append(header, columnLabels[col])
	}
	var body [][]string
	for _, row := range rows {
		line := []string{r.rowLabel(row)}
		for _, col := range columns {
			line = append(line, r.text(r.cell(row, col)))
		}
		body = append(body, line)
	}
	table(w, header, body, []bool{false, true, true, true})
	if r.noNginx != "" {
		fmt.Fprintf(w, "\nnginx not measured: %s.\n", r.noNginx)
	}

	var rss []string
	for _, name := range slices.Sorted(maps.Keys(r.rss)) {
		rss = append(rss, fmt.Sprintf("%s %.0f MiB", name, float64(r.rss[name])/(1<<20)))
	}
	fmt.Fprintf(w, "\nPeak resident memory (VmHWM): %s.\n", strings.Join(rss, ", "))
	var ready []string
	for _, name := range slices.Sorted(maps.Keys(r.ready)) {
		ready = append(ready, fmt.Sprintf("%s %d ms", name, r.ready[name].Milliseconds()))
	}
	fmt.Fprintf(w, "Ready after start (first 200 from /readyz, migrations applied, polled every 5 ms): %s.\n", strings.Join(ready, ", "))
	if r.pausedErrs > 0 {
		fmt.Fprintf(w, "The worker logged %d I/O timeouts when it continued after being stopped (reads whose deadlines ran out meanwhile), not counted below.\n", r.pausedErrs)
	}
	for _, name := range slices.Sorted(maps.Keys(r.logErrs)) {
		if n := r.logErrs[name]; n > 0 {
			fmt.Fprintf(w, "The %s logged %d errors (kept with -keep).\n", name, n)
		}
	}

	fmt.Fprintf(w, "\nCPU used while measured, in cores (of %d). The whole machine's includes any other work on it; "+
		"stolen is CPU time the hypervisor gave other guests while this one wanted it. "+
		"postgres is the backends of this run's database; redis the whole server.\n\n", r.cpus)
	procs := []string{"load generator", "fake mem0", "nginx", "api", "worker", cpuPostgres, cpuRedis, cpuMachine, cpuStolen}
	cpuHeader := append([]string{"cell"}, procs...)
	var cpuBody [][]string
	for _, c := range r.cells {
		if c.cpu == nil {
			continue
		}
		label := r.rowLabel(c.row) + ", " + c.col
		switch c.row {
		case rowStored:
			label = fmt.Sprintf("worker alone, storing the backlog (%s)", r.scopes())
		case rowStoredPaused:
			label = fmt.Sprintf("worker alone, storing a backlog accepted while it was stopped (%s)", r.scopes())
		}
		line := []string{label}
		for _, p := range procs {
			if v, ok := c.cpu[p]; ok {
				line = append(line, fmt.Sprintf("%.2f", v))
			} else {
				line = append(line, "")
			}
		}
		cpuBody = append(cpuBody, line)
	}
	right := []bool{false}
	for range procs {
		right = append(right, true)
	}
	table(w, cpuHeader, cpuBody, right)

	fmt.Fprintln(w)
	if r.failed() == 0 {
		fmt.Fprintln(w, "Failed checks: none.")
		return
	}
	fmt.Fprintln(w, "Failed checks:")
	fmt.Fprintln(w)
	for _, c := range r.cells {
		for _, reason := range slices.Sorted(maps.Keys(c.out.failures)) {
			fmt.Fprintf(w, "- %s, %s: %d × %s (e.g. `%s`)\n", r.rowLabel(c.row), c.col, c.out.failures[reason], reason, c.out.examples[reason])
		}
	}
	for _, line := range r.mem0Errs {
		fmt.Fprintf(w, "- fake mem0: %s\n", line)
	}
}
