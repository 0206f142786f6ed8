// Package bytelru is an LRU bounded both by entries and by the bytes its
// entries retain, safe for concurrent use. The gateway's caches that anyone can
// fill (parsed documents, persisted queries, Waldur's pages) must cost what
// their budget says whatever is put in them: a count alone would let a few
// large entries pin far more. hashicorp's LRU keeps the order; it is not safe
// for concurrent use on its own, hence the mutex.
package bytelru

import (
	"context"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Cache holds values of type T under string keys. Its Get and Add take a
// context so that it serves as a gqlgen graphql.Cache as it is.
type Cache[T any] struct {
	mu       sync.Mutex
	lru      *simplelru.LRU[string, costed[T]]
	cost     func(key string, value T) int
	bytes    int // sum of the cost of the entries held
	maxBytes int
}

// costed is an entry with the cost it was admitted at, so that evicting it
// takes back exactly what adding it counted.
type costed[T any] struct {
	value T
	cost  int
}

// New returns a cache of at most maxEntries entries whose costs, as cost
// counts them, add up to at most maxBytes. maxEntries must be positive.
func New[T any](maxEntries, maxBytes int, cost func(key string, value T) int) *Cache[T] {
	c := &Cache[T]{cost: cost, maxBytes: maxBytes}
	l, err := simplelru.NewLRU(maxEntries, func(_ string, e costed[T]) { c.bytes -= e.cost })
	if err != nil {
		panic("bytelru: " + err.Error()) // only for maxEntries <= 0, which callers exclude
	}
	c.lru = l
	return c
}

// Get returns the value under key and makes it the most recently used.
func (c *Cache[T]) Get(_ context.Context, key string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Get(key)
	return e.value, ok
}

// Peek returns the value under key without making it recently used.
func (c *Cache[T]) Peek(key string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Peek(key)
	return e.value, ok
}

// Contains reports whether key is held, without making it recently used.
func (c *Cache[T]) Contains(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Contains(key)
}

// Add keeps value unless it alone is larger than the whole budget; such an
// entry is simply not kept. Older entries go to make room.
func (c *Cache[T]) Add(_ context.Context, key string, value T) {
	cost := c.cost(key, value)
	if cost > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.lru.Peek(key); ok {
		c.bytes -= old.cost
	}
	c.lru.Add(key, costed[T]{value, cost}) // may evict the oldest, which the callback subtracts
	c.bytes += cost
	for c.bytes > c.maxBytes {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
	}
}

// Remove drops key, if held.
func (c *Cache[T]) Remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(key)
}

// Len is the number of entries held.
func (c *Cache[T]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Bytes is what the entries held are counted at.
func (c *Cache[T]) Bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}
