package messaging

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// deletes is a DeleteMemory use case that answers each call with the next error.
type deletes struct{ errs []error }

func (d *deletes) Handle(context.Context, events.DeleteMemory) error {
	err := d.errs[0]
	d.errs = d.errs[1:]
	return err
}

// Each handling of a command is counted and timed under its operation's kind
// and how it ended; a "not yet" is neither a success nor a failure.
func TestOperationMetricsByKindAndOutcome(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := newOperationMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	uc := &deletes{errs: []error{nil, nil, operation.ErrLeased, context.Canceled, errors.New("mem0 answered 500")}}
	h := run(uc, "1", m)
	for range len(uc.errs) {
		_ = h.Handle(context.Background(), &events.DeleteMemory{})
	}

	handled, timed := series(t, reg)
	kind := string(operation.KindDeleteMemory)
	for outcome, want := range map[string]uint64{outcomeSucceeded: 2, outcomeRetryLater: 2, outcomeFailed: 1} {
		if got := handled[kind+"/"+outcome]; got != float64(want) {
			t.Errorf("handled{kind=%q,outcome=%q} = %v, want %v", kind, outcome, got, want)
		}
		if got := timed[kind+"/"+outcome]; got != want {
			t.Errorf("duration{kind=%q,outcome=%q} counted %v, want %v", kind, outcome, got, want)
		}
	}
	// The other kinds are exported at 0, and a second router in the process
	// counts into the same series.
	again, err := newOperationMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if again.handled != m.handled {
		t.Error("a second router registered metrics of its own")
	}
	handled, timed = series(t, reg)
	if want := 3 * len(events.Kinds()); len(handled) != want || len(timed) != want {
		t.Errorf("%d counted and %d timed series, want %d of each: every kind and outcome", len(handled), len(timed), want)
	}
}

// series reads the operation metrics of reg, by "kind/outcome": the counters'
// values and the histograms' counts.
func series(t *testing.T, reg *prometheus.Registry) (handled map[string]float64, timed map[string]uint64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	handled, timed = map[string]float64{}, map[string]uint64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			key := labels["kind"] + "/" + labels["outcome"]
			switch mf.GetName() {
			case "custom_gpt_operations_handled_total":
				handled[key] = m.GetCounter().GetValue()
			case "custom_gpt_operation_handling_duration_seconds":
				timed[key] = m.GetHistogram().GetSampleCount()
			}
		}
	}
	return handled, timed
}
