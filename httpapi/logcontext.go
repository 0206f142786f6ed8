package httpapi

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"github.com/waldur-quotas/gateway/upstream"
)

// Every line logged with a request's context names the request: its trace
// and span IDs (the caller's trace when it sent one) and its request ID, so
// that the gateway's lines, the tracing backend and Waldur's logs (which get
// both in headers) can be joined.
const (
	logTraceID   = "trace_id"
	logSpanID    = "span_id"
	logRequestID = "request_id"
)

// WithRequestContext returns a logger whose lines carry the IDs of the
// request in the context they are logged with (LogAttrs, InfoContext…).
// Wrapping twice adds them once.
func WithRequestContext(logger *slog.Logger) *slog.Logger {
	if _, done := logger.Handler().(requestContextHandler); done {
		return logger
	}
	return slog.New(requestContextHandler{next: logger.Handler()})
}

type requestContextHandler struct{ next slog.Handler }

func (h requestContextHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h requestContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		return h.next.Handle(ctx, r)
	}
	sc := trace.SpanContextFromContext(ctx)
	id := upstream.RequestID(ctx)
	if !sc.IsValid() && id == "" {
		return h.next.Handle(ctx, r)
	}
	r = r.Clone()
	if sc.IsValid() {
		r.AddAttrs(slog.String(logTraceID, sc.TraceID().String()), slog.String(logSpanID, sc.SpanID().String()))
	}
	if id != "" {
		r.AddAttrs(slog.String(logRequestID, id))
	}
	return h.next.Handle(ctx, r)
}

func (h requestContextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestContextHandler{next: h.next.WithAttrs(attrs)}
}

func (h requestContextHandler) WithGroup(name string) slog.Handler {
	return requestContextHandler{next: h.next.WithGroup(name)}
}
