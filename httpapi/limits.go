package httpapi

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/waldur-quotas/gateway/graph"
)

// Limits protect a public endpoint from operations that cost far more than any
// legitimate client asks. The defaults let every query in the README through,
// and GraphiQL's introspection.
type Limits struct {
	MaxDepth      int   // selection depth, introspection subtrees excluded
	MaxComplexity int   // gqlgen complexity; first/last multiply their children
	MaxAliases    int   // aliased fields per operation, fragments counted where used, introspection included
	MaxTokens     int   // parser tokens per document
	MaxBodyBytes  int64 // POST body size (413 beyond), and GET query string size (414 beyond)
}

// DefaultLimits are generous for this schema, whose deepest legitimate selection
// (customerQuotas → edges → node → value) is 4 levels.
func DefaultLimits() Limits {
	return Limits{MaxDepth: 8, MaxComplexity: 10000, MaxAliases: 20, MaxTokens: 2000, MaxBodyBytes: 64 << 10}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxComplexity <= 0 {
		l.MaxComplexity = d.MaxComplexity
	}
	if l.MaxAliases <= 0 {
		l.MaxAliases = d.MaxAliases
	}
	if l.MaxTokens <= 0 {
		l.MaxTokens = d.MaxTokens
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	return l
}

// shapeLimits rejects operations that are too deep or carry too many aliases,
// after validation and before execution. Depth and aliases are not covered by
// gqlgen's complexity: a narrow query can still nest or fan out.
type shapeLimits struct {
	maxDepth, maxAliases int
}

var (
	_ graphql.HandlerExtension        = shapeLimits{}
	_ graphql.OperationContextMutator = shapeLimits{}
)

func (shapeLimits) ExtensionName() string                   { return "ShapeLimits" }
func (shapeLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (l shapeLimits) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil {
		return nil
	}
	var s shape
	s.measure(opCtx.Operation.SelectionSet, 1, map[string]bool{})
	if l.maxDepth > 0 && s.depth > l.maxDepth {
		return graph.Coded(graph.CodeDepthLimit, fmt.Sprintf("the operation is %d levels deep; the limit is %d", s.depth, l.maxDepth))
	}
	if l.maxAliases > 0 && s.aliases > l.maxAliases {
		return graph.Coded(graph.CodeAliasLimit, fmt.Sprintf("the operation has %d aliased fields; the limit is %d", s.aliases, l.maxAliases))
	}
	return nil
}

type shape struct {
	depth, aliases int
}

// measure walks a selection set at the given depth; depth 0 stands for inside
// __schema or __type, whose depth is not counted: introspection is bounded by
// the schema and the token limit, and GraphiQL's own query nests deeper than
// any data query here. Aliases count everywhere, so that an introspection
// query cannot fan out either. Validation has already rejected fragment
// cycles; inFragment guards anyway, per path.
func (s *shape) measure(set ast.SelectionSet, depth int, inFragment map[string]bool) {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Alias != "" && sel.Alias != sel.Name {
				s.aliases++
			}
			next := depth + 1
			if depth == 0 || sel.Name == "__schema" || sel.Name == "__type" {
				next = 0
			} else {
				s.depth = max(s.depth, depth)
			}
			s.measure(sel.SelectionSet, next, inFragment)
		case *ast.InlineFragment:
			s.measure(sel.SelectionSet, depth, inFragment)
		case *ast.FragmentSpread:
			if sel.Definition == nil || inFragment[sel.Name] {
				continue
			}
			inFragment[sel.Name] = true
			s.measure(sel.Definition.SelectionSet, depth, inFragment)
			delete(inFragment, sel.Name)
		}
	}
}
