// Package mcp drives each application's MCP endpoint with the official Go
// SDK's client over real HTTP, against a running service.
package mcp

import (
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }
