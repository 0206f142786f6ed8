package httpapi

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/waldur-quotas/gateway/graph"
)

// clientGone stops a request whose client has gone away (net/http cancels the
// request's context when its connection closes) at the two points where the
// gateway is about to spend work on it: before parsing and validating the
// document, and after validation, before the limits are measured and the
// operation runs. Once execution has started, every upstream call carries the
// same context and ends with it.
type clientGone struct{}

var (
	_ graphql.HandlerExtension          = clientGone{}
	_ graphql.OperationParameterMutator = clientGone{}
	_ graphql.OperationContextMutator   = clientGone{}
)

func (clientGone) ExtensionName() string                   { return "ClientGone" }
func (clientGone) Validate(graphql.ExecutableSchema) error { return nil }

func (clientGone) MutateOperationParameters(ctx context.Context, _ *graphql.RawParams) *gqlerror.Error {
	return cancelled(ctx)
}

func (clientGone) MutateOperationContext(ctx context.Context, _ *graphql.OperationContext) *gqlerror.Error {
	return cancelled(ctx)
}

func cancelled(ctx context.Context) *gqlerror.Error {
	if ctx.Err() == nil {
		return nil
	}
	return graph.Coded(graph.CodeRequestCancelled, "the request was cancelled: its client went away")
}
