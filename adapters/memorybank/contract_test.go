package memorybank_test

import (
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/memorybank"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/banktest"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/mem0test"
)

// TestContract runs the Memory Bank contract every implementation keeps against the
// client, in both flavors, talking to the fake mem0.
func TestContract(t *testing.T) {
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			banktest.Run(t, func(t *testing.T) banktest.Bank {
				srv := mem0test.NewServer(t, flavor)
				if flavor == memorybank.FlavorOSS {
					srv.SetAdminKey(apiKey) // deleting a whole scope takes the admin key
				} else {
					srv.SetAPIKey(apiKey)
				}
				return newClient(t, srv.URL(), flavor)
			})
		})
	}
}
