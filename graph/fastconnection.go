package graph

import (
	"bytes"
	"context"
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/waldur-quotas/gateway/graph/model"
	"github.com/waldur-quotas/gateway/graph/scalars"
)

// FederatedTraceHeader is the request header with which an Apollo router
// asks a subgraph for the federated trace (ftv1) of an operation.
const FederatedTraceHeader = "Apollo-Federation-Include-Trace"

// FederatedTraceAsked reports whether the operation's caller asked for its
// federated trace: only then do its fields go through field interceptors.
func FederatedTraceAsked(oc *graphql.OperationContext) bool {
	return oc.Headers.Get(FederatedTraceHeader) == "ftv1"
}

// marshalConnection writes a customerQuotas connection straight to JSON.
//
// gqlgen marshals every field of every row through a field context of its
// own, with its recovery, its path and its interceptors: for a page of 10 rows
// about a thousand allocations, a fifth of the gateway's CPU. The connection's
// fields are plain values the resolver has already computed, so nothing can
// fail or wait in them; written directly, in the order and with the aliases,
// fragments and @skip/@include the selection asks (graphql.CollectFields, as
// the generated code uses), the answer is byte for byte the same. make
// generate points the customerQuotas field here (internal/rewritegenerated).
//
// The generated marshaller still answers whatever this does not know: an
// operation whose federated trace was asked (its fields are then timed one by
// one), a deferred fragment, a field this code does not write.
func (ec *executionContext) marshalConnection(ctx context.Context, sel ast.SelectionSet, v *model.CustomerQuotaConnection) graphql.Marshaler {
	if v == nil || FederatedTraceAsked(ec.OperationContext) {
		return ec.marshalNCustomerQuotaConnection2ᚖgithubᚗcomᚋwaldurᚑquotasᚋgatewayᚋgraphᚋmodelᚐCustomerQuotaConnection(ctx, sel, v)
	}
	w := jsonWriter{oc: ec.OperationContext}
	if !w.connection(sel, v) {
		return ec.marshalNCustomerQuotaConnection2ᚖgithubᚗcomᚋwaldurᚑquotasᚋgatewayᚋgraphᚋmodelᚐCustomerQuotaConnection(ctx, sel, v)
	}
	out := w.buf.Bytes()
	return graphql.WriterFunc(func(dst io.Writer) { _, _ = dst.Write(out) })
}

// jsonWriter writes the objects of a connection as gqlgen's FieldSet would:
// {"alias":value,...}, a repeated alias written once. Each method reports
// false for a selection it cannot write.
type jsonWriter struct {
	oc  *graphql.OperationContext
	buf bytes.Buffer
}

// object writes one object, each of its collected fields (the i-th of
// fields) by field, which reports whether it knew the field. The fields of a list's elements are
// collected once for the list.
func (w *jsonWriter) object(fields []graphql.CollectedField, field func(i int, f graphql.CollectedField) bool) bool {
	w.buf.WriteByte('{')
	for i, f := range fields {
		if len(f.Deferrables) > 0 {
			return false
		}
		if written(fields[:i], f.Alias) {
			continue
		}
		if w.buf.Bytes()[w.buf.Len()-1] != '{' {
			w.buf.WriteByte(',')
		}
		w.string(f.Alias)
		w.buf.WriteByte(':')
		if !field(i, f) {
			return false
		}
	}
	w.buf.WriteByte('}')
	return true
}

func written(before []graphql.CollectedField, alias string) bool {
	for _, f := range before {
		if f.Alias == alias {
			return true
		}
	}
	return false
}

func (w *jsonWriter) collect(sel ast.SelectionSet, implementors []string) []graphql.CollectedField {
	return graphql.CollectFields(w.oc, sel, implementors)
}

func (w *jsonWriter) connection(sel ast.SelectionSet, v *model.CustomerQuotaConnection) bool {
	return w.object(w.collect(sel, customerQuotaConnectionImplementors), func(i int, f graphql.CollectedField) bool {
		switch f.Name {
		case "__typename":
			w.string("CustomerQuotaConnection")
		case "totalCount":
			w.buf.Write(strconv.AppendInt(w.buf.AvailableBuffer(), int64(v.TotalCount), 10))
		case "pageInfo":
			return v.PageInfo != nil && w.pageInfo(w.collect(f.Selections, pageInfoImplementors), v.PageInfo)
		case "edges":
			fields := w.collect(f.Selections, customerQuotaEdgeImplementors)
			nodeFields := make([][]graphql.CollectedField, len(fields)) // per edge field, once for the list
			return w.list(len(v.Edges), func(i int) bool { return v.Edges[i] != nil && w.edge(fields, nodeFields, v.Edges[i]) })
		case "nodes":
			fields := w.collect(f.Selections, customerQuotaImplementors)
			return w.list(len(v.Nodes), func(i int) bool { return v.Nodes[i] != nil && w.node(fields, v.Nodes[i]) })
		default:
			return false
		}
		return true
	})
}

func (w *jsonWriter) list(n int, element func(i int) bool) bool {
	w.buf.WriteByte('[')
	for i := range n {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		if !element(i) {
			return false
		}
	}
	w.buf.WriteByte(']')
	return true
}

func (w *jsonWriter) edge(fields []graphql.CollectedField, nodeFields [][]graphql.CollectedField, e *model.CustomerQuotaEdge) bool {
	return w.object(fields, func(i int, f graphql.CollectedField) bool {
		switch f.Name {
		case "__typename":
			w.string("CustomerQuotaEdge")
		case "cursor":
			w.string(e.Cursor)
		case "node":
			if nodeFields[i] == nil {
				nodeFields[i] = w.collect(f.Selections, customerQuotaImplementors)
			}
			return e.Node != nil && w.node(nodeFields[i], e.Node)
		default:
			return false
		}
		return true
	})
}

func (w *jsonWriter) node(fields []graphql.CollectedField, n *model.CustomerQuota) bool {
	return w.object(fields, func(i int, f graphql.CollectedField) bool {
		switch f.Name {
		case "__typename":
			w.string("CustomerQuota")
		case "customerName":
			w.string(n.CustomerName)
		case "customerAbbreviation":
			w.string(n.CustomerAbbreviation)
		case "value":
			if n.Value == nil {
				w.buf.WriteString("null")
			} else {
				w.buf.Write(scalars.AppendFloat(w.buf.AvailableBuffer(), *n.Value))
			}
		default:
			return false
		}
		return true
	})
}

func (w *jsonWriter) pageInfo(fields []graphql.CollectedField, p *model.PageInfo) bool {
	return w.object(fields, func(i int, f graphql.CollectedField) bool {
		switch f.Name {
		case "__typename":
			w.string("PageInfo")
		case "hasNextPage":
			w.buf.WriteString(strconv.FormatBool(p.HasNextPage))
		case "hasPreviousPage":
			w.buf.WriteString(strconv.FormatBool(p.HasPreviousPage))
		case "startCursor":
			w.optionalString(p.StartCursor)
		case "endCursor":
			w.optionalString(p.EndCursor)
		default:
			return false
		}
		return true
	})
}

// string writes s quoted as gqlgen writes every string.
func (w *jsonWriter) string(s string) { graphql.MarshalString(s).MarshalGQL(&w.buf) }

func (w *jsonWriter) optionalString(s *string) {
	if s == nil {
		w.buf.WriteString("null")
		return
	}
	w.string(*s)
}
