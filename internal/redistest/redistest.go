// Package redistest gives each test its own stream prefix on the machine's real
// Redis, and removes the test's streams when it ends.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// URL is the Redis tests use; override with CUSTOM_GPT_TEST_REDIS_URL.
func URL() string {
	if u := os.Getenv("CUSTOM_GPT_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Client returns a client closed at cleanup.
func Client(t testing.TB) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(URL())
	if err != nil {
		t.Fatalf("parse test redis url: %v", err)
	}
	c := goredis.NewClient(opts)
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("test redis unreachable (is it running?): %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Prefix returns a fresh stream prefix; every key under it is deleted at cleanup.
func Prefix(t testing.TB) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "custom_gpt_test_" + hex.EncodeToString(b[:])
	c := Client(t)
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return prefix
}
