package postgres_test

import (
	"context"
	"slices"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

// A search ranks only the newest matches of a scope: an older memory that
// would rank first is left out once newer ones fill the candidates, and is
// found when the bound reaches it.
func TestEmbeddedSearchRanksTheNewestMatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewPool(t)
	bank := postgres.NewEmbeddedMemoryBank(pool)
	scope := embeddedScope(t, "app-1", "")
	var ids []string // oldest first
	for i, c := range []string{"kayak kayak kayak on the lake", "a kayak trip", "a kayak for two", "tea at night"} {
		d, err := memory.NewDraft(c, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		added, err := bank.Add(ctx, scope, d, "op-"+string(rune('a'+i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, added.IDs[0])
	}
	limit := 10
	q, err := memory.NewQuery("kayak", &limit)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		candidates int
		want       []string
	}{
		{2, []string{ids[2], ids[1]}},
		{3, []string{ids[0], ids[2], ids[1]}},
	} {
		hits, err := bank.SearchRanking(ctx, scope, q, tt.candidates)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]string, len(hits))
		for i, h := range hits {
			got[i] = h.ID
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ranking the newest %d: %v, want %v", tt.candidates, got, tt.want)
		}
	}
}
