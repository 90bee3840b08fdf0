package messaging

import (
	"slices"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// Webhooks carry every write outcome, each with its CloudEvent type, and no read.
func TestWebhookEventsAreTheWriteOutcomes(t *testing.T) {
	t.Parallel()
	for _, name := range WebhookEvents {
		if _, ok := events.CloudEventType(name); !ok {
			t.Errorf("%s has no CloudEvent type", name)
		}
	}
	if len(WebhookEvents) != 8 {
		t.Errorf("%d webhook events, want the 8 write outcomes", len(WebhookEvents))
	}
	for _, read := range []any{events.MemoriesSearched{}, events.MemoriesListed{}, events.MemoryRead{}, events.MemoryHistoryRead{}} {
		if slices.Contains(WebhookEvents, events.Name(read)) {
			t.Errorf("the read event %s is sent to webhooks", events.Name(read))
		}
	}
}
