package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Coalescing: identical requests (same caller, same Request) in flight at the
// same moment share one call to Waldur, whichever GraphQL requests they come
// from. A dashboard open in many tabs then costs Waldur one request per
// distinct page, not one per tab.
//
// The shared call belongs to no single caller. It runs on a context detached
// from the one that started it (context.WithoutCancel keeps its values: the
// Authorization, which is the same for every sharer since the caller is part
// of the key, the request's stats, and later trace context) and bounded by
// the call budget and by the deadline of the caller that started it. Each sharer waits only as long as its own context lives;
// the call is cancelled when the last one has gone. Should the call end
// because its own context did, sharers still waiting make it again rather
// than hear of a cancellation that was not theirs.
//
// golang.org/x/sync/singleflight does not fit: its map is private, so
// counting the sharers of each call (to cancel it when all have gone) would
// need a second map kept in step with it under another lock, and a call
// cancelled for want of sharers would have to be Forgotten before anyone
// else joined it. One map under one lock does all of it.

// sharedCallBudget bounds a shared call. It stands in for the deadline the call
// lost when it was detached, and the layers below plan their waits against
// it: the concurrency limit may wait one upstream timeout for a slot, then the
// retry layer may spend a whole CallBudget. It is the same figure the server's
// write timeout is built from (timeouts.go), so a shared call never outlives
// the answer it is for.
func (c *Client) sharedCallBudget() time.Duration {
	return c.timeout + CallBudget(c.timeout, c.retries)
}

// coalescer is the layer; see above.
type coalescer struct {
	next    Caller
	caller  func(context.Context) string // a digest of the caller, never the credential
	observe func(context.Context, Call)
	budget  time.Duration

	mu      sync.Mutex
	flights map[flightKey]*flight
}

// flightKey names a call. caller is a digest (see callerdigest.go): a key
// must never hold the credential itself.
type flightKey struct {
	caller string
	req    Request
}

// flight is one shared call.
type flight struct {
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	// sharers waiting for the call; it is cancelled when none is left.
	sharers int

	// Set before done is closed.
	page Page
	err  error
	// cut: the call ended because its own context did (budget, or no
	// sharer left), which says nothing of Waldur.
	cut      bool
	panicked any
}

// coalescing is the pipeline's coalescing layer.
func (c *Client) coalescing() Layer {
	return func(next Caller) Caller {
		return newCoalescer(next, c.callerDigest, c.observeAll, c.sharedCallBudget())
	}
}

func newCoalescer(next Caller, caller func(context.Context) string, observe func(context.Context, Call), budget time.Duration) *coalescer {
	return &coalescer{next: next, caller: caller, observe: observe, budget: budget, flights: make(map[flightKey]*flight)}
}

// observeAll tells every observer of call.
func (c *Client) observeAll(ctx context.Context, call Call) {
	for _, observe := range c.observers {
		observe(ctx, call)
	}
}

// Call makes req, or waits for the identical call in flight.
func (co *coalescer) Call(ctx context.Context, req Request) (Page, error) {
	key := flightKey{co.caller(ctx), req}
	rejoinedOverloaded := false
	for {
		f, joined := co.join(ctx, key, req)
		start := time.Now()
		select {
		case <-f.done:
		case <-ctx.Done():
			if !joined && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				// The call runs to this caller's deadline too (see join), so
				// it is ending now, and its answer says better why the time
				// ran out (a call that found no free slot in time is
				// Overloaded) than "abandoned" would.
				<-f.done
				if f.panicked != nil {
					panic(f.panicked)
				}
				return f.page, f.err
			}
			co.leave(key, f)
			err := fmt.Errorf("waldur request abandoned: %w", ctx.Err())
			if joined {
				co.observeShared(ctx, req, start, err)
			}
			return Page{}, err
		}
		if f.panicked != nil {
			panic(f.panicked)
		}
		if f.cut && f.err != nil && outlives(ctx, f) {
			continue
		}
		if joined && !rejoinedOverloaded && KindOf(f.err) == Overloaded && ctx.Err() == nil {
			// The shared call waited in its starter's queue: that operation's
			// cap (see limit.go) is no concern of this caller, whose own
			// operation may have a slot free. Made again once, as this
			// caller's own call or shared with whoever starts it first; a
			// second refusal is this caller's to hear.
			rejoinedOverloaded = true
			continue
		}
		if joined {
			co.observeShared(ctx, req, start, f.err)
		}
		return f.page, f.err
	}
}

// join returns the flight for key, starting it unless one is under way, and
// whether it joined another caller's flight. A caller re-planning under
// Fresh must hear Waldur after its plan failed, so it never joins a flight
// that may have left before; its own flight replaces that one for later
// callers.
func (co *coalescer) join(ctx context.Context, key flightKey, req Request) (*flight, bool) {
	co.mu.Lock()
	defer co.mu.Unlock()
	if f, ok := co.flights[key]; ok && notBefore(ctx) == 0 {
		f.sharers++
		return f, true
	}
	// The first caller's deadline still bounds the call, so that the layers
	// below plan their waits (a Retry-After) for the time that caller has; a
	// sharer with longer to live makes the call again if it is cut short.
	deadline := time.Now().Add(co.budget)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	fctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	f := &flight{ctx: fctx, cancel: cancel, done: make(chan struct{}), sharers: 1}
	co.flights[key] = f
	runWarm(func() { co.fly(key, f, req) })
	return f, false
}

// fly makes the call, on a goroutine of its own (see warmgoroutines.go). A panic is
// handed to the sharers, each of which panics in its own goroutine, where the
// field's recover turns it into an error as it would without coalescing; here
// it would take the process down.
func (co *coalescer) fly(key flightKey, f *flight, req Request) {
	defer func() {
		f.panicked = recover()
		f.cut = f.ctx.Err() != nil
		f.cancel()
		co.mu.Lock()
		if co.flights[key] == f {
			delete(co.flights, key)
		}
		co.mu.Unlock()
		close(f.done)
	}()
	f.page, f.err = co.next.Call(f.ctx, req)
}

// leave is a sharer giving up; the last one cancels the call, which no one
// joins any more.
func (co *coalescer) leave(key flightKey, f *flight) {
	co.mu.Lock()
	defer co.mu.Unlock()
	f.sharers--
	if f.sharers > 0 {
		return
	}
	if co.flights[key] == f {
		delete(co.flights, key)
	}
	f.cancel()
}

// observeShared tells the observers that a caller was answered by another
// one's call: its request used Waldur without adding to its load. The HTTP
// attempt itself was observed once, with the first caller's context.
func (co *coalescer) observeShared(ctx context.Context, req Request, start time.Time, err error) {
	call := Call{Method: req.Method, QuotaName: req.QuotaName, Page: req.Page, PageSize: req.PageSize, Status: http.StatusOK,
		Duration: time.Since(start), Err: err, Coalesced: true}
	if err != nil {
		call.Status = 0
		var ue *Error
		if errors.As(err, &ue) {
			call.Status = ue.Status
		}
	}
	co.observe(ctx, call)
}

// outlives tells whether the caller of ctx has time left once f's time is up,
// so that making f's call again may fare better. ctx.Err() alone cannot tell:
// f's deadline and the caller's are two timers, and when f was cut by this
// very caller's deadline, f's may fire first; making the call again then would
// only be refused for want of time (by the concurrency limit, as Overloaded).
func outlives(ctx context.Context, f *flight) bool {
	if ctx.Err() != nil {
		return false
	}
	mine, ok := ctx.Deadline()
	its, _ := f.ctx.Deadline()
	return !ok || mine.After(its)
}
