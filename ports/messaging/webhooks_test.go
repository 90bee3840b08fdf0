package messaging

import (
	"slices"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

// Webhooks carry every write outcome, each with its CloudEvent type, and no
// read: the router consumes exactly those streams, in its own group.
func TestWebhookEventsAreTheWriteOutcomes(t *testing.T) {
	t.Parallel()
	var subs []Subscription
	cfg := Config{Topics: events.Topics{Prefix: "t"}, Consumer: "c", Subscribe: func(s Subscription) (message.Subscriber, error) {
		subs = append(subs, s)
		return gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{}), nil
	}}
	router, err := NewWebhookRouter(cfg, app.Application{}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	var consumed []string
	for name := range router.Handlers() {
		consumed = append(consumed, name)
	}
	outcomes := events.Outcomes()
	if len(consumed) != 8 || len(outcomes) != 8 || len(subs) != 8 {
		t.Fatalf("%d handlers, %d subscribers for %d outcomes, want the 8 write outcomes", len(consumed), len(subs), len(outcomes))
	}
	for _, name := range outcomes {
		if !slices.Contains(consumed, scheduleWebhooksHandler+"."+name) {
			t.Errorf("%s is not sent to webhooks", name)
		}
		if _, ok := events.CloudEventType(name); !ok {
			t.Errorf("%s has no CloudEvent type", name)
		}
	}
	for _, s := range subs {
		if s.ConsumerGroup != "t."+scheduleWebhooksHandler || s.Commands {
			t.Errorf("subscription %+v", s)
		}
	}
	for _, read := range []any{events.MemoriesSearched{}, events.MemoriesListed{}, events.MemoryRead{}, events.MemoryHistoryRead{}} {
		if slices.Contains(outcomes, events.Name(read)) {
			t.Errorf("the read event %s is sent to webhooks", events.Name(read))
		}
	}
}
