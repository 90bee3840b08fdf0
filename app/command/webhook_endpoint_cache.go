package command

import (
	"context"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/webhook"
)

// MaxCachedEndpoints bounds the webhook endpoint cache: the least recently
// used applications go first.
const MaxCachedEndpoints = 10_000

// CacheEndpoints remembers, for ttl, each application's webhook endpoint, or
// that it has none, so that scheduling the webhook of every completion event
// skips a query (and the secrets' unsealing) for applications it saw just
// before. The price is the bound: a webhook set where there was none (or
// removed and set again) reaches the events of each worker up to ttl later.
// A disabled or removed one stops at once: the store adds no delivery to an
// endpoint that is no longer active, whatever copy the caller holds. Only
// Endpoint is cached; errors other than not-found are not. ttl 0 returns
// repo as it is.
func CacheEndpoints(repo webhook.Repository, ttl time.Duration, now func() time.Time) webhook.Repository {
	if ttl <= 0 {
		return repo
	}
	cache, err := lru.New[string, cachedEndpoint](MaxCachedEndpoints)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return endpointCache{Repository: repo, ttl: ttl, now: now, cache: cache}
}

type endpointCache struct {
	webhook.Repository
	ttl   time.Duration
	now   func() time.Time
	cache *lru.Cache[string, cachedEndpoint]
}

type cachedEndpoint struct {
	endpoint *webhook.Endpoint
	missing  error // the not-found error of an application without one
	expires  time.Time
}

// Endpoint answers from the cache while the entry is fresh. A cached
// endpoint is shared by its callers, who only read it.
func (c endpointCache) Endpoint(ctx context.Context, appID string) (*webhook.Endpoint, error) {
	now := c.now()
	if hit, ok := c.cache.Get(appID); ok && now.Before(hit.expires) {
		return hit.endpoint, hit.missing
	}
	e, err := c.Repository.Endpoint(ctx, appID)
	switch {
	case isNotFound(err):
		c.cache.Add(appID, cachedEndpoint{missing: err, expires: now.Add(c.ttl)})
	case err != nil:
		c.cache.Remove(appID)
	default:
		c.cache.Add(appID, cachedEndpoint{endpoint: e, expires: now.Add(c.ttl)})
	}
	return e, err
}

// SaveEndpoint and RemoveEndpoint forget the application's entry, so that
// this process sees its own changes at once.
func (c endpointCache) SaveEndpoint(ctx context.Context, appID string, fn func(*webhook.Endpoint) (*webhook.Endpoint, error)) error {
	defer c.cache.Remove(appID)
	return c.Repository.SaveEndpoint(ctx, appID, fn)
}

func (c endpointCache) RemoveEndpoint(ctx context.Context, appID string) error {
	defer c.cache.Remove(appID)
	return c.Repository.RemoveEndpoint(ctx, appID)
}
