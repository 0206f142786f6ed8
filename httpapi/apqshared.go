package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/waldur-quotas/gateway/upstream"
)

// sharedAPQ keeps automatic persisted queries where every replica finds them,
// so that a query a client registered through one replica answers by its
// hash on any other: behind a load balancer the next request seldom comes
// back to the same process. This process's LRU stays in front, so a hash it
// has seen costs no round trip to the store.
//
// A registration is the query text under its hash: nothing of the caller's.
type sharedAPQ struct {
	local  *boundedCache[string]
	shared upstream.SharedStore
}

var _ graphql.Cache[string] = sharedAPQ{}

// apqSharedTTL is how long a registration stays in the shared store; a client
// whose hash has expired registers it again, as the protocol provides.
const apqSharedTTL = 24 * time.Hour

// apqKeyPrefix names APQ entries in the shared store.
const apqKeyPrefix = "apq:"

func (c sharedAPQ) Get(ctx context.Context, hash string) (string, bool) {
	if q, ok := c.local.Get(ctx, hash); ok {
		return q, true
	}
	// Only a well-formed hash goes to the store: anything else is a miss
	// that need not cost a round trip, or a key as long as the body.
	if !isSHA256Hex(hash) {
		return "", false
	}
	b, ok := c.shared.Get(ctx, apqKeyPrefix+hash)
	if !ok {
		return "", false
	}
	query := string(b)
	// What the store holds is checked like a registration: the text must
	// hash to the key, or it is not this query.
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != hash {
		return "", false
	}
	c.local.Add(ctx, hash, query)
	return query, true
}

// Add is called by gqlgen for a registration whose hash it has checked.
func (c sharedAPQ) Add(ctx context.Context, hash, query string) {
	c.local.Add(ctx, hash, query)
	c.shared.Set(ctx, apqKeyPrefix+hash, []byte(query), apqSharedTTL)
}

func isSHA256Hex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// persistedQueries is the APQ cache: this process's LRU, in front of the
// shared store when there is one.
func persistedQueries(cfg Config) graphql.Cache[string] {
	local := newBoundedCache(cfg.APQCacheSize, apqCacheBytes, queryTextCost)
	if cfg.SharedStore == nil {
		return local
	}
	return sharedAPQ{local: local, shared: cfg.SharedStore}
}
