package upstream

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// A proxy in front of Waldur answers 502, 503, 504 or 429 now and then, and a
// connection can break; without retries one such blip fails the whole field.
// The retry layer, just above the transport, tries a GET or HEAD again on
// those, and on nothing else: a 400, 401, 403 or 404 would be answered the
// same again, and a bad response is Waldur's considered answer.

// DefaultRetries is the gateway's default for UPSTREAM_RETRIES. A Client
// retries only when told to (WithRetries), like every layer that changes what
// reaches Waldur: its tests, and the other layers', count upstream calls.
const DefaultRetries = 2

// The waits between attempts: full jitter, a random wait between zero and a
// cap that starts at firstWaitCap and doubles with each retry up to maxWait,
// so that callers who failed together do not come back together.
const (
	firstWaitCap = 100 * time.Millisecond
	maxWait      = time.Second
)

// WithRetries sets how many times a failed call may be tried again; 0, the
// default, turns retries off.
func WithRetries(n int) Option {
	return func(c *Client) {
		if n >= 0 {
			c.retries = n
		}
	}
}

// CallBudget is the longest one call may take through the retry layer when
// each attempt is bounded by timeout: every attempt may use all of it, and the
// waits between them add up to at most maxWait each. A Retry-After is honoured
// only when it fits in what is left of this budget, so the server's deadlines,
// derived from it (see timeouts.go), hold with retries included.
func CallBudget(timeout time.Duration, retries int) time.Duration {
	return time.Duration(retries+1)*timeout + time.Duration(retries)*maxWait
}

// retryLayer is nil (no layer) when retries are off.
func (c *Client) retryLayer() Layer {
	if c.retries == 0 {
		return nil
	}
	return func(next Caller) Caller {
		return CallerFunc(func(ctx context.Context, req Request) (Page, error) {
			if req.Method != http.MethodGet && req.Method != http.MethodHead {
				return next.Call(ctx, req)
			}
			return c.retry(ctx, req, next)
		})
	}
}

// retry makes req with next until an attempt succeeds, fails for good, the
// retries are spent, or the next wait would not leave a whole attempt within
// the call's budget (or the caller's deadline). Then it answers with what the
// last attempt said.
func (c *Client) retry(ctx context.Context, req Request, next Caller) (Page, error) {
	// Retry stops before a wait that would end past this: one more attempt
	// after it must still fit.
	waitsWithin := CallBudget(c.timeout, c.retries) - c.timeout
	if deadline, ok := ctx.Deadline(); ok {
		waitsWithin = min(waitsWithin, time.Until(deadline)-c.timeout)
	}
	if waitsWithin <= 0 {
		// Not even one wait fits (and Retry reads 0 as "no bound").
		return next.Call(ctx, req)
	}
	waits := &retryWaits{jitter: &backoff.ExponentialBackOff{
		// A randomization factor of 1 draws from [0, 2×interval]: full
		// jitter under a cap of twice the interval.
		InitialInterval:     firstWaitCap / 2,
		RandomizationFactor: 1,
		Multiplier:          2,
		MaxInterval:         maxWait / 2,
	}}
	attempt := 0
	return backoff.Retry(ctx, func() (Page, error) {
		attempt++
		page, err := next.Call(withAttempt(ctx, attempt), req)
		if err != nil && !waits.worthRetrying(err) {
			return page, backoff.Permanent(err)
		}
		return page, err
	},
		backoff.WithBackOff(waits),
		backoff.WithMaxTries(uint(c.retries)+1),
		backoff.WithMaxElapsedTime(waitsWithin),
		backoff.WithNotify(func(err error, wait time.Duration) { traceRetry(ctx, attempt+1, err, wait) }),
	)
}

// retryWaits is the wait before each retry: what the last failure's
// Retry-After asked for, else full jitter.
type retryWaits struct {
	jitter *backoff.ExponentialBackOff
	// retryAfter is the wait the last failed attempt asked for, 0 for none.
	retryAfter time.Duration
}

func (w *retryWaits) NextBackOff() time.Duration {
	if w.retryAfter > 0 {
		return w.retryAfter
	}
	return w.jitter.NextBackOff()
}

func (w *retryWaits) Reset() { w.jitter.Reset() }

// worthRetrying tells whether another attempt may fare better than the one
// that failed with err, and remembers the wait it asked for. The caller's own
// cancellation is no *Error, and is never retried.
func (w *retryWaits) worthRetrying(err error) bool {
	var ue *Error
	if !errors.As(err, &ue) {
		return false
	}
	w.retryAfter = ue.RetryAfter
	switch ue.Kind {
	case RateLimited:
		return true
	case Unavailable:
		switch ue.Status {
		case 0, // no answer: the network failed or Waldur did not answer in time
			http.StatusOK, // the answer broke off in its body
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
	}
	return false
}

type attemptKey struct{}

// withAttempt tells the transport which attempt it makes, for its observers.
func withAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

// attemptOf is the attempt the transport makes under ctx: 1 unless retrying.
func attemptOf(ctx context.Context) int {
	if n, ok := ctx.Value(attemptKey{}).(int); ok {
		return n
	}
	return 1
}
