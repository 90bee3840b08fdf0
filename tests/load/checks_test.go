package main

import "testing"

// TestCheckSearchWantsTheScopesOwnMemories: an answer from another scope
// fails, in mem0's shape and in the adapter's; so an end user's row cannot
// pass by reading the application's scope.
func TestCheckSearchWantsTheScopesOwnMemories(t *testing.T) {
	user := scope{about: endUsersMemory}
	app := scope{about: "memory"}
	for _, tc := range []struct {
		name string
		in   scope
		body string
		ok   bool
	}{
		{"adapter, own scope", user, `{"results":[{"content":"end user's memory 3 about travel"}]}`, true},
		{"adapter, the application's", user, `{"results":[{"content":"memory 3 about travel"}]}`, false},
		{"adapter, an end user's", app, `{"results":[{"content":"end user's memory 3 about travel"}]}`, false},
		{"mem0, own scope", app, `{"results":[{"memory":"memory 3 about travel"}]}`, true},
		{"mem0, one of two elsewhere", app, `{"results":[{"memory":"memory 3"},{"memory":"end user's memory 3"}]}`, false},
		{"empty in a seeded scope", app, `{"results":[]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checkSearch(true, tc.in)(200, []byte(tc.body))
			if (err == nil) != tc.ok {
				t.Errorf("checkSearch: %v, want ok %v", err, tc.ok)
			}
		})
	}
}
