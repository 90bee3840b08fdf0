package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
)

// largeScope is more memories than mem0 lists at once (20 by default, 1000 at
// most), so that nothing the service does can rest on a listing of the scope.
const largeScope = 2500

// seedPrefix starts the operation tag of every memory seedBank stores.
const seedPrefix = "seed-"

// seedBank stores n memories in the Memory Bank's scope of an application
// (user_id, agent_id), through mem0's own API as any other client would: the
// service's registry does not know them.
func seedBank(t *testing.T, e *env, flavor, userID, agentID string, n int) {
	t.Helper()
	path, auth := "/memories", "X-API-Key"
	token := e.vars["CUSTOM_GPT_MEMORY_BANK_API_KEY"]
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
			req, _ := http.NewRequest(http.MethodPost, e.bank.URL()+path, bytes.NewReader(body))
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

// bankHolds counts the memories the Memory Bank holds of user_id, and of them
// those tagged with operation op.
func bankHolds(e *env, userID, op string) (all, tagged int) {
	for _, m := range e.bank.Memories() {
		if m.UserID != userID {
			continue
		}
		all++
		if m.Metadata["operation_id"] == op {
			tagged++
		}
	}
	return all, tagged
}

// A create whose first answer is lost (the Memory Bank stores the memory,
// then a proxy answers 504, or the connection drops) is stored exactly once,
// in a scope far larger than mem0 lists: the retry asks mem0 for the
// operation's tag instead of reading the scope.
func TestLostAnswerIsStoredOnceInALargeScope(t *testing.T) {
	t.Parallel()
	for _, flavor := range []string{"mem0-oss", "mem0-platform"} {
		for _, loss := range []int{http.StatusGatewayTimeout, 0} {
			t.Run(fmt.Sprintf("%s/%d", flavor, loss), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, flavor)
				e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
				app := e.createApp("Lost answer GPT")
				seedBank(t, e, flavor, app.AppID, "custom_gpt:"+app.AppID, largeScope)
				e.start("serve")

				e.bank.LoseNextAnswers(1, loss)
				opID := e.acceptCreate(app.APIKey, "the answer to this one is lost")
				op := e.succeeded(app.APIKey, opID)
				all, tagged := bankHolds(e, app.AppID, opID)
				if tagged != 1 || all != largeScope+1 {
					t.Fatalf("the Memory Bank holds %d memories of the operation (%d in all), want 1 (%d)", tagged, all, largeScope+1)
				}
				if ids := op["memory_ids"].([]any); len(ids) != 1 {
					t.Fatalf("operation memory ids %v", ids)
				}
				assertOneTerminalAudit(t, e, opID, "succeeded")
			})
		}
	}
}

// Forgetting everything succeeds only once mem0 holds nothing more of the
// scope, whatever mem0 lets the key do: on the open-source server a per-user
// key may not delete a whole scope (403), servers before mem0's #6636 delete
// 100 per call and say they are done, and the platform deletes in the
// background. removed is the true count, and other scopes keep theirs.
func TestForgetFinishesInALargeScope(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, flavor string
		tune         func(e *env)
	}{
		{"open-source server, per-user key", "mem0-oss", func(*env) {}},
		{"open-source server, admin key, 100 per call", "mem0-oss", func(e *env) {
			e.bank.SetAPIKey("someone-else")
			e.bank.SetAdminKey("mem0-key")
			e.bank.SetDeleteAllCap(100)
		}},
		{"platform", "mem0-platform", func(*env) {}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, c.flavor)
			e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
			e.vars["CUSTOM_GPT_WORKER_LEASE"] = "10s"
			c.tune(e)
			app := e.createApp("Forget GPT")
			other := e.createApp("Neighbour GPT")
			seedBank(t, e, c.flavor, app.AppID, "custom_gpt:"+app.AppID, largeScope)
			seedBank(t, e, c.flavor, other.AppID, "custom_gpt:"+other.AppID, 10)
			e.start("serve")
			var created []string
			for i := range 5 {
				created = append(created, e.acceptCreate(app.APIKey, fmt.Sprintf("stored through the service %d", i)))
			}
			for _, op := range created {
				e.succeeded(app.APIKey, op)
			}

			opID := e.accept("DELETE", "/api/v1/memories", app.APIKey, nil)
			deadline := time.Now().Add(2 * time.Minute)
			for e.operationStatus(app.APIKey, opID) == "pending" {
				if time.Now().After(deadline) {
					t.Fatal("the forget did not finish")
				}
				time.Sleep(50 * time.Millisecond)
			}
			_, _, op := e.call("GET", "/api/v1/operations/"+opID, app.APIKey, nil)
			if op["status"] != "succeeded" || op["removed"] != float64(largeScope+5) {
				t.Fatalf("forget = %v, want succeeded with %d removed", op, largeScope+5)
			}
			if all, _ := bankHolds(e, app.AppID, ""); all != 0 {
				t.Fatalf("the Memory Bank still holds %d memories of the forgotten scope", all)
			}
			if all, _ := bankHolds(e, other.AppID, ""); all != 10 {
				t.Fatalf("the neighbour holds %d memories, want its 10", all)
			}
			if _, _, list := e.call("GET", "/api/v1/memories", app.APIKey, nil); len(list["memories"].([]any)) != 0 {
				t.Fatalf("the list after the forget: %v", list["memories"])
			}
		})
	}
}

// With inference on, an add yields no memory, one or several: the operation
// reports each, and one that stored nothing succeeds with no ids and a note,
// on both flavors (the platform's add is asynchronous: the operation stays
// pending until mem0's event ends).
func TestInferenceIsVisible(t *testing.T) {
	t.Parallel()
	for _, flavor := range []string{"mem0-oss", "mem0-platform"} {
		t.Run(flavor, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, flavor)
			e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
			e.vars["CUSTOM_GPT_MEMORY_BANK_INFER"] = "true"
			app := e.createApp("Inference GPT")
			e.start("serve")
			for _, facts := range []int{2, 0} {
				e.bank.SetInferredFacts(facts)
				op := e.succeeded(app.APIKey, e.acceptCreate(app.APIKey, fmt.Sprintf("moved to Lisbon, likes surfing (%d)", facts)))
				ids := op["memory_ids"].([]any)
				if len(ids) != facts {
					t.Fatalf("%d facts: operation %v", facts, op)
				}
				if note, _ := op["note"].(string); (facts == 0) != (note != "") {
					t.Fatalf("%d facts: note %q", facts, note)
				}
				for _, id := range ids {
					if code, _, m := e.call("GET", "/api/v1/memories/"+id.(string), app.APIKey, nil); code != http.StatusOK {
						t.Fatalf("inferred memory %v: %d %v", id, code, m)
					}
				}
			}
			_, _, list := e.call("GET", "/api/v1/memories", app.APIKey, nil)
			if n := len(list["memories"].([]any)); n != 2 {
				t.Fatalf("list holds %d memories, want the 2 inferred", n)
			}
		})
	}
}
