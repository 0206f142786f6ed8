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

var (
	_ graphql.Cache[string]             = (*boundedCache[string])(nil)
	_ graphql.Cache[*ast.QueryDocument] = (*boundedCache[*ast.QueryDocument])(nil)
)

func newBoundedCache[T any](maxEntries, maxBytes int, cost func(key string, value T) int) *boundedCache[T] {
	c := &boundedCache[T]{cost: cost, maxBytes: maxBytes}
	l, err := simplelru.NewLRU(maxEntries, func(_ string, e costed[T]) { c.bytes -= e.cost })
	if err != nil {
		panic("httpapi: cache of " + err.Error()) // only for maxEntries <= 0, which callers exclude
	}
	c.lru = l
	return c
}

// entryOverhead is what the LRU's own bookkeeping holds per entry (its map
// slot and list element), measured at about 150 bytes.
const entryOverhead = 192

// queryTextCost counts a persisted query by its hash and its text.
func queryTextCost(key, value string) int { return entryOverhead + len(key) + len(value) }

// documentCost counts a parsed document by what it keeps on the heap: its
// text (the key, which the syntax tree shares) and its nodes. A node (a
// field with its position and its slot in the selection set, an argument, a
// value, a comment…) holds up to about 250 bytes, so a dense document weighs
// some 40 times its text, while whitespace weighs only in the text.
func documentCost(key string, doc *ast.QueryDocument) int {
	return entryOverhead + len(key) + bytesPerNode*documentNodes(doc)
}

// bytesPerNode is the most a syntax-tree node was measured to retain, with
// a tenth to spare (TestDocumentCachesStayWithinTheirBudgets checks it).
const bytesPerNode = 280

func (c *boundedCache[T]) Get(_ context.Context, key string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Get(key)
	return e.value, ok
}

// Contains reports whether key is held, without making it recently used.
func (c *boundedCache[T]) Contains(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Contains(key)
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
