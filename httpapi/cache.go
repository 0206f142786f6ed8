package httpapi

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/vektah/gqlparser/v2/ast"
)

// boundedCache is an LRU bounded both by entries and by bytes, for the caches
// that anyone on a public endpoint can fill: the automatic persisted queries
// and the parsed documents, both keyed by query text. A count alone would let
// a thousand padded 64 KiB queries pin 64 MiB each; the byte budget keeps the
// worst case at what the budget says, evicting the least recently used first.
// hashicorp's LRU does the bookkeeping; it is not safe for concurrent use on
// its own, hence the mutex.
type boundedCache[T any] struct {
	mu       sync.Mutex
	lru      *simplelru.LRU[string, T]
	cost     func(key string, value T) int
	bytes    int // sum of the cost of the entries held
	maxBytes int
}

var (
	_ graphql.Cache[string]             = (*boundedCache[string])(nil)
	_ graphql.Cache[*ast.QueryDocument] = (*boundedCache[*ast.QueryDocument])(nil)
)

func newBoundedCache[T any](maxEntries, maxBytes int, cost func(key string, value T) int) *boundedCache[T] {
	c := &boundedCache[T]{cost: cost, maxBytes: maxBytes}
	l, err := simplelru.NewLRU(maxEntries, func(key string, value T) { c.bytes -= c.cost(key, value) })
	if err != nil {
		panic("httpapi: cache of " + err.Error()) // only for maxEntries <= 0, which callers exclude
	}
	c.lru = l
	return c
}

// queryTextCost counts a persisted query by its hash and its text.
func queryTextCost(key, value string) int { return len(key) + len(value) }

// documentCost counts a parsed document by its key, the query text: the AST
// of a document is of the same order as its text, and comments, which the
// token limit lets through, only weigh in the key.
func documentCost(key string, _ *ast.QueryDocument) int { return 2 * len(key) }

func (c *boundedCache[T]) Get(_ context.Context, key string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(key)
}

// Add keeps value unless it alone is larger than the whole budget; such an
// entry is simply not cached, and the request it came with still runs.
func (c *boundedCache[T]) Add(_ context.Context, key string, value T) {
	cost := c.cost(key, value)
	if cost > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.lru.Peek(key); ok {
		c.bytes -= c.cost(key, old)
	}
	c.lru.Add(key, value) // may evict the oldest, which the callback subtracts
	c.bytes += cost
	for c.bytes > c.maxBytes {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
	}
}

// Len and Bytes are for tests.
func (c *boundedCache[T]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func (c *boundedCache[T]) Bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}
