package upstream

import "context"

// RequestIDHeader carries the gateway's request ID to Waldur on every
// attempt, so that Waldur's logs can be joined to the gateway's request line.
const RequestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// WithRequestID binds the request ID of the caller's request to ctx. The
// caller must have checked it: it goes into a header as it is.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request ID bound to ctx, "" for none.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
