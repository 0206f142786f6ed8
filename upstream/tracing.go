package upstream

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Tracing: one span for each call as the resolvers make it, above every layer
// of the pipeline, so that what the layers decide shows on it as events (a
// retry and its wait, the circuit breaker refusing or probing, an answer
// shared with another caller). The HTTP attempts below it are traced by the
// transport (see WithTransportWrapper), which also carries the trace to
// Waldur. Attributes name the request, never the caller: no credential, no
// digest of one.

// tracerName is the instrumentation scope of the call spans.
const tracerName = "github.com/waldur-quotas/gateway/upstream"

// Attribute keys of the call spans and their events.
const (
	attrQuotaName = attribute.Key("waldur.quota_name")
	attrOrdering  = attribute.Key("waldur.ordering")
	attrPage      = attribute.Key("waldur.page")
	attrPageSize  = attribute.Key("waldur.page_size")
	attrCoalesced = attribute.Key("waldur.coalesced")
	attrErrorKind = attribute.Key("waldur.error.kind")
	attrAttempt   = attribute.Key("waldur.attempt")
	attrWaitMS    = attribute.Key("waldur.retry.wait_ms")
	attrStatus    = attribute.Key("http.response.status_code")
)

// WithTracerProvider traces every call through the pipeline with tp.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *Client) {
		if tp == nil {
			return
		}
		c.tracer = tp.Tracer(tracerName)
		c.observers = append(c.observers, traceShared)
	}
}

// tracingLayer is the outermost layer, nil when the client is not traced.
func (c *Client) tracingLayer() Layer {
	if c.tracer == nil {
		return nil
	}
	tracer := c.tracer
	return func(next Caller) Caller {
		return CallerFunc(func(ctx context.Context, req Request) (Page, error) {
			attrs := []attribute.KeyValue{attrQuotaName.String(req.QuotaName), attrOrdering.String(string(req.Ordering))}
			if req.Page > 0 {
				attrs = append(attrs, attrPage.Int(req.Page), attrPageSize.Int(req.PageSize))
			}
			ctx, span := tracer.Start(ctx, "waldur "+req.Method, trace.WithAttributes(attrs...))
			defer span.End()
			page, err := next.Call(ctx, req)
			if err != nil {
				if k := KindOf(err); k != 0 {
					span.SetAttributes(attrErrorKind.String(k.String()))
				}
				// Upstream errors are written for people: no credential, URL
				// or upstream body.
				span.SetStatus(codes.Error, err.Error())
			}
			return page, err
		})
	}
}

// traceRetry notes on the call's span that the attempt before attempt failed
// with err, and that attempt follows after wait.
func traceRetry(ctx context.Context, attempt int, err error, wait time.Duration) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	attrs := []attribute.KeyValue{attrAttempt.Int(attempt), attrWaitMS.Int64(wait.Milliseconds())}
	var ue *Error
	if errors.As(err, &ue) {
		attrs = append(attrs, attrErrorKind.String(ue.Kind.String()), attrStatus.Int(ue.Status))
	}
	span.AddEvent("retry", trace.WithAttributes(attrs...))
}

// traceCircuit notes on the call's span what the circuit breaker decided for
// it: "circuit open" (refused, retry after retryAfter) or "circuit probe"
// (let through half-open, to decide whether the circuit closes).
func traceCircuit(ctx context.Context, decision string, retryAfter time.Duration) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	var attrs []attribute.KeyValue
	if retryAfter > 0 {
		attrs = append(attrs, attribute.Int64("waldur.retry_after_s", int64(retryAfter/time.Second)))
	}
	span.AddEvent(decision, trace.WithAttributes(attrs...))
}

// traceShared marks the span of a call that another caller's identical call
// answered: it has no HTTP attempt of its own.
func traceShared(ctx context.Context, call Call) {
	if call.Coalesced {
		trace.SpanFromContext(ctx).SetAttributes(attrCoalesced.Bool(true))
	}
}
