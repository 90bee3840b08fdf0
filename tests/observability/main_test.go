// Package observability checks the alerting rules and the dashboard against
// the service: every metric they name is exported by the process that owns
// it, and every alert has its runbook.
package observability

import (
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }
