package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// largeScope is more memories than mem0 lists at once (20 by default, 1000 at
// most), so that nothing the service does can rest on a listing of the scope.
const largeScope = 2500

// bankHolds counts the memories the Memory Bank holds of user_id, and of them
// those tagged with operation op.
func bankHolds(e *harness.Deployment, userID, op string) (all, tagged int) {
	for _, m := range e.Bank.Memories() {
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
				e := harness.NewDeployment(t, flavor)
				e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
				app := e.CreateApp("Lost answer GPT")
				harness.SeedBank(t, e, flavor, app.AppID, "custom_gpt:"+app.AppID, largeScope)
				e.Start("serve")

				e.Bank.LoseNextAnswers(1, loss)
				opID := e.AcceptCreate(app.APIKey, "the answer to this one is lost")
				op := e.Succeeded(app.APIKey, opID)
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
		tune         func(e *harness.Deployment)
	}{
		{"open-source server, per-user key", "mem0-oss", func(*harness.Deployment) {}},
		{"open-source server, admin key, 100 per call", "mem0-oss", func(e *harness.Deployment) {
			e.Bank.SetAPIKey("someone-else")
			e.Bank.SetAdminKey("mem0-key")
			e.Bank.SetDeleteAllCap(100)
		}},
		{"platform", "mem0-platform", func(*harness.Deployment) {}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := harness.NewDeployment(t, c.flavor)
			e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
			e.Vars["CUSTOM_GPT_WORKER_LEASE"] = "10s"
			c.tune(e)
			app := e.CreateApp("Forget GPT")
			other := e.CreateApp("Neighbour GPT")
			harness.SeedBank(t, e, c.flavor, app.AppID, "custom_gpt:"+app.AppID, largeScope)
			harness.SeedBank(t, e, c.flavor, other.AppID, "custom_gpt:"+other.AppID, 10)
			e.Start("serve")
			var created []string
			for i := range 5 {
				created = append(created, e.AcceptCreate(app.APIKey, fmt.Sprintf("stored through the service %d", i)))
			}
			for _, op := range created {
				e.Succeeded(app.APIKey, op)
			}

			opID := e.Accept("DELETE", "/api/v1/memories", app.APIKey, nil)
			deadline := time.Now().Add(2 * time.Minute)
			for e.OperationStatus(app.APIKey, opID) == "pending" {
				if time.Now().After(deadline) {
					t.Fatal("the forget did not finish")
				}
				time.Sleep(50 * time.Millisecond)
			}
			_, _, op := e.Call("GET", "/api/v1/operations/"+opID, app.APIKey, nil)
			if op["status"] != "succeeded" || op["removed"] != float64(largeScope+5) {
				t.Fatalf("forget = %v, want succeeded with %d removed", op, largeScope+5)
			}
			if all, _ := bankHolds(e, app.AppID, ""); all != 0 {
				t.Fatalf("the Memory Bank still holds %d memories of the forgotten scope", all)
			}
			if all, _ := bankHolds(e, other.AppID, ""); all != 10 {
				t.Fatalf("the neighbour holds %d memories, want its 10", all)
			}
			if _, _, list := e.Call("GET", "/api/v1/memories", app.APIKey, nil); len(list["memories"].([]any)) != 0 {
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
			e := harness.NewDeployment(t, flavor)
			e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
			e.Vars["CUSTOM_GPT_MEMORY_BANK_INFER"] = "true"
			app := e.CreateApp("Inference GPT")
			e.Start("serve")
			for _, facts := range []int{2, 0} {
				e.Bank.SetInferredFacts(facts)
				op := e.Succeeded(app.APIKey, e.AcceptCreate(app.APIKey, fmt.Sprintf("moved to Lisbon, likes surfing (%d)", facts)))
				ids := op["memory_ids"].([]any)
				if len(ids) != facts {
					t.Fatalf("%d facts: operation %v", facts, op)
				}
				if note, _ := op["note"].(string); (facts == 0) != (note != "") {
					t.Fatalf("%d facts: note %q", facts, note)
				}
				for _, id := range ids {
					if code, _, m := e.Call("GET", "/api/v1/memories/"+id.(string), app.APIKey, nil); code != http.StatusOK {
						t.Fatalf("inferred memory %v: %d %v", id, code, m)
					}
				}
			}
			_, _, list := e.Call("GET", "/api/v1/memories", app.APIKey, nil)
			if n := len(list["memories"].([]any)); n != 2 {
				t.Fatalf("list holds %d memories, want the 2 inferred", n)
			}
		})
	}
}
