package promreg_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/promreg"
)

func TestRegisterReturnsTheCollectorRegisteredFirst(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	newCounter := func() prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "custom_gpt_test_total", Help: "A test counter."})
	}
	first, err := promreg.Register(reg, newCounter())
	if err != nil {
		t.Fatal(err)
	}
	second, err := promreg.Register(reg, newCounter())
	if err != nil || second != first {
		t.Fatalf("second registration: %v, %v; want the first counter", second, err)
	}
	// The same name with other help is another metric, refused.
	other := prometheus.NewCounter(prometheus.CounterOpts{Name: "custom_gpt_test_total", Help: "Another."})
	if _, err := promreg.Register(reg, other); err == nil {
		t.Error("a conflicting collector was registered")
	}
	if c, err := promreg.Register(nil, other); c != other || err != nil {
		t.Errorf("nil registerer: %v, %v", c, err)
	}
}
