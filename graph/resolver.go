package graph

import "github.com/waldur-quotas/gateway/upstream"

// This file will not be regenerated automatically.

// Resolver holds what the resolvers share: the Waldur client. It holds no
// per-caller state; the caller's credentials travel in the request context.
type Resolver struct {
	Waldur *upstream.Client
}
