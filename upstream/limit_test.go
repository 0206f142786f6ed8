package upstream

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// gate is a Caller below the limit layer whose calls block until it opens,
// telling entered of each call that got through.
type gate struct {
	entered chan Request
	open    chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan Request, 16), open: make(chan struct{})} }

func (g *gate) Call(ctx context.Context, req Request) (Page, error) {
	g.entered <- req
	select {
	case <-g.open:
		return Page{Total: 1}, nil
	case <-ctx.Done():
		return Page{}, ctx.Err()
	}
}

func limitedClient(t *testing.T, opts ...Option) *Client {
	t.Helper()
	c, err := New("http://127.0.0.1:1", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func get(quota string) Request {
	return Request{Method: http.MethodGet, QuotaName: quota, Page: 1, PageSize: 10}
}

// callAsync makes a call through call on another goroutine.
func callAsync(ctx context.Context, call Caller, req Request) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := call.Call(ctx, req)
		done <- err
	}()
	return done
}

func within[T any](t *testing.T, done <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-done:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: did not happen within 10 s", what)
	}
	var zero T
	return zero
}

func TestLimitDefaults(t *testing.T) {
	c := limitedClient(t)
	if c.maxConcurrency != 64 || c.maxConcurrencyPerRequest != 8 {
		t.Errorf("caps %d and %d per request, want the README's 64 and 8", c.maxConcurrency, c.maxConcurrencyPerRequest)
	}
	c = limitedClient(t, WithMaxConcurrency(0), WithMaxConcurrencyPerRequest(-1))
	if c.maxConcurrency != DefaultMaxConcurrency || c.maxConcurrencyPerRequest != DefaultMaxConcurrencyPerRequest {
		t.Errorf("caps that are not positive must leave the defaults, got %d and %d", c.maxConcurrency, c.maxConcurrencyPerRequest)
	}
}

// A call below the layer that panics gives its slots back: the next call
// through a cap of one gets through.
func TestLimitReleasesSlotsOnPanic(t *testing.T) {
	c := limitedClient(t, WithMaxConcurrency(1), WithMaxConcurrencyPerRequest(1))
	panicking := true
	call := c.limit(CallerFunc(func(context.Context, Request) (Page, error) {
		if panicking {
			panic("below the limit")
		}
		return Page{Total: 7}, nil
	}))
	op := c.WithOperationLimit(context.Background())
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not come through")
			}
		}()
		_, _ = call.Call(op, get("q"))
	}()
	panicking = false
	ctx, cancel := context.WithTimeout(op, 5*time.Second)
	defer cancel()
	if page, err := call.Call(ctx, get("q")); err != nil || page.Total != 7 {
		t.Fatalf("after a panic: %+v, %v; want the call made", page, err)
	}
}

// A caller with no deadline of its own waits for a slot one upstream timeout
// at most, then hears that Waldur is overloaded, with a retryAfter: the
// server's write timeout counts on that bound.
func TestLimitWaitsOneUpstreamTimeoutAtMost(t *testing.T) {
	c := limitedClient(t, WithMaxConcurrency(1), WithTimeout(200*time.Millisecond))
	below := newGate()
	defer close(below.open)
	call := c.limit(below)
	holder := callAsync(context.Background(), call, get("held"))
	<-below.entered

	err := within(t, callAsync(context.Background(), call, get("waiter")), "a waiter without a deadline")
	var ue *Error
	if !errors.As(err, &ue) || ue.Kind != Overloaded || ue.RetryAfter <= 0 {
		t.Fatalf("waiter: %v, want Overloaded with a RetryAfter", err)
	}
	if !strings.Contains(err.Error(), "1 concurrent calls") || !strings.Contains(err.Error(), "try again in 1 s") {
		t.Errorf("message %q: want the cap and when to try again", err)
	}
	select {
	case req := <-below.entered:
		t.Errorf("the refused call went through: %+v", req)
	default:
	}
	below.open <- struct{}{}
	if err := within(t, holder, "the holder"); err != nil {
		t.Errorf("holder: %v", err)
	}
}

// A waiter whose caller leaves hears of its own cancellation, not of an
// overload: nothing went wrong with Waldur.
func TestLimitCancelledWaiterIsNotOverloaded(t *testing.T) {
	c := limitedClient(t, WithMaxConcurrency(1), WithTimeout(time.Minute))
	below := newGate()
	defer close(below.open)
	call := c.limit(below)
	_ = callAsync(context.Background(), call, get("held"))
	<-below.entered

	ctx, cancel := context.WithCancel(context.Background())
	waiter := callAsync(ctx, call, get("waiter"))
	cancel()
	err := within(t, waiter, "a cancelled waiter")
	if !errors.Is(err, context.Canceled) || KindOf(err) != 0 {
		t.Fatalf("cancelled waiter: %v, want context.Canceled and no upstream kind", err)
	}
}

// A call queued behind its own operation's calls holds no slot of the
// gateway's: another operation's call takes the free one at once.
func TestLimitOperationWaitsHoldNoGatewaySlot(t *testing.T) {
	c := limitedClient(t, WithMaxConcurrency(2), WithMaxConcurrencyPerRequest(1), WithTimeout(time.Minute))
	below := newGate()
	defer close(below.open)
	call := c.limit(below)
	a := c.WithOperationLimit(context.Background())
	b := c.WithOperationLimit(context.Background())

	_ = callAsync(a, call, get("a1"))
	<-below.entered
	_ = callAsync(a, call, get("a2")) // waits for a's only slot
	_ = callAsync(b, call, get("b1"))
	select {
	case req := <-below.entered:
		if req.QuotaName != "b1" {
			t.Fatalf("%s went through while a1 held its operation's only slot", req.QuotaName)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("b1 waited for a gateway slot that a2 held while it queued behind a1")
	}
}
