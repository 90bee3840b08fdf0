package main

import (
	"net/http"
	"testing"
)

// One application never sees another's memories, operations or audit entries,
// whatever its request says.
func TestApplicationsAreIsolated(t *testing.T) {
	t.Parallel()
	for _, flavor := range []string{"mem0-platform", "embedded"} {
		t.Run(flavor, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, flavor)
			e.vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
			a, b := e.createApp("GPT A"), e.createApp("GPT B")
			e.start("serve")

			code, _, body := e.call("POST", "/api/v1/memories", a.APIKey, map[string]any{"content": "secret launch codes are in the blue folder"})
			if code != http.StatusAccepted {
				t.Fatalf("create: %d %v", code, body)
			}
			opID := body["operation_id"].(string)
			e.eventually("A's memory is stored", func() bool { return e.operationStatus(a.APIKey, opID) == "succeeded" })

			code, _, body = e.call("POST", "/api/v1/search", b.APIKey, map[string]any{"query": "secret launch codes blue folder"})
			if code != http.StatusOK || len(body["results"].([]any)) != 0 {
				t.Fatalf("B's search found A's memory: %d %v", code, body)
			}
			code, _, body = e.call("POST", "/api/v1/search", a.APIKey, map[string]any{"query": "secret launch codes blue folder"})
			if code != http.StatusOK || len(body["results"].([]any)) != 1 {
				t.Fatalf("A's own search: %d %v", code, body)
			}
			if code, _, _ := e.call("GET", "/api/v1/operations/"+opID, b.APIKey, nil); code != http.StatusNotFound {
				t.Fatalf("B read A's operation: %d", code)
			}
			_, _, audit := e.call("GET", "/admin/v1/audit?app_id="+b.AppID, adminToken, nil)
			for _, x := range audit["entries"].([]any) {
				if x.(map[string]any)["app_id"] != b.AppID {
					t.Fatalf("B's audit shows %v", x)
				}
			}
		})
	}
}
