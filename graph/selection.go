package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// needs says what upstream data a connection's selection set requires, so that
// a query asking only for totalCount costs one HEAD and no GET.
type needs struct {
	total bool // the list's total (totalCount, pageInfo, cursors, how many edges)
	rows  bool // the rows themselves (node or nodes fields)
}

func (n needs) none() bool { return !n.total && !n.rows }

func connectionNeeds(ctx context.Context) needs {
	opCtx := graphql.GetOperationContext(ctx)
	var n needs
	for _, f := range graphql.CollectFields(opCtx, graphql.GetFieldContext(ctx).Field.Selections, []string{"CustomerQuotaConnection"}) {
		switch f.Name {
		case "totalCount", "pageInfo":
			n.total = true
		case "nodes":
			n.total = true
			n.rows = n.rows || selectsData(opCtx, f.Selections, "CustomerQuota")
		case "edges":
			n.total = true
			for _, ef := range graphql.CollectFields(opCtx, f.Selections, []string{"CustomerQuotaEdge"}) {
				if ef.Name == "node" {
					n.rows = n.rows || selectsData(opCtx, ef.Selections, "CustomerQuota")
				}
			}
		}
	}
	return n
}

// selectsData reports whether a selection asks for any field but __typename.
func selectsData(opCtx *graphql.OperationContext, sel ast.SelectionSet, typeName string) bool {
	for _, f := range graphql.CollectFields(opCtx, sel, []string{typeName}) {
		if f.Name != "__typename" {
			return true
		}
	}
	return false
}
