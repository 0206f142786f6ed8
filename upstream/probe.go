package upstream

import (
	"context"
	"fmt"
	"net/http"

	"github.com/sony/gobreaker/v2"
)

// Probe asks Waldur whether it is there, for the gateway's readiness: one
// anonymous HEAD of the endpoint, without a query. Any answer below 500 is
// a live Waldur: without credentials a working Waldur answers 401. It
// returns an *Error (Unavailable) when Waldur answers 5xx, does not answer
// or does not answer within the client's timeout.
//
// The probe goes around the pipeline on purpose: it carries no credential
// (not even the default token), it must not be answered from the cache or
// share a caller's call, and it neither feeds nor asks the circuit breaker,
// whose state the caller reads on its own (CircuitState). It goes around
// the transport wrappers too: a probe every few seconds is no caller's
// request, and must not fill traces. Observers are not told of it.
func (c *Client) Probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, c.endpoint, nil)
	if err != nil {
		return fmt.Errorf("build the readiness probe: %w", err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	// RoundTrip, not a client: no redirect is followed, no cookie kept.
	resp, err := c.baseTransport.RoundTrip(req)
	if err != nil {
		return c.brokenExchange(0, err, ctx.Err() != nil || isTimeout(err))
	}
	_ = resp.Body.Close()
	if resp.StatusCode >= http.StatusInternalServerError {
		return newError(Unavailable, resp.StatusCode, nil, "Waldur is unavailable (HTTP %d)", resp.StatusCode)
	}
	return nil
}

// The circuit breaker's states, as CircuitState and WithCircuitObserver
// name them.
const (
	CircuitClosed   = "closed"
	CircuitOpen     = "open"
	CircuitHalfOpen = "half-open"
)

// CircuitState is the breaker's state: CircuitClosed (also without a
// breaker), CircuitOpen while it refuses every call, CircuitHalfOpen once
// the cooldown is over and the next call may probe Waldur.
func (c *Client) CircuitState() string {
	if c.breaker == nil {
		return CircuitClosed
	}
	switch c.breaker.cb.State() {
	case gobreaker.StateOpen:
		return CircuitOpen
	case gobreaker.StateHalfOpen:
		return CircuitHalfOpen
	}
	return CircuitClosed
}
