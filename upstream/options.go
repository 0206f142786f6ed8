package upstream

import (
	"context"
	"net/http"
	"time"
)

// Defaults a Client starts from; options change them.
const (
	DefaultTimeout   = 10 * time.Second
	DefaultBodyLimit = 8 << 20 // 8 MiB: 300 rows are ~40 KiB, so this only stops a runaway answer
)

// Option configures a Client.
type Option func(*Client)

// WithTimeout bounds each upstream request (default DefaultTimeout). The
// caller's own cancellation applies as well.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithDefaultToken sets the Waldur API token used, as "Token <token>", for
// callers that send no Authorization header of their own.
func WithDefaultToken(token string) Option {
	return func(c *Client) {
		if token != "" {
			c.defaultAuthorization = "Token " + token
		}
	}
}

// WithUserAgent names the gateway to Waldur.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// WithBodyLimit caps how many bytes of an answer are read (default DefaultBodyLimit).
func WithBodyLimit(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.bodyLimit = n
		}
	}
}

// WithTransport replaces the HTTP transport, for tests and custom TLS.
func WithTransport(rt http.RoundTripper) Option {
	return func(c *Client) { c.transport = rt }
}

// Call describes one finished upstream request, for logs and metrics. It holds
// no credential.
type Call struct {
	Method string
	// QuotaName is the quota_name asked for: the caller's choice, not
	// necessarily a name Waldur knows.
	QuotaName string
	Page      int // 0 for HEAD
	PageSize  int // 0 for HEAD
	// Attempt is 1 for a call's first try, 2 and up for its retries (see
	// WithRetries): an attempt past the first follows a failure that was
	// retried.
	Attempt  int
	Status   int // 0 when no answer arrived
	Duration time.Duration
	// Err is the call's failure, an answer that could not be used included.
	Err error
	// Coalesced: no HTTP request was made for this caller; it shared
	// another caller's identical call in flight (see coalesce.go), which was
	// observed on its own. Status and Err are that call's.
	Coalesced bool
}

// WithObserver registers fn to be told of every upstream request the client
// makes (every attempt, retries included), with the context of the operation
// that caused it, and of every call answered by another caller's (Coalesced).
// Observers add up: each one registered is told, in order.
func WithObserver(fn func(context.Context, Call)) Option {
	return func(c *Client) {
		if fn != nil {
			c.observers = append(c.observers, fn)
		}
	}
}

// WithTransportWrapper wraps the HTTP transport (the default one, or
// WithTransport's), for instance to trace each request. Wrappers add up: the
// one registered last is the outermost.
func WithTransportWrapper(wrap func(http.RoundTripper) http.RoundTripper) Option {
	return func(c *Client) {
		if wrap != nil {
			c.transportWrappers = append(c.transportWrappers, wrap)
		}
	}
}
