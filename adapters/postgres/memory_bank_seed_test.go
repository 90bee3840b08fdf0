package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// seedVocabulary is what seeded memories are made of, most frequent first: a
// memory draws its words with a strong skew towards the front, so the first
// words are in most memories and the last in few, as in real notes.
var seedVocabulary = []string{
	"coffee", "morning", "work", "family", "weekend", "prefers", "likes", "meeting",
	"daughter", "project", "dinner", "travel", "office", "running", "book", "music",
	"friend", "birthday", "garden", "kitchen", "doctor", "school", "team", "manager",
	"holiday", "train", "flight", "hotel", "restaurant", "vegetarian", "allergic", "peanuts",
	"tea", "evening", "gym", "yoga", "bicycle", "car", "apartment", "neighbour",
	"sister", "brother", "mother", "father", "son", "wife", "husband", "cat",
	"dog", "piano", "guitar", "painting", "photography", "camera", "laptop", "phone",
	"email", "calendar", "deadline", "report", "presentation", "budget", "invoice", "client",
	"customer", "contract", "salary", "bank", "mortgage", "insurance", "tax", "lawyer",
	"dentist", "pharmacy", "medicine", "headache", "sleep", "diet", "sugar", "salad",
	"pasta", "pizza", "sushi", "curry", "chocolate", "wine", "beer", "juice",
	"breakfast", "lunch", "snack", "recipe", "oven", "bakery", "market", "supermarket",
	"shopping", "shoes", "jacket", "umbrella", "rain", "snow", "summer", "winter",
	"spring", "autumn", "beach", "mountain", "lake", "forest", "river", "island",
	"museum", "theatre", "cinema", "concert", "festival", "wedding", "anniversary", "party",
	"gift", "card", "letter", "package", "delivery", "passport", "visa", "embassy",
	"language", "spanish", "french", "german", "italian", "japanese", "lesson", "teacher",
	"university", "degree", "exam", "thesis", "research", "conference", "paper", "journal",
	"podcast", "newspaper", "novel", "poetry", "history", "science", "chemistry", "physics",
	"mathematics", "programming", "database", "server", "backup", "password", "router", "printer",
	"plumber", "electrician", "roof", "window", "door", "garage", "basement", "attic",
	"furniture", "sofa", "mattress", "pillow", "blanket", "lamp", "mirror", "carpet",
	"tomato", "cucumber", "strawberry", "blueberry", "mango", "pineapple", "avocado", "almond",
	"hiking", "climbing", "swimming", "tennis", "football", "basketball", "chess", "sailing",
	"kayak", "canoe", "glacier", "volcano", "desert", "canyon", "waterfall", "lighthouse",
}

// seedWordSkew is the exponent of the draw: a word's index is
// floor(len * random()^skew), so with 200 words the first is in nearly every
// memory and each of the last in well under one percent of them.
const seedWordSkew = 4

// Seeded memories are built set-wise: each gets 6 to 12 skewed words and a
// code number (a rare token: a query for one matches a handful), and is one
// second older than the one before. The registry holds the same memories,
// as the worker would have registered them.
const (
	seedEmbedded = `INSERT INTO custom_gpt_embedded_memories (id, agent_id, user_id, content, metadata, created_at, updated_at)
		SELECT gen_random_uuid(), $1, $2,
		       'User ' || (SELECT string_agg(($3::text[])[1 + floor(power(random(), $4) * cardinality($3::text[]))::int], ' ')
		                   FROM generate_series(1, 6 + i % 7)) || ' code ' || (i * 7919 % 50021),
		       jsonb_build_object('source', 'custom-gpt', 'app_id', $5::text, 'operation_id', 'op-' || i),
		       t, t
		FROM generate_series(1, $6::int) AS i, LATERAL (SELECT now() - i * interval '1 second' AS t) AS at`

	seedRegistry = `INSERT INTO custom_gpt_memories (memory_id, app_id, end_user, operation_id, seq, written_seq, created_at)
		SELECT id::text, $3, $4, metadata ->> 'operation_id', n, n, created_at
		FROM (SELECT id, metadata, created_at, row_number() OVER (ORDER BY created_at) AS n
		      FROM custom_gpt_embedded_memories WHERE agent_id = $1 AND user_id = $2) AS m`
)

// seedScope fills scope with n memories in the bank and in the registry, then
// vacuums and analyzes both tables, as autovacuum would have by then: how a
// search reads its matches depends on the statistics of the words.
func seedScope(tb testing.TB, pool *pgxpool.Pool, scope memory.Scope, n int) {
	tb.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// The same memories on every run: random() follows the session's seed.
		if _, err := tx.Exec(ctx, `SELECT setseed(0.13)`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, seedEmbedded, scope.AgentID(), scope.UserID(), seedVocabulary, seedWordSkew, scope.AppID(), n); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, seedRegistry, scope.AgentID(), scope.UserID(), scope.AppID(), scope.EndUser())
		return err
	})
	if err != nil {
		tb.Fatalf("seed %d memories: %v", n, err)
	}
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) custom_gpt_embedded_memories, custom_gpt_memories`); err != nil {
		tb.Fatalf("vacuum the seeded tables: %v", err)
	}
}
