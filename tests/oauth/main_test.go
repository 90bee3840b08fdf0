package oauth

import (
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }
