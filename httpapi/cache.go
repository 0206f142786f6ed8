package httpapi

import (
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/waldur-quotas/gateway/internal/bytelru"
)

// boundedCache is the byte-bounded LRU of the caches that anyone on a public
// endpoint can fill: the automatic persisted queries and the parsed
// documents, both keyed by query text. A count alone would let a thousand
// padded 64 KiB queries pin 64 MiB each; the byte budget keeps the worst case
// at what the budget says.
type boundedCache[T any] = bytelru.Cache[T]

var (
	_ graphql.Cache[string]             = (*boundedCache[string])(nil)
	_ graphql.Cache[*ast.QueryDocument] = (*boundedCache[*ast.QueryDocument])(nil)
)

func newBoundedCache[T any](maxEntries, maxBytes int, cost func(key string, value T) int) *boundedCache[T] {
	return bytelru.New(maxEntries, maxBytes, cost)
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
