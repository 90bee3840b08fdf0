package mcp

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// bearer adds the credential to every request of the SDK's client.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// connect initializes a session with appID's endpoint as token.
func connect(t testing.TB, e *harness.Deployment, appID, token string) (*mcp.ClientSession, error) {
	t.Helper()
	return connectThrough(t, e, appID, token, http.DefaultTransport)
}

// connectThrough is connect whose requests go through next.
func connectThrough(t testing.TB, e *harness.Deployment, appID, token string, next http.RoundTripper) (*mcp.ClientSession, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "mcp-test", Version: "1"}, nil)
	return client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: e.Base + "/mcp/" + appID, HTTPClient: &http.Client{Transport: bearer{token, next}}, MaxRetries: -1,
	}, nil)
}

// call calls a tool and decodes its structured content into a map.
func call(t *testing.T, s *mcp.ClientSession, tool string, args map[string]any) (*mcp.CallToolResult, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	var out map[string]any
	if res.StructuredContent != nil {
		raw, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s: structured content %s: %v", tool, raw, err)
		}
	}
	return res, out
}

// ok calls a tool that must succeed, with a short text beside its structured content.
func ok(t *testing.T, s *mcp.ClientSession, tool string, args map[string]any) map[string]any {
	t.Helper()
	res, out := call(t, s, tool, args)
	if res.IsError || out == nil || len(res.Content) == 0 {
		t.Fatalf("%s(%v): error %v, content %s", tool, args, res.IsError, textOf(res))
	}
	return out
}

// failed calls a tool that must fail as a tool error and returns its text.
func failed(t *testing.T, s *mcp.ClientSession, tool string, args map[string]any) string {
	t.Helper()
	res, _ := call(t, s, tool, args)
	if !res.IsError {
		t.Fatalf("%s(%v) succeeded: %s", tool, args, textOf(res))
	}
	return textOf(res)
}

func textOf(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}
