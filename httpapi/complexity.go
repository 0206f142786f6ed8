package httpapi

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/waldur-quotas/gateway/graph"
)

// complexityLimit refuses operations whose complexity exceeds max, after
// validation and before execution. It computes gqlgen's complexity model
// (each field 1 plus its children, or what graph/complexity.go says; __schema
// free) but measures each fragment once: gqlgen's own calculation expands
// every spread, which takes exponential time on fragments that each spread the
// next one twice.
type complexityLimit struct {
	max int
	es  graphql.ExecutableSchema
}

var (
	_ graphql.HandlerExtension        = (*complexityLimit)(nil)
	_ graphql.OperationContextMutator = (*complexityLimit)(nil)
)

func (*complexityLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *complexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = es
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil {
		return nil
	}
	m := complexityMeter{ctx: ctx, es: c.es, schema: c.es.Schema(), vars: opCtx.Variables, fragments: map[*ast.FragmentDefinition]int{}}
	if n := m.selectionSet(opCtx.Operation.SelectionSet); n > c.max {
		return graph.Coded(graph.CodeComplexityLimit, fmt.Sprintf("operation has complexity %d, which exceeds the limit of %d", n, c.max))
	}
	return nil
}

// complexityMeter computes the complexity of one operation. A fragment's
// complexity does not depend on where it is spread (its fields, their
// arguments and the operation's variables are the same everywhere), so it is
// computed once. Sums stop at math.MaxInt rather than wrap.
type complexityMeter struct {
	ctx       context.Context
	es        graphql.ExecutableSchema
	schema    *ast.Schema
	vars      map[string]any
	fragments map[*ast.FragmentDefinition]int
}

func (m *complexityMeter) selectionSet(set ast.SelectionSet) int {
	total := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			total = addCapped(total, m.field(sel))
		case *ast.InlineFragment:
			total = addCapped(total, m.selectionSet(sel.SelectionSet))
		case *ast.FragmentSpread:
			total = addCapped(total, m.fragment(sel.Definition))
		}
	}
	return total
}

func (m *complexityMeter) field(f *ast.Field) int {
	if f.Definition == nil || f.ObjectDefinition == nil {
		return 0 // validation resolves every field; nothing to price otherwise
	}
	typ := m.schema.Types[f.Definition.Type.Name()]
	if typ == nil || typ.Name == "__Schema" {
		return 0
	}
	children := 0
	switch typ.Kind {
	case ast.Object, ast.Interface, ast.Union:
		children = m.selectionSet(f.SelectionSet)
	}
	var args map[string]any
	if len(f.Definition.Arguments) > 0 {
		// Most fields take none, and an empty map for each was most of
		// what measuring an operation allocated.
		args = f.ArgumentMap(m.vars)
	}
	if f.ObjectDefinition.Kind != ast.Interface {
		return m.fieldOf(f.ObjectDefinition, f.Name, children, args)
	}
	// An interface field costs what its most expensive implementation costs.
	worst := 0
	for _, t := range m.schema.GetPossibleTypes(f.ObjectDefinition) {
		worst = max(worst, m.fieldOf(t, f.Name, children, args))
	}
	return worst
}

// fieldOf is the cost the schema's complexity functions give a field of def,
// or 1 plus its children when none applies.
func (m *complexityMeter) fieldOf(def *ast.Definition, name string, children int, args map[string]any) int {
	if n, ok := m.es.Complexity(m.ctx, def.Name, name, children, args); ok && n >= 1 {
		return n
	}
	return addCapped(1, children)
}

func (m *complexityMeter) fragment(def *ast.FragmentDefinition) int {
	if def == nil {
		return 0
	}
	if n, seen := m.fragments[def]; seen {
		return n
	}
	// Validation has refused fragment cycles; were one to get here, the zero
	// recorded while measuring ends it.
	m.fragments[def] = 0
	n := m.selectionSet(def.SelectionSet)
	m.fragments[def] = n
	return n
}
