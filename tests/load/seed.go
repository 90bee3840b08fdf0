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

// scope is a Memory Bank scope: mem0's user_id and agent_id as the adapter
// sends them, and what the content of each memory seeded there says.
type scope struct {
	userID, agentID string
	about           string
}

// scopeOf is the scope of the application's API key (endUser "") or of one
// of its end users, derived as the adapter derives it (memory.Scope).
func scopeOf(appID, endUser string) (scope, error) {
	s, err := memory.NewScope(appID, endUser)
	if err != nil {
		return scope{}, err
	}
	about := "memory"
	if endUser != "" {
		about = endUsersMemory
	}
	return scope{userID: s.UserID(), agentID: s.AgentID(), about: about}, nil
}

// endUsersMemory starts each memory seeded in an end user's scope, and every
// result of their searches: what tells their scope from the application's,
// which holds the same memories otherwise.
const endUsersMemory = "end user's memory"

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
				"messages": []map[string]string{{"role": "user", "content": fmt.Sprintf("%s %d about travel, food and seat preferences", s.about, i)}},
				"user_id":  s.userID, "agent_id": s.agentID, "infer": false,
				"metadata": map[string]any{"operation_id": fmt.Sprintf("seed-%s-%d", s.userID, i)},
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
