package events

import "testing"

// The CloudEvent type table names no event missing from the list, so the
// AsyncAPI document has a channel for every type a webhook can send.
func TestCloudEventTypesAreListed(t *testing.T) {
	listed := map[string]bool{}
	for _, p := range eventPayloads {
		listed[Name(p)] = true
	}
	for name := range cloudEventTypes {
		if !listed[name] {
			t.Errorf("%s has a CloudEvent type but is not in eventPayloads", name)
		}
	}
	if len(listed) != len(eventPayloads) {
		t.Errorf("eventPayloads lists an event twice")
	}
}
