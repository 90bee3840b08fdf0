package postgres_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/adapters/postgres"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/internal/pgtest"
)

// deepPage is the page issue 13 wants listed as cheaply as the first.
const deepPage = 1000

// benchQueries are searches of a GPT whose words are in most memories (97 %),
// in some (10 %) and in few (2 %); see seedVocabulary.
var benchQueries = []struct{ name, text string }{
	{"many", "what does she drink with her coffee in the morning before work"},
	{"some", "hotel and restaurant recommendations"},
	{"few", "kayak trip to the lighthouse 4711"},
}

// matchCount counts the memories a search's words match, as Search reads them.
const matchCount = `SELECT count(*) FROM custom_gpt_embedded_memories WHERE document @@ custom_gpt_any_word($1)`

// BenchmarkEmbeddedMemoryBank measures issue 13's targets for the embedded
// bank in one scope of 1,000, 10,000 and 100,000 memories: search (limit 10)
// and the list endpoint's reads (registry page, then the bank's GetMany) on
// the first page and on page 1,000, or the last at smaller sizes. Each size is
// seeded once per run, outside the timer; -short leaves out 100,000.
func BenchmarkEmbeddedMemoryBank(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("memories=%d", n), func(b *testing.B) {
			if n > 10_000 && testing.Short() {
				b.Skip("-short: seeding 100,000 memories takes a while")
			}
			pool, _ := pgtest.NewPool(b)
			bank, registry := postgres.NewEmbeddedMemoryBank(pool), postgres.NewMemoryRegistry(pool)
			scope, err := memory.NewScope("bench-app", "")
			if err != nil {
				b.Fatal(err)
			}
			seedScope(b, pool, scope, n)
			ctx := context.Background()

			for _, bq := range benchQueries {
				b.Run("search/"+bq.name, func(b *testing.B) {
					limit := 10
					q, err := memory.NewQuery(bq.text, &limit)
					if err != nil {
						b.Fatal(err)
					}
					var matched int
					if err := pool.QueryRow(ctx, matchCount, q.Text).Scan(&matched); err != nil {
						b.Fatal(err)
					}
					measure(b, func() error {
						hits, err := bank.Search(ctx, scope, q)
						if err == nil && len(hits) != min(10, matched) {
							err = fmt.Errorf("%d hits of %d matches", len(hits), matched)
						}
						return err
					})
					b.ReportMetric(float64(matched), "matches")
				})
			}

			pages := min(deepPage, (n+memory.DefaultListLimit-1)/memory.DefaultListLimit)
			deep := cursorOfPage(b, registry, scope, pages)
			for _, p := range []struct {
				page   int
				cursor string
			}{{1, ""}, {pages, deep}} {
				b.Run(fmt.Sprintf("list/page=%d", p.page), func(b *testing.B) {
					measure(b, func() error {
						entries, _, err := registry.Page(ctx, scope, memory.Page{Cursor: p.cursor})
						if err != nil {
							return err
						}
						ids := make([]string, len(entries))
						for i, e := range entries {
							ids[i] = e.ID
						}
						records, err := bank.GetMany(ctx, scope, ids)
						if err == nil && len(records) != memory.DefaultListLimit {
							err = fmt.Errorf("page %d holds %d memories", p.page, len(records))
						}
						return err
					})
				})
			}
		})
	}
}

// cursorOfPage walks the registry to page (1-based) at the default page size,
// as a client paging through would, and returns the cursor that reads it.
func cursorOfPage(b *testing.B, registry *postgres.MemoryRegistry, scope memory.Scope, page int) string {
	b.Helper()
	cursor := ""
	for i := 1; i < page; i++ {
		_, next, err := registry.Page(context.Background(), scope, memory.Page{Cursor: cursor})
		if err != nil || next == "" {
			b.Fatalf("page %d: next %q, %v", i, next, err)
		}
		cursor = next
	}
	return cursor
}

// measure times each call of op and reports the median and the 99th
// percentile (nearest rank) beside ns/op: a p99 target needs the tail, which
// the mean hides.
func measure(b *testing.B, op func() error) {
	b.Helper()
	var took []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
	}
	slices.Sort(took)
	rank := func(p float64) float64 {
		return float64(took[max(0, int(math.Ceil(p*float64(len(took))))-1)].Microseconds()) / 1000
	}
	b.ReportMetric(rank(0.50), "p50-ms")
	b.ReportMetric(rank(0.99), "p99-ms")
}
