package query

import (
	"context"
	"crypto/sha256"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// MaxCachedCredentials bounds the credential cache: the least recently used
// go first, so a flood of distinct credentials costs memory up to here only.
const MaxCachedCredentials = 10_000

// CacheCredentials remembers, for ttl, who a credential that was accepted
// acts for, so the hot paths skip the lookups of Authenticate (the key's
// application; the token's revocation and application). The price is the
// bound: a key rotated or an application disabled, a token or grant revoked,
// a user disabled, is still honoured for up to ttl by each instance that saw
// it just before. A refused credential is never remembered, nor an accepted
// one past its own expiry. ttl 0 returns h as it is.
func CacheCredentials(h AuthenticateHandler, ttl time.Duration, now func() time.Time) AuthenticateHandler {
	if ttl <= 0 {
		return h
	}
	cache, err := lru.New[[sha256.Size]byte, cachedCaller](MaxCachedCredentials)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return credentialCache{next: h, ttl: ttl, now: now, cache: cache}
}

type credentialCache struct {
	next  AuthenticateHandler
	ttl   time.Duration
	now   func() time.Time
	cache *lru.Cache[[sha256.Size]byte, cachedCaller]
}

type cachedCaller struct {
	caller  Caller
	expires time.Time
}

func (c credentialCache) Handle(ctx context.Context, q Authenticate) (Caller, error) {
	// The credential itself is not kept, only its hash with what it was for.
	key := sha256.Sum256([]byte(q.Credential + "\x00" + q.Audience + "\x00" + q.AppID))
	now := c.now()
	if hit, ok := c.cache.Get(key); ok && now.Before(hit.expires) {
		return hit.caller, nil
	}
	caller, err := c.next.Handle(ctx, q)
	if err != nil {
		c.cache.Remove(key)
		return caller, err
	}
	expires := now.Add(c.ttl)
	if !caller.Expires.IsZero() && caller.Expires.Before(expires) {
		expires = caller.Expires
	}
	c.cache.Add(key, cachedCaller{caller: caller, expires: expires})
	return caller, nil
}
