package memorybank_test

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/mem0test"
)

var flavors = []memorybank.Flavor{memorybank.FlavorOSS, memorybank.FlavorPlatform}

const apiKey = "test-key"

// forEachFlavor runs test against a fresh fake Memory Bank of each flavor.
func forEachFlavor(t *testing.T, test func(t *testing.T, srv *mem0test.Server, flavor memorybank.Flavor)) {
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			t.Parallel()
			srv := mem0test.NewServer(t, flavor)
			srv.SetAPIKey(apiKey)
			test(t, srv, flavor)
		})
	}
}

func newClient(t *testing.T, baseURL string, flavor memorybank.Flavor, tune ...func(*memorybank.Config)) *memorybank.Client {
	t.Helper()
	cfg := memorybank.Config{BaseURL: baseURL, Flavor: flavor, APIKey: apiKey}
	for _, f := range tune {
		f(&cfg)
	}
	c, err := memorybank.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func scope(t *testing.T, app, user string) memory.Scope {
	t.Helper()
	s, err := memory.NewScope(app, user)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func draft(t *testing.T, content string, metadata map[string]any) memory.Draft {
	t.Helper()
	d, err := memory.NewDraft(content, metadata, "")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func query(t *testing.T, text string, limit int) memory.Query {
	t.Helper()
	q, err := memory.NewQuery(text, &limit)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func bankError(t *testing.T, err error) *memory.BankError {
	t.Helper()
	var be *memory.BankError
	if !errors.As(err, &be) {
		t.Fatalf("error %v (%T) is not a *memory.BankError", err, err)
	}
	return be
}

// metricValue reads one series from reg; labels select it, in any order.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, labels) {
				switch {
				case m.Counter != nil:
					return m.GetCounter().GetValue()
				case m.Gauge != nil:
					return m.GetGauge().GetValue()
				case m.Histogram != nil:
					return float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}
