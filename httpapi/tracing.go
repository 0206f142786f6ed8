package httpapi

import (
	"context"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/waldur-quotas/gateway/graph"
	"github.com/waldur-quotas/gateway/tracing"
)

// tracerName is the instrumentation scope of the operation spans.
const tracerName = "github.com/waldur-quotas/gateway/httpapi"

// withTracing makes a span of each request, the child of the caller's
// traceparent when it sent one. The propagator is always on: with tp a
// no-op, the caller's trace context still reaches the request's context, and
// from there the log lines and Waldur. When spans are exported (export),
// otelhttp describes each request in full; when they are not, only the trace
// context is kept: otelhttp's attributes, body and writer wrappers were 12% of
// the CPU of a cached answer, spent on spans nobody receives.
func withTracing(tp trace.TracerProvider, export bool, next http.Handler) http.Handler {
	if export {
		return otelhttp.NewHandler(next, "",
			otelhttp.WithTracerProvider(tp),
			otelhttp.WithPropagators(tracing.Propagator()),
			otelhttp.WithSpanNameFormatter(serverSpanName),
		)
	}
	tracer, propagator := tp.Tracer(tracerName), tracing.Propagator()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, serverSpanName("", r), trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// serverSpanName is "{method} {path}" for the gateway's own paths and the
// method alone for any other (the path is the caller's to choose, and span
// names must stay few).
func serverSpanName(_ string, r *http.Request) string {
	method := r.Method
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodPatch:
	default:
		method = "HTTP"
	}
	switch r.URL.Path {
	case queryPath, healthzPath, "/":
		return method + " " + r.URL.Path
	}
	return method
}

// operationTracing is the span of a GraphQL operation, below the request's:
// "query Name" with the operation's type and name, ended when its answer is
// complete, the error codes of that answer on it. Upstream calls made for the
// operation are its children.
type operationTracing struct{ tracer trace.Tracer }

var (
	_ graphql.HandlerExtension     = operationTracing{}
	_ graphql.OperationInterceptor = operationTracing{}
)

func newOperationTracing(tp trace.TracerProvider) operationTracing {
	return operationTracing{tracer: tp.Tracer(tracerName)}
}

func (operationTracing) ExtensionName() string                   { return "OperationTracing" }
func (operationTracing) Validate(graphql.ExecutableSchema) error { return nil }

func (t operationTracing) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	opType, name := "", opCtx.OperationName
	if op := opCtx.Operation; op != nil {
		opType = string(op.Operation)
		if name == "" {
			name = op.Name
		}
	}
	spanName := opType
	if name != "" {
		spanName += " " + name
	}
	ctx, span := t.tracer.Start(ctx, spanName, trace.WithAttributes(
		attribute.String("graphql.operation.type", opType),
		attribute.String("graphql.operation.name", name),
	))
	respond := next(ctx)
	var end sync.Once
	return func(ctx context.Context) *graphql.Response {
		resp := respond(ctx)
		// A query answers once; the span ends with that answer (or the
		// end-of-stream nil when there was none).
		end.Do(func() {
			if resp != nil && len(resp.Errors) > 0 {
				errCodes := make([]string, 0, len(resp.Errors))
				for _, e := range resp.Errors {
					errCodes = append(errCodes, graph.CodeOf(e))
				}
				span.SetAttributes(attribute.StringSlice("graphql.error.codes", errCodes))
				span.SetStatus(codes.Error, resp.Errors[0].Message)
			}
			span.End()
		})
		return resp
	}
}
