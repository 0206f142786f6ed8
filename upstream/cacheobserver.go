package upstream

import "context"

// WithCacheObserver registers fn to be told of every lookup the cache layer
// makes (see WithCache): hit is true when the answer came from the cache.
// A request that bypasses the cache (WithCacheBypass) makes no lookup and is
// not told. fn runs on the caller's goroutine, with its context: it must
// return quickly. Observers add up.
func WithCacheObserver(fn func(ctx context.Context, hit bool)) Option {
	return func(c *Client) {
		if fn != nil {
			c.cacheObservers = append(c.cacheObservers, fn)
		}
	}
}

func (c *Client) observeCache(ctx context.Context, hit bool) {
	for _, observe := range c.cacheObservers {
		observe(ctx, hit)
	}
}
