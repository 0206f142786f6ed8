package upstream

import (
	"context"
	"slices"
)

// Request names one call to Waldur as the pipeline's layers see it. It holds
// no credential: that stays in the context (see WithAuthorization), so that no
// layer can log, print or key on it by accident; a layer that must tell
// callers apart asks for a digest of it.
type Request struct {
	Method    string // http.MethodGet for a page, http.MethodHead for the total
	QuotaName string
	Ordering  Ordering
	Page      int // 1-based; 0 for HEAD
	PageSize  int // 0 for HEAD
}

// Caller makes a Request: the transport at the bottom of the pipeline, and
// every layer above it, each wrapping the one below.
type Caller interface {
	Call(ctx context.Context, req Request) (Page, error)
}

// CallerFunc makes a function a Caller.
type CallerFunc func(ctx context.Context, req Request) (Page, error)

// Call calls f.
func (f CallerFunc) Call(ctx context.Context, req Request) (Page, error) { return f(ctx, req) }

// Layer adds one concern to the road to Waldur by wrapping the Caller below it.
type Layer func(next Caller) Caller

// pipeline composes the road to Waldur, in this one place. A call goes down
// from the first layer listed to the transport (c.send, the resty request);
// above them all sits the per-operation memo (List and Count, see WithDedup),
// which only shares calls within one GraphQL operation.
func (c *Client) pipeline() Caller {
	layers := []Layer{
		// Outermost first.
		c.tracingLayer(), // a span per call, on which the layers below note what they decide
		c.coalescing(),
		c.cacheLayer(), // below coalescing, above the breaker: a cached answer needs no Waldur
		c.breaker.layer(),
		c.limit,
		c.retryLayer(),
	}
	var call Caller = CallerFunc(c.send)
	for _, layer := range slices.Backward(layers) {
		if layer != nil {
			call = layer(call)
		}
	}
	return call
}
