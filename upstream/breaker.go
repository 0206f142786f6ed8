package upstream

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// A dead Waldur costs every caller the whole upstream timeout (and retries)
// and piles load on a server that is trying to come back. After a run of
// failed calls the circuit opens: for a cooldown no call reaches Waldur and
// callers are told at once when to come back; then one call probes, and its
// outcome closes the circuit or opens it for another cooldown.
//
// There is one breaker for the whole endpoint: a dead Waldur is dead for
// every caller. Only Waldur failing counts (5xx, no answer, a timeout, an
// answer that broke off); an answer about the caller or the query (401, 403,
// 400, 404, 429) is Waldur working, and a caller who gives up says nothing
// about Waldur, so neither counts for or against it. The breaker sits above
// the retries: a call that used up its retries counts once.

// Defaults of UPSTREAM_BREAKER_FAILURES and UPSTREAM_BREAKER_COOLDOWN.
const (
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 10 * time.Second
)

// ErrCircuitOpen is the cause of the Unavailable error a call gets, without
// reaching Waldur, while the circuit is open.
var ErrCircuitOpen = errors.New("circuit breaker open")

// WithCircuitBreaker opens the circuit after failures consecutive failed
// calls, for cooldown (DefaultBreakerCooldown when not positive). Without
// this option, or with failures < 1, there is no breaker.
func WithCircuitBreaker(failures int, cooldown time.Duration) Option {
	return func(c *Client) {
		if failures < 1 {
			c.breaker = nil
			return
		}
		if cooldown <= 0 {
			cooldown = DefaultBreakerCooldown
		}
		c.breaker = newBreaker(uint32(min(failures, 1<<31)), cooldown, c.circuitChanged)
	}
}

// WithCircuitObserver registers fn to be told of each change of the
// circuit's state ("closed", "open", "half-open"), once per change. fn runs
// while the breaker is locked: it must return quickly and must not call the
// client. Observers add up.
func WithCircuitObserver(fn func(from, to string)) Option {
	return func(c *Client) {
		if fn != nil {
			c.circuitObservers = append(c.circuitObservers, fn)
		}
	}
}

// CircuitOpen reports whether the breaker is keeping calls from Waldur: open,
// or half-open while it lets one probe decide. False without a breaker.
func (c *Client) CircuitOpen() bool {
	return c.breaker != nil && c.breaker.cb.State() != gobreaker.StateClosed
}

func (c *Client) circuitChanged(from, to string) {
	for _, observe := range c.circuitObservers {
		observe(from, to)
	}
}

type breaker struct {
	cb       *gobreaker.CircuitBreaker[Page]
	cooldown time.Duration
	// reopensAt is when the current open state ends (Unix nanoseconds), for
	// the retryAfter a refused caller is given; gobreaker does not tell it.
	reopensAt atomic.Int64
}

func newBreaker(failures uint32, cooldown time.Duration, changed func(from, to string)) *breaker {
	b := &breaker{cooldown: cooldown}
	b.cb = gobreaker.NewCircuitBreaker[Page](gobreaker.Settings{
		Name:        "waldur",
		MaxRequests: 1, // one probe when half-open
		Timeout:     cooldown,
		ReadyToTrip: func(counts gobreaker.Counts) bool { return counts.ConsecutiveFailures >= failures },
		IsExcluded:  func(err error) bool { return err != nil && !waldurFailed(err) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				b.reopensAt.Store(time.Now().Add(cooldown).UnixNano())
			}
			changed(from.String(), to.String())
		},
	})
	return b
}

// waldurFailed says whether err is Waldur failing (which counts towards
// opening the circuit), rather than Waldur answering about the caller or the
// query, or the caller giving up (which count for nothing).
func waldurFailed(err error) bool {
	return KindOf(err) == Unavailable
}

// layer is the breaker's place in the pipeline; nil (no layer) without a breaker.
func (b *breaker) layer() Layer {
	if b == nil {
		return nil
	}
	return func(next Caller) Caller {
		return CallerFunc(func(ctx context.Context, req Request) (Page, error) {
			probing := b.cb.State() == gobreaker.StateHalfOpen
			page, err := b.cb.Execute(func() (Page, error) { return next.Call(ctx, req) })
			if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
				refusal := b.refusal(time.Now())
				traceCircuit(ctx, "circuit open", refusal.RetryAfter)
				return Page{}, refusal
			}
			if probing {
				traceCircuit(ctx, "circuit probe", 0)
			}
			return page, err
		})
	}
}

// refusal is the error of a call the open circuit keeps from Waldur. It asks
// the caller to come back when the cooldown ends, and at least a second
// later: a half-open circuit whose probe is in flight decides within one
// upstream call.
func (b *breaker) refusal(now time.Time) *Error {
	wait := time.Duration(b.reopensAt.Load() - now.UnixNano())
	seconds := max(1, int((wait+time.Second-1)/time.Second))
	e := newError(Unavailable, 0, ErrCircuitOpen,
		"Waldur is failing, so the gateway has stopped calling it for a while (circuit breaker open); try again in %d s", seconds)
	e.RetryAfter = time.Duration(seconds) * time.Second
	return e
}
