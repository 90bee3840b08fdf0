package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
)

// seedPrefix starts the operation tag of every memory seedBank stores.
const seedPrefix = "seed-"

// SeedBank stores n memories in the Memory Bank's scope of an application
// (user_id, agent_id), through mem0's own API as any other client would: the
// service's registry does not know them.
func SeedBank(t *testing.T, e *Deployment, flavor, userID, agentID string, n int) {
	t.Helper()
	path, auth := "/memories", "X-API-Key"
	token := e.Vars["CUSTOM_GPT_MEMORY_BANK_API_KEY"]
	if flavor == string(memorybank.FlavorPlatform) {
		path, auth, token = "/v3/memories/add/", "Authorization", "Token "+token
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	slots := make(chan struct{}, 8)
	for i := range n {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			body, _ := json.Marshal(map[string]any{
				"messages": []map[string]string{{"role": "user", "content": fmt.Sprintf("seeded fact %d of %s", i, userID)}},
				"user_id":  userID, "agent_id": agentID, "infer": false,
				"metadata": map[string]any{"operation_id": fmt.Sprintf("%s%d", seedPrefix, i), "app_id": userID},
			})
			req, _ := http.NewRequest(http.MethodPost, e.Bank.URL()+path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(auth, token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("seed %d: %s", i, resp.Status)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
