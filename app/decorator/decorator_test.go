package decorator_test

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/decorator"
)

type pingHandler struct{ err error }

func (h pingHandler) Handle(context.Context, string) error { return h.err }

type echoHandler struct{}

func (echoHandler) Handle(_ context.Context, q string) (string, error) { return "echo " + q, nil }

// outcomes returns the observation count per "handler/outcome" label pair.
func outcomes(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var handler, outcome string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "handler":
					handler = l.GetValue()
				case "outcome":
					outcome = l.GetValue()
				}
			}
			out[handler+"/"+outcome] += m.GetHistogram().GetSampleCount()
		}
	}
	return out
}

func TestCommandDecorator(t *testing.T) {
	t.Parallel()

	reg := prometheus.NewRegistry()
	m := decorator.NewMetrics(reg)
	boom := errors.New("boom")

	if err := decorator.ApplyCommandDecorators[string](pingHandler{}, nil, m).Handle(context.Background(), "x"); err != nil {
		t.Errorf("Handle = %v", err)
	}
	if err := decorator.ApplyCommandDecorators[string](pingHandler{err: boom}, nil, m).Handle(context.Background(), "x"); !errors.Is(err, boom) {
		t.Errorf("Handle = %v, want the handler's error", err)
	}
	got := outcomes(t, reg)
	if got["ping/success"] != 1 || got["ping/error"] != 1 {
		t.Errorf("observations = %v, want one success and one error for handler ping", got)
	}
}

func TestQueryDecorator_nilLoggerAndMetrics(t *testing.T) {
	t.Parallel()

	h := decorator.ApplyQueryDecorators[string, string](echoHandler{}, nil, nil)
	got, err := h.Handle(context.Background(), "hi")
	if err != nil || got != "echo hi" {
		t.Errorf("Handle = %q, %v", got, err)
	}
}
