package upstream

import (
	"context"
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
