package httpapi

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/apollofederatedtracingv1"

	"github.com/waldur-quotas/gateway/graph"
)

// federatedTracing is gqlgen's Apollo federated tracing (ftv1), asked once per
// operation whether a router wants the trace rather than for every field:
// the Tracer reads the header again for each field it is handed, which with
// nobody asking (nearly always) cost a few per cent of the gateway's CPU.
// An operation that asks is traced by the Tracer itself, field by field.
type federatedTracing struct {
	tracer *apollofederatedtracingv1.Tracer
}

type ftv1Key struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.FieldInterceptor
	graphql.ResponseInterceptor
} = federatedTracing{}

func newFederatedTracing() federatedTracing {
	return federatedTracing{tracer: &apollofederatedtracingv1.Tracer{}}
}

func (f federatedTracing) ExtensionName() string { return f.tracer.ExtensionName() }

func (f federatedTracing) Validate(schema graphql.ExecutableSchema) error {
	return f.tracer.Validate(schema)
}

func (f federatedTracing) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if graph.FederatedTraceAsked(graphql.GetOperationContext(ctx)) {
		ctx = context.WithValue(ctx, ftv1Key{}, true)
	}
	return f.tracer.InterceptOperation(ctx, next)
}

func (f federatedTracing) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	if ctx.Value(ftv1Key{}) == nil {
		return next(ctx)
	}
	return f.tracer.InterceptField(ctx, next)
}

func (f federatedTracing) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	return f.tracer.InterceptResponse(ctx, next)
}
