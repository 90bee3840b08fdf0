package e2e

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// One application never sees another's memories, operations or audit entries,
// whatever its request says.
func TestApplicationsAreIsolated(t *testing.T) {
	t.Parallel()
	for _, flavor := range []string{"mem0-platform", "embedded"} {
		t.Run(flavor, func(t *testing.T) {
			t.Parallel()
			e := harness.NewDeployment(t, flavor)
			e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
			a, b := e.CreateApp("GPT A"), e.CreateApp("GPT B")
			e.Start("serve")

			code, _, body := e.Call("POST", "/api/v1/memories", a.APIKey, map[string]any{"content": "secret launch codes are in the blue folder"})
			if code != http.StatusAccepted {
				t.Fatalf("create: %d %v", code, body)
			}
			opID := body["operation_id"].(string)
			e.Eventually("A's memory is stored", func() bool { return e.OperationStatus(a.APIKey, opID) == "succeeded" })

			search := map[string]any{"query": "secret launch codes blue folder"}
			code, _, body = e.CallWithRequestID("POST", "/api/v1/search", b.APIKey, "search-by-b", search)
			if code != http.StatusOK || len(body["results"].([]any)) != 0 {
				t.Fatalf("B's search found A's memory: %d %v", code, body)
			}
			code, _, body = e.CallWithRequestID("POST", "/api/v1/search", a.APIKey, "search-by-a", search)
			if code != http.StatusOK || len(body["results"].([]any)) != 1 {
				t.Fatalf("A's own search: %d %v", code, body)
			}
			if code, _, _ := e.Call("GET", "/api/v1/operations/"+opID, b.APIKey, nil); code != http.StatusNotFound {
				t.Fatalf("B read A's operation: %d", code)
			}

			// Each one's audit holds what it did, and nothing the other did.
			audit := func(app harness.AppCreds) map[string]bool {
				code, _, page := e.Call("GET", "/admin/v1/audit?app_id="+app.AppID, harness.AdminToken, nil)
				if code != http.StatusOK || page["next_cursor"] != nil {
					t.Fatalf("audit of %s: %d %v", app.AppID, code, page)
				}
				seen := map[string]bool{}
				for _, x := range page["entries"].([]any) {
					m := x.(map[string]any)
					if m["app_id"] != app.AppID {
						t.Fatalf("the audit of %s shows %v", app.AppID, m)
					}
					seen[fmt.Sprint(m["correlation_id"])], seen[fmt.Sprint(m["operation_id"])] = true, true
				}
				return seen
			}
			ofA, ofB := audit(a), audit(b)
			if !ofA[opID] || !ofA["search-by-a"] || ofA["search-by-b"] {
				t.Fatalf("A's audit: %v, want its create %s and its search only", ofA, opID)
			}
			if !ofB["search-by-b"] || ofB[opID] || ofB["search-by-a"] {
				t.Fatalf("B's audit: %v, want its search only", ofB)
			}
		})
	}
}
