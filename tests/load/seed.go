package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"golang.org/x/sync/errgroup"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// The search every row sends, and the words every seeded memory holds, so
// each search finds its limit of results.
const (
	searchQuery = "seat preferences"
	searchLimit = 10
)

// scope is the Memory Bank scope of an application's API key: mem0's
// user_id and agent_id as the adapter sends them.
type scope struct{ userID, agentID string }

func appScope(appID string) scope { return scope{userID: appID, agentID: memory.AgentPrefix + appID} }

// seed stores n memories in the scope through mem0's own API, as any other
// client would (the adapter's registry does not know them; its search does
// not ask): quick, and the same for every column.
func seed(ctx context.Context, m *mem0, s scope, n int) error {
	client := newClient(8)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range n {
		g.Go(func() error {
			body, _ := json.Marshal(map[string]any{
				"messages": []map[string]string{{"role": "user", "content": fmt.Sprintf("memory %d about travel, food and seat preferences", i)}},
				"user_id":  s.userID, "agent_id": s.agentID, "infer": false,
				"metadata": map[string]any{"operation_id": fmt.Sprintf("seed-%d", i)},
			})
			req := jsonPost(m.url+"/memories", body, "X-API-Key", m.key).WithContext(ctx)
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("seeding memory %d: %s", i, resp.Status)
			}
			return nil
		})
	}
	return g.Wait()
}
