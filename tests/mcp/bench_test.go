package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// BenchmarkSearchMCPvsAPI searches one scope of 200 memories through
// search_memories over MCP and through POST /api/v1/search, on the same
// deployment in the same run: what the MCP layer (JSON-RPC, the SDK's
// validation of input and output, one stateless session per request) adds to
// the API's search. Figures in BENCHMARKS.md.
func BenchmarkSearchMCPvsAPI(b *testing.B) {
	e := harness.NewDeployment(b, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_LOG_LEVEL"] = "error"
	e.Bank.SetAPIKey("")
	delete(e.Vars, "CUSTOM_GPT_MEMORY_BANK_API_KEY")
	a := e.CreateApp("Bench GPT")
	if out, err := e.RunCLI("apps", "set-mcp", a.AppID, "--enable"); err != nil {
		b.Fatalf("set-mcp: %v %s", err, out)
	}
	e.Start("serve")
	for i := range 200 {
		body, _ := json.Marshal(map[string]any{"content": fmt.Sprintf("memory %d about travel, food and seat preferences", i)})
		if err := harness.Post(e.Base+"/api/v1/memories", a.APIKey, body, http.StatusAccepted); err != nil {
			b.Fatal(err)
		}
	}
	e.Eventually("the seed memories are stored", func() bool { return e.Bank.Count() == 200 })

	// Both sides keep as many idle connections as the heaviest parallelism needs.
	s, err := connectThrough(b, e, a.AppID, a.APIKey, harness.BenchClient.Transport)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	viaAPI, _ := json.Marshal(map[string]any{"query": "seat preferences", "limit": 10})
	args := map[string]any{"query": "seat preferences", "limit": 10}
	for _, p := range []int{1, 8} {
		b.Run(fmt.Sprintf("api/par=%d", p), func(b *testing.B) {
			harness.Measure(b, p, func(int) error {
				return harness.Post(e.Base+"/api/v1/search", a.APIKey, viaAPI, http.StatusOK)
			})
		})
		b.Run(fmt.Sprintf("mcp/par=%d", p), func(b *testing.B) {
			harness.Measure(b, p, func(int) error {
				res, err := s.CallTool(context.Background(), &mcp.CallToolParams{Name: "search_memories", Arguments: args})
				if err != nil {
					return err
				}
				if res.IsError {
					return fmt.Errorf("search_memories: %s", textOf(res))
				}
				return nil
			})
		})
	}
}
