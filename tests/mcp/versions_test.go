package mcp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// rpc posts one JSON-RPC request as a client of protocol version v does, and
// returns its result, read from a JSON or an event-stream answer.
func rpc(t *testing.T, url, key, v, method string, params any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if method != "initialize" {
		req.Header.Set("MCP-Protocol-Version", v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw []byte
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 1<<16), 1<<22)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				raw = []byte(data)
				break
			}
		}
	} else {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		raw = buf.Bytes()
	}
	var msg struct {
		Result map[string]any `json:"result"`
		Error  any            `json:"error"`
	}
	if err := json.Unmarshal(raw, &msg); err != nil || msg.Result == nil {
		t.Fatalf("%s at %s: %d %s (%v)", method, v, resp.StatusCode, raw, msg.Error)
	}
	return msg.Result
}

// Every protocol version the SDK speaks is answered: the older ones through
// initialize and a call that names the version, the newest as the SDK's own
// client negotiates it.
func TestEveryProtocolVersion(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "embedded")
	if out, err := e.RunCLI("migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	a := e.CreateApp("Versions GPT")
	if out, err := e.RunCLI("apps", "set-mcp", a.AppID, "--enable"); err != nil {
		t.Fatalf("set-mcp: %v %s", err, out)
	}
	e.Start("serve")
	url := e.Base + "/mcp/" + a.AppID

	versions := mcp.SupportedProtocolVersions()
	if len(versions) < 5 || versions[0] != "2026-07-28" || versions[len(versions)-1] != "2024-11-05" {
		t.Fatalf("the SDK speaks %v: update this test and the README", versions)
	}
	for _, v := range versions[1:] {
		t.Run(v, func(t *testing.T) {
			init := rpc(t, url, a.APIKey, v, "initialize", map[string]any{
				"protocolVersion": v, "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "versions-test", "version": "1"},
			})
			if init["protocolVersion"] != v {
				t.Fatalf("initialize at %s answered version %v", v, init["protocolVersion"])
			}
			list := rpc(t, url, a.APIKey, v, "tools/list", map[string]any{})
			if tools, _ := list["tools"].([]any); len(tools) != len(allTools) {
				t.Fatalf("tools/list at %s: %s", v, fmt.Sprint(list))
			}
		})
	}
	s, err := connect(t, e, a.AppID, a.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.InitializeResult().ProtocolVersion; got != versions[0] {
		t.Fatalf("the SDK's client negotiated %s, want %s", got, versions[0])
	}
}
