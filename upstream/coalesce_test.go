package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// heldWaldur is the fake Waldur behind a gate: each request it receives is
// announced on arrived and answered once release is closed (or its own
// request is cancelled, which is announced on gone).
type heldWaldur struct {
	srv      *httptest.Server
	arrived  chan struct{}
	gone     chan struct{}
	release  chan struct{}
	requests atomic.Int32
}

func newHeldWaldur(t *testing.T) *heldWaldur {
	w := &heldWaldur{arrived: make(chan struct{}, 16), gone: make(chan struct{}, 16), release: make(chan struct{})}
	fake := fakewaldur.New(fakewaldur.Demo(50, 1))
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.requests.Add(1)
		w.arrived <- struct{}{}
		select {
		case <-w.release:
			fake.ServeHTTP(rw, r)
		case <-r.Context().Done():
			w.gone <- struct{}{}
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(w.srv.Close)
	return w
}

// firstPage is the page the tests of this package ask for when any will do.
var firstPage = PageRequest{QuotaName: "os_cpu_count", Ordering: OrderByValue, Page: 1, PageSize: 10}

func asCaller(tok string) context.Context {
	return WithAuthorization(context.Background(), "Token "+tok)
}

// flightKeys is what the coalescer's map holds now, printed.
func flightKeys(c *Client) []string {
	co := c.call.(*coalescer)
	co.mu.Lock()
	defer co.mu.Unlock()
	var keys []string
	for k := range co.flights {
		keys = append(keys, fmt.Sprintf("%#v", k))
	}
	return keys
}

// Two callers asking the same at once each get their own call, keyed on a
// digest that does not hold their credential.
func TestCoalescingKeysOnADigestOfTheCaller(t *testing.T) {
	w := newHeldWaldur(t)
	c, err := New(w.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	tokens := []string{fakewaldur.DemoStaffToken, fakewaldur.DemoOwnerToken}
	var wg sync.WaitGroup
	for _, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = c.List(asCaller(tok), firstPage)
		}()
		within(t, w.arrived, "the call of "+tok)
	}
	keys := flightKeys(c)
	close(w.release)
	wg.Wait()
	if len(keys) != 2 {
		t.Fatalf("%d calls in flight for two callers, want 2: %v", len(keys), keys)
	}
	for _, k := range keys {
		for _, tok := range tokens {
			if strings.Contains(k, tok) {
				t.Errorf("a coalescing key holds a credential: %s", k)
			}
		}
	}
}

// A sharer whose context ends returns at once; the call goes on for the one
// that started it, whose context the HTTP attempt is observed with, while the
// sharer is told it was answered by another's call.
func TestCoalescingSharerLeavesAlone(t *testing.T) {
	w := newHeldWaldur(t)
	type seen struct {
		who  string
		call Call
	}
	type whoKey struct{}
	var mu sync.Mutex
	var observed []seen
	c, err := New(w.srv.URL, WithObserver(func(ctx context.Context, call Call) {
		mu.Lock()
		defer mu.Unlock()
		observed = append(observed, seen{ctx.Value(whoKey{}).(string), call})
	}))
	if err != nil {
		t.Fatal(err)
	}
	staff := asCaller(fakewaldur.DemoStaffToken)
	firstDone := make(chan error, 1)
	go func() {
		_, err := c.List(context.WithValue(staff, whoKey{}, "first"), firstPage)
		firstDone <- err
	}()
	within(t, w.arrived, "the first call")

	ctx, leave := context.WithCancel(context.WithValue(staff, whoKey{}, "sharer"))
	sharerDone := make(chan error, 1)
	go func() {
		_, err := c.List(ctx, firstPage)
		sharerDone <- err
	}()
	waitFor(t, "the sharer joining", func() bool { return c.call.(*coalescer).sharersOf(staff, firstPage) == 2 })
	leave()
	select {
	case err := <-sharerDone:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the sharer that left got %v, want its own cancellation", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a sharer whose context ended still waits")
	}
	close(w.release)
	if err := <-firstDone; err != nil {
		t.Fatalf("the first caller: %v", err)
	}
	if n := w.requests.Load(); n != 1 {
		t.Fatalf("%d requests reached Waldur, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(observed) != 2 {
		t.Fatalf("observed %+v, want the attempt and the sharer", observed)
	}
	for _, o := range observed {
		switch {
		case o.who == "first" && !o.call.Coalesced && o.call.Err == nil && o.call.Status == http.StatusOK:
		case o.who == "sharer" && o.call.Coalesced && errors.Is(o.call.Err, context.Canceled):
		default:
			t.Errorf("unexpected observation %+v", o)
		}
	}
}

// A re-plan (under Fresh) asks Waldur again rather than join a call that may
// have left before the list changed.
func TestCoalescingFreshCallerMakesItsOwnCall(t *testing.T) {
	w := newHeldWaldur(t)
	c, err := New(w.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	staff := asCaller(fakewaldur.DemoStaffToken)
	var wg sync.WaitGroup
	for _, ctx := range []context.Context{staff, Fresh(WithDedup(staff))} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.List(ctx, firstPage); err != nil {
				t.Error(err)
			}
		}()
		within(t, w.arrived, "a call")
	}
	close(w.release)
	wg.Wait()
	if n := w.requests.Load(); n != 2 {
		t.Fatalf("%d requests reached Waldur, want 2", n)
	}
}

// A call cut short by its own context (here its budget) says nothing of
// Waldur: a caller still waiting makes it again instead of hearing of a
// cancellation that was not its own.
func TestCoalescingCutCallIsMadeAgain(t *testing.T) {
	var calls atomic.Int32
	next := CallerFunc(func(ctx context.Context, _ Request) (Page, error) {
		if calls.Add(1) == 1 {
			<-ctx.Done()
			return Page{}, fmt.Errorf("waldur request abandoned: %w", ctx.Err())
		}
		return Page{Total: 7}, nil
	})
	co := newCoalescer(next, func(context.Context) string { return "caller" }, func(context.Context, Call) {}, 50*time.Millisecond)
	page, err := co.Call(context.Background(), Request{Method: http.MethodHead, QuotaName: "q"})
	if err != nil || page.Total != 7 || calls.Load() != 2 {
		t.Fatalf("got %+v, %v after %d calls; want the second call's answer", page, err, calls.Load())
	}
}

// When every caller has gone, the call is cancelled.
func TestCoalescingCallEndsWithItsLastSharer(t *testing.T) {
	w := newHeldWaldur(t)
	// A timeout far beyond the waits below: only a cancellation can end
	// the request in time.
	c, err := New(w.srv.URL, WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ctx, leave := context.WithCancel(asCaller(fakewaldur.DemoStaffToken))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.Count(ctx, "os_cpu_count", OrderByValue)
	}()
	within(t, w.arrived, "the call")
	leave()
	within(t, done, "the caller's return")
	within(t, w.gone, "the cancellation of the call")
	if keys := flightKeys(c); len(keys) != 0 {
		t.Fatalf("calls left in flight: %v", keys)
	}
}

// A panic below the coalescer reaches the caller's goroutine, where a field's
// recover can handle it, rather than end the process.
func TestCoalescingHandsAPanicToTheCaller(t *testing.T) {
	next := CallerFunc(func(context.Context, Request) (Page, error) { panic("boom") })
	co := newCoalescer(next, func(context.Context) string { return "caller" }, func(context.Context, Call) {}, time.Second)
	defer func() {
		if p := recover(); p != "boom" {
			t.Fatalf("recovered %v, want the panic below", p)
		}
	}()
	_, _ = co.Call(context.Background(), Request{Method: http.MethodHead, QuotaName: "q"})
	t.Fatal("no panic")
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sharersOf counts the callers waiting for the GET of req by the caller of ctx.
func (co *coalescer) sharersOf(ctx context.Context, req PageRequest) int {
	co.mu.Lock()
	defer co.mu.Unlock()
	key := flightKey{co.caller(ctx), Request{Method: http.MethodGet, QuotaName: req.QuotaName, Ordering: req.Ordering, Page: req.Page, PageSize: req.PageSize}}
	if f, ok := co.flights[key]; ok {
		return f.sharers
	}
	return 0
}
