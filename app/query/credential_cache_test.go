package query_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
)

// countingAuth answers from a table and counts the lookups it made.
type countingAuth struct {
	mu      sync.Mutex
	callers map[string]query.Caller
	calls   int
}

func (a *countingAuth) Handle(_ context.Context, q query.Authenticate) (query.Caller, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	c, ok := a.callers[q.Credential]
	if !ok {
		return query.Caller{}, errors.New("refused")
	}
	return c, nil
}

func (a *countingAuth) set(credential string, c *query.Caller) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c == nil {
		delete(a.callers, credential)
		return
	}
	a.callers[credential] = *c
}

// An accepted credential is looked up once per TTL, never past its own
// expiry; a refusal is never remembered; audiences do not share entries.
func TestCacheCredentials(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	inner := &countingAuth{callers: map[string]query.Caller{
		"key": {AppID: "app-1"},
	}}
	h := query.CacheCredentials(inner, time.Second, clock)
	ctx := context.Background()
	ask := func(credential, audience string) error {
		_, err := h.Handle(ctx, query.Authenticate{Credential: credential, Audience: audience})
		return err
	}

	for range 3 {
		if err := ask("key", ""); err != nil {
			t.Fatal(err)
		}
	}
	if inner.calls != 1 {
		t.Fatalf("three uses within the TTL made %d lookups, want 1", inner.calls)
	}
	inner.set("key", nil) // revoked: still honoured until the TTL ends
	now = now.Add(999 * time.Millisecond)
	if err := ask("key", ""); err != nil {
		t.Fatalf("a revoked key within the TTL: %v", err)
	}
	now = now.Add(time.Millisecond)
	if err := ask("key", ""); err == nil {
		t.Fatal("a revoked key past the TTL was accepted")
	}
	if err := ask("key", ""); err == nil || inner.calls != 3 {
		t.Fatalf("a refusal was remembered: %v, %d lookups", err, inner.calls)
	}

	// A token is not remembered past its own expiry.
	inner.set("token", &query.Caller{AppID: "app-1", EndUser: "u", Expires: now.Add(300 * time.Millisecond)})
	start := inner.calls
	_ = ask("token", "https://x/mcp/app-1")
	_ = ask("token", "https://x/mcp/app-1")
	_ = ask("token", "") // another audience: its own lookup
	if inner.calls != start+2 {
		t.Fatalf("lookups for a token at two audiences: %d, want 2", inner.calls-start)
	}
	now = now.Add(300 * time.Millisecond)
	_ = ask("token", "https://x/mcp/app-1")
	if inner.calls != start+3 {
		t.Fatal("a token was served from the cache past its expiry")
	}

	if query.CacheCredentials(inner, 0, clock) != query.AuthenticateHandler(inner) {
		t.Error("a TTL of 0 should leave the handler as it is")
	}
}
