package service

import "time"

// Webhooks tunes per-application webhooks.
type Webhooks struct {
	// AllowPrivate lets webhooks reach loopback, private and other
	// non-public addresses, and use plain http: for local use and tests only.
	AllowPrivate bool
	Timeout      time.Duration // per attempt
	PollInterval time.Duration // how often an idle dispatcher looks for due deliveries
	Concurrency  int           // parallel sends per worker process
	// CacheTTL is how long a worker remembers an application's webhook, or
	// that it has none (command.CacheEndpoints): the bound on how late a
	// webhook set or removed reaches its events; 0: off.
	CacheTTL time.Duration
}

func loadWebhooks(p *parser) Webhooks {
	w := Webhooks{
		AllowPrivate: p.boolean("CUSTOM_GPT_WEBHOOK_ALLOW_PRIVATE", false),
		Timeout:      p.duration("CUSTOM_GPT_WEBHOOK_TIMEOUT", 10*time.Second),
		PollInterval: p.duration("CUSTOM_GPT_WEBHOOK_POLL_INTERVAL", time.Second),
		Concurrency:  p.integer("CUSTOM_GPT_WEBHOOK_CONCURRENCY", 4, 1, 256),
		CacheTTL:     p.durationUpTo("CUSTOM_GPT_WEBHOOK_CACHE_TTL", time.Second, 10*time.Second),
	}
	if w.Timeout > 60*time.Second {
		p.fail("CUSTOM_GPT_WEBHOOK_TIMEOUT", "must be at most 60s")
	}
	return w
}
