package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/tests/harness"
)

// uniquePhrase is a text found nowhere but where the test put it.
func uniquePhrase(t *testing.T) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "the user's locker code is " + hex.EncodeToString(b)
}

// tracesIn lists where the database or Redis still holds phrase: every row of
// every table of the service's database (as text, and bytea as its hex), and
// every key under the deployment's prefix.
func tracesIn(t *testing.T, db *pgxpool.Pool, rdb *goredis.Client, prefix, phrase string) []string {
	t.Helper()
	ctx := context.Background()
	var found []string
	rows, err := db.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) < 10 {
		t.Fatalf("only %d tables found: %v", len(tables), tables)
	}
	hexPhrase := hex.EncodeToString([]byte(phrase))
	for _, table := range tables {
		var n int
		q := fmt.Sprintf(`SELECT count(*) FROM %s t WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0`, pgx.Identifier{table}.Sanitize())
		if err := db.QueryRow(ctx, q, phrase, hexPhrase).Scan(&n); err != nil {
			t.Fatalf("search %s: %v", table, err)
		}
		if n > 0 {
			found = append(found, fmt.Sprintf("table %s (%d rows)", table, n))
		}
	}

	keys, err := rdb.Keys(ctx, "*"+prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		var dump string
		switch typ := rdb.Type(ctx, k).Val(); typ {
		case "stream":
			entries, err := rdb.XRange(ctx, k, "-", "+").Result()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(entries)
			dump = string(b)
		case "string":
			dump = rdb.Get(ctx, k).Val()
		case "hash":
			b, _ := json.Marshal(rdb.HGetAll(ctx, k).Val())
			dump = string(b)
		default:
			b, _ := rdb.Dump(ctx, k).Bytes()
			dump = string(b)
		}
		if strings.Contains(dump, phrase) || strings.Contains(dump, hexPhrase) {
			found = append(found, "redis key "+k)
		}
	}
	return found
}

// leaveNothing polls until phrase is gone from the database and Redis: the
// dead letters are purged after the forget's event, and acknowledged commands
// are trimmed every 10 s.
func leaveNothing(t *testing.T, e *harness.Deployment, phrase string) {
	t.Helper()
	db := e.Pool()
	rdb := harness.RedisClientAt(t, e.Vars["CUSTOM_GPT_REDIS_URL"])
	deadline := time.Now().Add(45 * time.Second)
	for {
		left := tracesIn(t, db, rdb, e.Vars["CUSTOM_GPT_STREAM_PREFIX"], phrase)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the forgotten text is still in: %s", strings.Join(left, ", "))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Everything the service kept of a memory is gone once it is forgotten:
// stored with a unique phrase, corrected (history), searched with an
// Idempotency-Key (a cached answer quoting it), its correction parked in the
// dead letters, delivered to a webhook; then "forget everything". Afterwards
// no table of the database and no key of the deployment in Redis holds the
// phrase, and replaying the search's key finds nothing.
func TestForgetLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	for _, flavor := range []string{"embedded", "mem0-oss"} {
		t.Run(flavor, func(t *testing.T) {
			t.Parallel()
			e := harness.NewDeployment(t, flavor)
			e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
			e.Vars["CUSTOM_GPT_RETRY_MAX"] = "0"
			e.Vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_FAILURES"] = "1000"
			e.Vars["CUSTOM_GPT_WEBHOOK_ALLOW_PRIVATE"] = "true"
			a := e.CreateApp("Forgetful GPT")
			hooks := harness.NewHookReceiver(t, nil)
			e.SetWebhook(a.AppID, hooks.Srv.URL)
			e.Start("serve")
			phrase := uniquePhrase(t)

			m := e.Succeeded(a.APIKey, e.AcceptCreate(a.APIKey, phrase))["memory_ids"].([]any)[0].(string)
			e.Succeeded(a.APIKey, e.Accept("PATCH", "/api/v1/memories/"+m, a.APIKey, map[string]any{"content": phrase + ", or so they said"}))
			search := fmt.Sprintf(`{"query": %q}`, phrase)
			if code, _, body := e.IdemCall(a.APIKey, "POST", "/api/v1/search", "search-1", search); code != http.StatusOK || !strings.Contains(fmt.Sprint(body), phrase) {
				t.Fatalf("search: %d %v", code, body)
			}
			if flavor == "mem0-oss" {
				e.Bank.FailNext(1_000_000, http.StatusServiceUnavailable)
				parked := e.Accept("PATCH", "/api/v1/memories/"+m, a.APIKey, map[string]any{"content": phrase + " (parked)"})
				if op := e.Finished(a.APIKey, parked); op["status"] != "failed" {
					t.Fatalf("the correction meant to park ended %v", op)
				}
				e.Bank.FailNext(0, 0)
				if len(e.DlqList()) != 1 {
					t.Fatal("no dead letter")
				}
			}
			e.Eventually("the webhooks are delivered", func() bool { return len(hooks.Requests()) >= 2 })

			e.Succeeded(a.APIKey, e.Accept("DELETE", "/api/v1/memories", a.APIKey, nil))
			leaveNothing(t, e, phrase)
			if code, _, body := e.IdemCall(a.APIKey, "POST", "/api/v1/search", "search-1", search); code != http.StatusOK || strings.Contains(fmt.Sprint(body), phrase) {
				t.Fatalf("the search key replayed after the forget: %d %v", code, body)
			}
		})
	}
}

// Deleting one memory leaves nothing of it either, and keeps the others.
func TestDeleteLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	e := harness.NewDeployment(t, "mem0-oss")
	e.Vars["CUSTOM_GPT_AUTO_MIGRATE"] = "true"
	e.Vars["CUSTOM_GPT_RETRY_MAX"] = "0"
	e.Vars["CUSTOM_GPT_MEMORY_BANK_BREAKER_FAILURES"] = "1000"
	a := e.CreateApp("Tidy GPT")
	e.Start("serve")
	phrase, kept := uniquePhrase(t), uniquePhrase(t)

	m := e.Succeeded(a.APIKey, e.AcceptCreate(a.APIKey, phrase))["memory_ids"].([]any)[0].(string)
	e.Succeeded(a.APIKey, e.AcceptCreate(a.APIKey, kept))
	if code, _, _ := e.IdemCall(a.APIKey, "POST", "/api/v1/search", "search-1", fmt.Sprintf(`{"query": %q}`, phrase)); code != http.StatusOK {
		t.Fatalf("search: %d", code)
	}
	e.Bank.FailNext(1_000_000, http.StatusServiceUnavailable)
	e.Finished(a.APIKey, e.Accept("PATCH", "/api/v1/memories/"+m, a.APIKey, map[string]any{"content": phrase + " (parked)"}))
	e.Bank.FailNext(0, 0)

	e.Succeeded(a.APIKey, e.Accept("DELETE", "/api/v1/memories/"+m, a.APIKey, nil))
	leaveNothing(t, e, phrase)
	if code, _, body := e.Call("POST", "/api/v1/search", a.APIKey, map[string]any{"query": kept}); code != http.StatusOK || !strings.Contains(fmt.Sprint(body), kept) {
		t.Fatalf("the other memory: %d %v", code, body)
	}
}
