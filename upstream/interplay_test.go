package upstream

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// A caller who joins another operation's call must not be refused for that
// operation's per-request cap: here operation A has its one slot held and a
// second call queued behind it, and operation B, which asks for the same page
// as A's queued call and has its own slot free, must still be answered.
func TestCoalescedCallerIsNotOverloadedByAnotherOperationsCap(t *testing.T) {
	c := limitedClient(t, WithTimeout(200*time.Millisecond), WithMaxConcurrencyPerRequest(1))
	below := CallerFunc(func(ctx context.Context, req Request) (Page, error) {
		if req.QuotaName == "held" {
			<-ctx.Done() // holds A's slot until A goes
			return Page{}, ctx.Err()
		}
		return Page{Total: 1}, nil
	})
	co := newCoalescer(c.limit(below), c.callerDigest, func(context.Context, Call) {}, time.Minute)

	base, leaveA := context.WithCancel(asCaller("same-caller"))
	defer leaveA()
	opA, opB := c.WithOperationLimit(base), c.WithOperationLimit(asCaller("same-caller"))
	callAsync(opA, co, get("held"))
	waitFor(t, "A's held call", func() bool { return co.sharersOf(opA, PageRequest{QuotaName: "held", Page: 1, PageSize: 10}) == 1 })
	shared := PageRequest{QuotaName: "shared", Page: 1, PageSize: 10}
	aDone := callAsync(opA, co, get("shared"))
	waitFor(t, "A's queued call", func() bool { return co.sharersOf(opA, shared) == 1 })
	bDone := callAsync(opB, co, get("shared"))
	waitFor(t, "B joining it", func() bool { return co.sharersOf(opB, shared) == 2 })

	if err := within(t, aDone, "A's queued call"); KindOf(err) != Overloaded {
		t.Errorf("A's queued call: %v, want Overloaded by A's own cap", err)
	}
	if err := within(t, bDone, "B's call"); err != nil {
		t.Errorf("B's call failed for A's cap: %v", err)
	}
}

// A call cut by its starter's own deadline is not made again for that
// starter: the shared call's deadline and the caller's are two timers, and
// when the call's fires first the caller, not yet told its time is up, used
// to start a second call with no time left, which the concurrency limit
// refused as Overloaded (and a caller who gave up is no overload).
func TestCoalescingCallCutByTheStartersDeadlineIsNotMadeAgain(t *testing.T) {
	c := limitedClient(t, WithTimeout(time.Minute))
	var calls atomic.Int32
	below := CallerFunc(func(ctx context.Context, _ Request) (Page, error) {
		calls.Add(1)
		<-ctx.Done()
		return Page{}, fmt.Errorf("waldur request abandoned: %w", ctx.Err())
	})
	co := newCoalescer(c.limit(below), c.callerDigest, func(context.Context, Call) {}, time.Minute)
	for i := range 20 {
		ctx, cancel := context.WithTimeout(asCaller("caller"), 5*time.Millisecond)
		_, err := co.Call(ctx, get("q"))
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || KindOf(err) != 0 {
			t.Fatalf("call %d: %v, want the caller's own deadline", i, err)
		}
	}
	if n := calls.Load(); n != 20 {
		t.Errorf("%d calls below for 20 callers, want one each", n)
	}
}
