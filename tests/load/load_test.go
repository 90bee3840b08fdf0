package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The re-executed test binary is the fake mem0, as the program is.
func TestMain(m *testing.M) {
	if isMem0Child() {
		os.Exit(serveMem0())
	}
	os.Exit(m.Run())
}

// smokeOptions are a whole run in a few seconds at light load, so that the
// instrument keeps working beside the other tests.
func smokeOptions(t *testing.T) options {
	o := defaultOptions()
	o.Duration, o.Warmup = 300*time.Millisecond, 100*time.Millisecond
	o.Conns, o.MaxInFlight = 4, 64
	o.SearchRate, o.CreateRate, o.StoppedRate = 100, 100, 100
	o.Seed = 20
	o.Settle = 30 * time.Second
	o.InstallNginx = false // a test installs nothing
	o.Nginx = findNginx() != ""
	o.WorkParent = t.TempDir()
	o.Markdown = filepath.Join(t.TempDir(), "report.md")
	return o
}

// TestWholeRunShort runs the program end to end with 300 ms cells: every
// row of the table is there and no request failed its check.
func TestWholeRunShort(t *testing.T) {
	t.Parallel()
	opts := smokeOptions(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	rep, err := run(ctx, opts, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	t.Log(out.String())
	md, err := os.ReadFile(opts.Markdown)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if !strings.Contains(string(md), "| "+rep.rowLabel(row)) {
			t.Errorf("the Markdown report has no row %q", rep.rowLabel(row))
		}
	}
	if n := rep.failed(); n > 0 {
		t.Errorf("%d requests failed their checks", n)
	}

	want := map[string][]string{
		colDirect:  {rowSearchMax, rowSearchRate},
		colNginx:   {rowSearchMax, rowSearchRate},
		colAdapter: {rowSearchMax, rowSearchMaxUser, rowSearchRate, rowSearchRateUser, rowCreateMax, rowCreateMaxUser, rowCreateStopped, rowCreateRateStopped, rowCreateRate},
	}
	for _, col := range columns {
		t.Run(col, func(t *testing.T) {
			if col == colNginx && !opts.Nginx {
				t.Skip("nginx is not installed: `go tool task bench` installs it, a test does not")
			}
			for _, row := range want[col] {
				c := rep.cell(row, col)
				switch {
				case c == nil:
					t.Errorf("%s: not measured", rep.rowLabel(row))
				case len(c.out.ok) == 0:
					t.Errorf("%s: no request passed its check", rep.rowLabel(row))
				case len(c.cpu) == 0:
					t.Errorf("%s: no CPU measured", rep.rowLabel(row))
				case kind(row) == rowSearchMax && len(c.rounds) != opts.Rounds:
					t.Errorf("%s: measured in %d rounds, want %d", rep.rowLabel(row), len(c.rounds), opts.Rounds)
				}
			}
		})
	}
	if c := rep.cell(rowCreateRate, colAdapter); c != nil && len(c.done) != len(c.out.ok) {
		t.Errorf("create → succeeded: %d of %d accepted operations have a completion time", len(c.done), len(c.out.ok))
	}
	if rep.cell(rowStored, colAdapter) == nil {
		t.Error("the worker's stored/s is missing")
	}
	if c := rep.cell(rowStoredPaused, colAdapter); c == nil || c.backlog == 0 || c.stored <= 0 || len(c.cpu) == 0 {
		t.Errorf("the worker's stored/s on a backlog accepted while it was stopped is missing: %+v", c)
	}
	if rep.rss["api"] == 0 || rep.rss["worker"] == 0 {
		t.Errorf("peak RSS missing: %v", rep.rss)
	}
	if rep.ready["api"] <= 0 || rep.ready["worker"] <= 0 || !strings.Contains(string(md), "Ready after start") {
		t.Errorf("time to ready missing: %v", rep.ready)
	}
}
