package command_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/command"
)

// A forget removes every dead letter of its scope, a delete those of its one
// memory; other scopes' and other memories' stay.
func TestPurgeForgotten_removesTheScopesOrTheMemorysDeadLetters(t *testing.T) {
	t.Parallel()
	all := map[string]command.DeadLetter{
		"1-0": {ID: "1-0", AppID: "app-1", EndUser: "alice", Command: "CreateMemory"},
		"2-0": {ID: "2-0", AppID: "app-1", EndUser: "alice", MemoryID: "m-1", Command: "UpdateMemory"},
		"3-0": {ID: "3-0", AppID: "app-1", EndUser: "alice", MemoryID: "m-2", Command: "UpdateMemory"},
		"4-0": {ID: "4-0", AppID: "app-1", EndUser: "bob", Command: "CreateMemory"},
		"5-0": {ID: "5-0", AppID: "app-2", EndUser: "alice", Command: "CreateMemory"},
		"6-0": {ID: "6-0", AppID: "app-1", Command: "CreateMemory"},
	}
	left := func(c command.PurgeForgotten) []string {
		t.Helper()
		letters := &fakeLetters{letters: maps.Clone(all)}
		if err := command.NewPurgeForgottenHandler(letters, nil, nil).Handle(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		return slices.Sorted(maps.Keys(letters.letters))
	}
	if got := left(command.PurgeForgotten{AppID: "app-1", EndUser: "alice"}); !slices.Equal(got, []string{"4-0", "5-0", "6-0"}) {
		t.Errorf("after alice's forget: %v", got)
	}
	if got := left(command.PurgeForgotten{AppID: "app-1", EndUser: "alice", MemoryID: "m-1"}); !slices.Equal(got, []string{"1-0", "3-0", "4-0", "5-0", "6-0"}) {
		t.Errorf("after deleting m-1: %v", got)
	}
	if got := left(command.PurgeForgotten{AppID: "app-1"}); !slices.Equal(got, []string{"1-0", "2-0", "3-0", "4-0", "5-0"}) {
		t.Errorf("after the API key's forget: %v", got)
	}
}
