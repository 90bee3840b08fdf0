package main

import (
	"strings"
	"testing"
	"time"
)

// TestRoundsAddUp: a cell measured in rounds reports all their requests over
// all their time, CPU weighted by each round's length, and the spread of the
// rounds' ratios to its baseline.
func TestRoundsAddUp(t *testing.T) {
	round := func(col string, requests int, secs float64, cores float64) *cell {
		out := newOutcome()
		out.ok = make([]sample, requests)
		out.elapsed = time.Duration(secs * float64(time.Second))
		return &cell{row: rowSearchMax, col: col, out: out, cpu: map[string]float64{"api": cores}, rounds: []float64{out.perSecond()}}
	}
	direct, adapter := round(colDirect, 3000, 1, 0), round(colAdapter, 1500, 1, 0.4)
	direct.merge(round(colDirect, 2000, 1, 0))
	adapter.merge(round(colAdapter, 1200, 2, 0.7))

	if got := adapter.out.perSecond(); got != 900 {
		t.Errorf("rate over both rounds = %v, want 900 (2,700 in 3 s)", got)
	}
	if got := adapter.cpu["api"]; got < 0.599 || got > 0.601 {
		t.Errorf("api cores = %v, want 0.6 (0.4 for 1 s, 0.7 for 2 s)", got)
	}
	if got := roundsSpread(adapter, direct); got != "; 30–50 % by round" {
		t.Errorf("spread = %q, want 30 %% (600 of 2,000) to 50 %% (1,500 of 3,000)", got)
	}
	if got := roundsSpread(round(colAdapter, 1, 1, 0), direct); got != "" {
		t.Errorf("one round against two: spread %q, want none", got)
	}
	r := &report{cells: []*cell{direct, adapter}, opts: defaultOptions()}
	if text := r.text(adapter); !strings.Contains(text, "900/s (36 % of direct; 30–50 % by round)") {
		t.Errorf("the adapter's cell says %q", text)
	}
}
