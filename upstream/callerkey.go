package upstream

import (
	"context"
	"time"
)

// CallerDigest names the caller of ctx for a cache above this client (whole
// GraphQL answers, see httpapi): the same digest its own layers key on, an
// HMAC of the credential under the cache key secret, never the credential.
func (c *Client) CallerDigest(ctx context.Context) string { return c.callerDigest(ctx) }

// CacheTTL is how long the cache keeps an answer, 0 when it is off.
func (c *Client) CacheTTL() time.Duration { return c.cacheTTL }
