package upstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/semaphore"
)

// Waldur sets no rate limit of its own, and one GraphQL operation may fan out
// to dozens of page requests: these caps are what keeps the gateway from
// flooding it. A call waits for a slot of its operation
// (UPSTREAM_MAX_CONCURRENCY_PER_REQUEST), then for one of the whole gateway
// (UPSTREAM_MAX_CONCURRENCY), in that order, so that a call queued behind its
// own operation's siblings holds no slot another operation could use.
//
// A slot is held for a whole call, across its retries and their backoff: the
// cap then bounds the load retries put on a Waldur that is already failing,
// instead of letting new calls start in the pauses, and a call once admitted
// is not queued again halfway through. Waldur never sees more requests at
// once than the cap either way.

// Defaults of the caps (UPSTREAM_MAX_CONCURRENCY, UPSTREAM_MAX_CONCURRENCY_PER_REQUEST).
const (
	DefaultMaxConcurrency           = 64
	DefaultMaxConcurrencyPerRequest = 8
)

// overloadedRetryAfter is the wait suggested to a call refused for want of a
// slot: slots come free as calls end, well within a second under a burst.
const overloadedRetryAfter = time.Second

// WithMaxConcurrency caps the calls in flight to Waldur across all callers
// (default DefaultMaxConcurrency).
func WithMaxConcurrency(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxConcurrency = n
		}
	}
}

// WithMaxConcurrencyPerRequest caps the calls in flight for one operation,
// the context made by WithOperationLimit (default DefaultMaxConcurrencyPerRequest).
func WithMaxConcurrencyPerRequest(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxConcurrencyPerRequest = n
		}
	}
}

type operationSlotsKey struct{}

// WithOperationLimit returns a context for one GraphQL operation: the calls
// made under it share the operation's cap (WithMaxConcurrencyPerRequest).
// Calls made without it are bound by the gateway's cap only.
func (c *Client) WithOperationLimit(ctx context.Context) context.Context {
	return context.WithValue(ctx, operationSlotsKey{}, semaphore.NewWeighted(int64(c.maxConcurrencyPerRequest)))
}

// limit is the pipeline's concurrency layer.
func (c *Client) limit(next Caller) Caller {
	slots := semaphore.NewWeighted(int64(c.maxConcurrency))
	return CallerFunc(func(ctx context.Context, req Request) (Page, error) {
		release, err := c.acquire(ctx, slots)
		if err != nil {
			return Page{}, err
		}
		// Deferred, so that a panic below gives the slots back too.
		defer release()
		return next.Call(ctx, req)
	})
}

// acquire takes a slot of ctx's operation, if it has one, then one of the
// gateway's. The wait ends with ctx, and after one upstream timeout at most:
// a call that has waited as long as Waldur may take to answer one has met an
// overloaded Waldur, and the server's timeouts count on that bound.
func (c *Client) acquire(ctx context.Context, gateway *semaphore.Weighted) (release func(), err error) {
	wait := slotWait{ctx: ctx, timeout: c.timeout}
	defer wait.stop()
	releaseOperation := func() {}
	if operation, ok := ctx.Value(operationSlotsKey{}).(*semaphore.Weighted); ok {
		if err := c.take(ctx, &wait, operation, "this request asks Waldur for more than it answers in time: the request's %d concurrent calls to Waldur were all in use for as long as this one could wait", c.maxConcurrencyPerRequest); err != nil {
			return nil, err
		}
		releaseOperation = func() { operation.Release(1) }
	}
	if err := c.take(ctx, &wait, gateway, "Waldur is busy: the gateway's %d concurrent calls to it were all in use for as long as this one could wait", c.maxConcurrency); err != nil {
		releaseOperation()
		return nil, err
	}
	return func() {
		gateway.Release(1)
		releaseOperation()
	}, nil
}

// take gets a slot of sem, at once when one is free, else by waiting within
// wait. Only a call that found every slot busy and ran out of time is an
// overload (said with format and args); one whose time was up with a slot
// free goes on, and hears of its own deadline from the layers below, as it
// would without the limit. (A semaphore's Acquire fails on a finished context
// even with slots free.)
func (c *Client) take(ctx context.Context, wait *slotWait, sem *semaphore.Weighted, format string, args ...any) error {
	if sem.TryAcquire(1) {
		return nil
	}
	if err := sem.Acquire(wait.context(), 1); err != nil {
		return c.waitFailed(ctx, err, format, args...)
	}
	return nil
}

// slotWait is the time acquire may wait for its slots, one upstream timeout
// for all of them. Its timer starts with the first wait: nearly every call
// finds its slots free, and a timer for each was nearly 1% of the gateway's
// CPU under load.
type slotWait struct {
	ctx     context.Context
	timeout time.Duration
	wait    context.Context
	cancel  context.CancelFunc
}

func (w *slotWait) context() context.Context {
	if w.wait == nil {
		w.wait, w.cancel = context.WithTimeout(w.ctx, w.timeout)
	}
	return w.wait
}

func (w *slotWait) stop() {
	if w.cancel != nil {
		w.cancel()
	}
}

// waitFailed reports a wait for a slot that ended: the caller's departure is
// its own affair; a deadline that passed is Waldur (or the gateway's share
// of it) being overloaded.
func (c *Client) waitFailed(ctx context.Context, err error, format string, args ...any) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("waiting for a slot to call Waldur: %w", ctx.Err())
	}
	e := newError(Overloaded, 0, err, format, args...)
	e.RetryAfter = overloadedRetryAfter
	e.message += fmt.Sprintf("; try again in %d s", e.RetryAfterSeconds())
	return e
}
