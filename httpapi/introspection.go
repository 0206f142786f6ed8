package httpapi

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/waldur-quotas/gateway/graph"
)

// introspectionGate refuses __schema and __type when introspection is off.
// gqlgen's own switch (leaving out extension.Introspection) also disables the
// federation field _service { sdl }, which a router needs to compose this
// subgraph; this gate leaves _service alone.
type introspectionGate struct{}

var (
	_ graphql.HandlerExtension        = introspectionGate{}
	_ graphql.OperationContextMutator = introspectionGate{}
)

func (introspectionGate) ExtensionName() string                   { return "IntrospectionGate" }
func (introspectionGate) Validate(graphql.ExecutableSchema) error { return nil }

func (introspectionGate) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation != nil && asksIntrospection(opCtx.Operation.SelectionSet, map[string]bool{}) {
		return graph.Coded(graph.CodeIntrospectionOff, "introspection is disabled on this server")
	}
	return nil
}

// asksIntrospection looks for __schema or __type among the root fields,
// through fragments.
func asksIntrospection(set ast.SelectionSet, seen map[string]bool) bool {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Name == "__schema" || sel.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if asksIntrospection(sel.SelectionSet, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if sel.Definition != nil && !seen[sel.Name] {
				seen[sel.Name] = true
				if asksIntrospection(sel.Definition.SelectionSet, seen) {
					return true
				}
			}
		}
	}
	return false
}
