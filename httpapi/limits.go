package httpapi

import (
	"context"
	"fmt"
	"math"

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
	MaxComplexity int   // complexity (graph/complexity.go); first/last multiply their children
	MaxAliases    int   // aliased fields per operation, fragments counted where used, introspection included
	MaxFields     int   // selections the validator visits, checked before it runs (see validationLimits)
	MaxTokens     int   // parser tokens per document
	MaxBodyBytes  int64 // POST body size (413 beyond), and GET query string size (414 beyond)
}

// DefaultLimits are generous for this schema, whose deepest legitimate selection
// (customerQuotas → edges → node → value) is 4 levels. GraphiQL's introspection
// query makes 199 of the 300 visits the field limit allows; a query of the README about 20.
func DefaultLimits() Limits {
	return Limits{MaxDepth: 8, MaxComplexity: 10000, MaxAliases: 20, MaxFields: 300, MaxTokens: 2000, MaxBodyBytes: 64 << 10}
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
	if l.MaxFields <= 0 {
		l.MaxFields = d.MaxFields
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
// the complexity: a narrow query can still nest or fan out.
type shapeLimits struct {
	maxDepth, maxAliases, maxFields int
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
	m := shapeMeter{fragments: map[*ast.FragmentDefinition]shape{}}
	s := m.measure(opCtx.Operation.SelectionSet)
	if s.height > l.maxDepth {
		return graph.Coded(graph.CodeDepthLimit, fmt.Sprintf("the operation is %d levels deep; the limit is %d", s.height, l.maxDepth))
	}
	if s.aliases > l.maxAliases {
		return graph.Coded(graph.CodeAliasLimit, fmt.Sprintf("the operation has %d aliased fields; the limit is %d", s.aliases, l.maxAliases))
	}
	if s.introspectionAliases > maxIntrospectionAliases {
		return graph.Coded(graph.CodeAliasLimit, fmt.Sprintf("the operation has %d aliased fields in __schema or __type; the limit there is %d",
			s.introspectionAliases, maxIntrospectionAliases))
	}
	if s.introspectionFields > l.maxFields {
		return graph.Coded(graph.CodeFieldLimit, fmt.Sprintf("the operation asks for %d fields of __schema or __type, "+
			"a fragment counting each time it is spread; the limit is %d", s.introspectionFields, l.maxFields))
	}
	return nil
}

// maxIntrospectionAliases bounds aliases inside __schema and __type, where
// each one repeats a part of the schema: twenty copies of the type list cost
// some 70 ms to answer, three about 15. No client needs more than a few.
const maxIntrospectionAliases = 2

// shape is what the depth and alias limits see of a selection set.
type shape struct {
	// height is how many levels the set adds below where it is selected.
	// Inside __schema and __type nothing counts: introspection is bounded by
	// the schema and the other limits, and GraphiQL's own query nests deeper
	// than any data query here.
	height int
	// aliases counts aliased fields everywhere, introspection included, so
	// that an introspection query cannot fan out either; a fragment counts
	// each time it is spread.
	aliases int
	// introspectionAliases are those of aliases in __schema and __type, or
	// on them.
	introspectionAliases int
	// fields counts field selections, a fragment each time it is spread;
	// introspectionFields those in __schema and __type. The complexity, which
	// bounds the size of a data answer, leaves __schema out, so this is what
	// bounds an introspection answer that repeats a large fragment.
	fields, introspectionFields int
}

// shapeMeter measures each fragment once and reuses the result wherever it is
// spread: a fragment's shape does not depend on where it is spread, and
// expanding every spread would cost exponential time on fragments that each
// spread the next one twice.
type shapeMeter struct {
	fragments map[*ast.FragmentDefinition]shape
}

func (m *shapeMeter) measure(set ast.SelectionSet) shape {
	var s shape
	for _, sel := range set {
		var sub shape
		switch sel := sel.(type) {
		case *ast.Field:
			sub = m.measure(sel.SelectionSet)
			if sel.Alias != "" && sel.Alias != sel.Name {
				sub.aliases = addCapped(sub.aliases, 1)
			}
			sub.fields = addCapped(sub.fields, 1)
			if sel.Name == "__schema" || sel.Name == "__type" {
				sub.height = 0
				sub.introspectionAliases = sub.aliases
				sub.introspectionFields = sub.fields
			} else {
				sub.height++
			}
		case *ast.InlineFragment:
			sub = m.measure(sel.SelectionSet)
		case *ast.FragmentSpread:
			sub = m.fragment(sel.Definition)
		}
		s.height = max(s.height, sub.height)
		s.aliases = addCapped(s.aliases, sub.aliases)
		s.introspectionAliases = addCapped(s.introspectionAliases, sub.introspectionAliases)
		s.fields = addCapped(s.fields, sub.fields)
		s.introspectionFields = addCapped(s.introspectionFields, sub.introspectionFields)
	}
	return s
}

func (m *shapeMeter) fragment(def *ast.FragmentDefinition) shape {
	if def == nil {
		return shape{}
	}
	if s, seen := m.fragments[def]; seen {
		return s
	}
	// Validation has refused fragment cycles; were one to get here, the zero
	// shape recorded while measuring ends it.
	m.fragments[def] = shape{}
	s := m.measure(def.SelectionSet)
	m.fragments[def] = s
	return s
}

// addCapped adds two counts that fragments may multiply beyond any integer:
// the sum stops at math.MaxInt, which exceeds every limit just as well.
func addCapped(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}
