package upstream

import (
	"context"
	"fmt"
	"time"
)

// The cache layer answers a request from a page or total the same caller
// fetched less than a TTL ago: dashboards open in many tabs ask the same
// question many times a second, and each one need not reach Waldur. It is
// opt-in (UPSTREAM_CACHE_TTL) because an answer may then be that old.
//
// Isolation: the key carries the caller's digest (callerdigest.go), never the
// credential, so a page cached for one caller never answers another. Errors
// are never cached: a failure is told to the caller who met it, and the next
// one asks Waldur again.

// DefaultCacheMaxBytes bounds the cache when no bound is given.
const DefaultCacheMaxBytes = 64 << 20

// WithCache turns the cache on: pages and totals are kept for ttl, in at
// most maxBytes of memory (DefaultCacheMaxBytes when maxBytes <= 0), the
// least recently used going first. A ttl <= 0 leaves the cache off.
func WithCache(ttl time.Duration, maxBytes int) Option {
	return func(c *Client) {
		if ttl <= 0 {
			c.cache, c.cacheTTL = nil, 0
			return
		}
		if maxBytes <= 0 {
			maxBytes = DefaultCacheMaxBytes
		}
		c.cache, c.cacheTTL = newMemoryStore(maxBytes, time.Now), ttl
	}
}

type cacheBypassKey struct{}

// WithCacheBypass returns a context whose requests skip the cache: they go to
// Waldur, and what Waldur answers replaces the cached entry. A caller sends
// Cache-Control: no-cache for this; a re-plan (see Fresh) needs it as well.
func WithCacheBypass(ctx context.Context) context.Context {
	return context.WithValue(ctx, cacheBypassKey{}, true)
}

func cacheBypassed(ctx context.Context) bool {
	b, _ := ctx.Value(cacheBypassKey{}).(bool)
	return b
}

// cacheStore keeps answers for the cache layer. It decides nothing about
// what is cached; it keeps what it is given for ttl at most, within its own
// bound. It never fails: a store that can (a remote one) answers a miss and
// drops a Set, and reports its outage itself, since a cache that is down must
// cost only the calls it would have saved.
type cacheStore interface {
	Get(ctx context.Context, key string) (Page, bool)
	Set(ctx context.Context, key string, page Page, ttl time.Duration)
}

// cacheLayer is the pipeline's cache, nil when the cache is off. It sits
// above the circuit breaker: an answer it holds does not need Waldur, even
// while the circuit is open.
func (c *Client) cacheLayer() Layer {
	if c.cache == nil {
		return nil
	}
	store, ttl := c.cache, c.cacheTTL
	return func(next Caller) Caller {
		return CallerFunc(func(ctx context.Context, req Request) (Page, error) {
			key := cacheKey(c.callerDigest(ctx), req)
			if !cacheBypassed(ctx) {
				page, ok := store.Get(ctx, key)
				c.observeCache(ctx, ok)
				if ok {
					noteCachedAnswer(ctx, fetchedAt(store, ctx, key, ttl))
					return page, nil
				}
			}
			page, err := next.Call(ctx, req)
			if err == nil {
				store.Set(ctx, key, page, ttl)
			}
			return page, err
		})
	}
}

// cacheKey names a request of one caller. The quota name and the ordering
// are quoted, so that no value can pass for another field's.
func cacheKey(callerDigest string, req Request) string {
	return fmt.Sprintf("%s %s %q %q %d %d", callerDigest, req.Method, req.QuotaName, req.Ordering, req.Page, req.PageSize)
}

// agedStore is a cacheStore that can tell when an entry expires.
type agedStore interface {
	Expires(ctx context.Context, key string) (time.Time, bool)
}

// fetchedAt is when the page under key was fetched (set with ttl), zero when
// the store cannot tell (see AnswerAge).
func fetchedAt(store cacheStore, ctx context.Context, key string, ttl time.Duration) time.Time {
	aged, ok := store.(agedStore)
	if !ok {
		return time.Time{}
	}
	expires, ok := aged.Expires(ctx, key)
	if !ok {
		return time.Time{}
	}
	return expires.Add(-ttl)
}
