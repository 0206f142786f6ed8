package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/upstream"
	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// inFlight wraps the fake Waldur to count the requests it is answering at
// once, each held for latency so that concurrent calls overlap.
type inFlight struct {
	next    http.Handler
	latency time.Duration
	now     atomic.Int32
	most    atomic.Int32
}

func (f *inFlight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.now.Add(1)
	defer f.now.Add(-1)
	for m := f.most.Load(); n > m && !f.most.CompareAndSwap(m, n); m = f.most.Load() {
	}
	select {
	case <-time.After(f.latency):
	case <-r.Context().Done():
		return
	}
	f.next.ServeHTTP(w, r)
}

// distinctQuotas is one customerQuotas field per alias, each for a quota of
// its own so that no two share an upstream call.
func distinctQuotas(prefix string, n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " f%d: customerQuotas(quotaName: %q, first: 3) { nodes { customerName } }", i, fmt.Sprintf("%s_%02d", prefix, i))
	}
	b.WriteString(" }")
	return b.String()
}

// UPSTREAM_MAX_CONCURRENCY=4: 40 concurrent requests, each for a quota of its
// own, all answer, and Waldur never has more than 4 of them at once.
func TestConcurrencyCapAcrossRequests(t *testing.T) {
	waldur := &inFlight{next: fakewaldur.New(demo()), latency: 100 * time.Millisecond}
	h := newHarness(t, withUpstream(waldur), withClientOptions(upstream.WithMaxConcurrency(4)))

	const requests = 40
	var wg sync.WaitGroup
	failures := make(chan string, requests)
	for i := range requests {
		wg.Go(func() {
			r, err := h.send(h.postRequest("Token "+demoStaff, distinctQuotas(fmt.Sprintf("across%02d", i), 1), nil))
			if err != nil || r.Status != http.StatusOK || len(r.Errors) > 0 || !strings.Contains(string(r.Data), "customerName") {
				failures <- fmt.Sprintf("request %d: %v %s", i, err, r)
			}
		})
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	if calls := len(h.takeCalls()); calls != requests {
		t.Errorf("%d upstream calls, want one per request, %d", calls, requests)
	}
	most := waldur.most.Load()
	t.Logf("cap 4, %d concurrent distinct requests: at most %d upstream calls in flight", requests, most)
	if most > 4 {
		t.Errorf("%d upstream calls in flight at once, over the cap of 4", most)
	}
}

// UPSTREAM_MAX_CONCURRENCY_PER_REQUEST at its default, 8: one operation of 20
// aliased fields answers every one, never more than 8 calls at once.
func TestConcurrencyCapPerRequestByDefault(t *testing.T) {
	waldur := &inFlight{next: fakewaldur.New(demo()), latency: 30 * time.Millisecond}
	h := newHarness(t, withUpstream(waldur))

	const fields = 20
	r := h.post("Token "+demoStaff, distinctQuotas("per_request", fields), nil)
	wantData(t, r)
	for i := range fields {
		if !strings.Contains(string(r.Data), fmt.Sprintf(`"f%d":{"nodes":[{"customerName"`, i)) {
			t.Errorf("field f%d has no rows: %s", i, r.Data)
		}
	}
	if calls := len(h.takeCalls()); calls != fields {
		t.Errorf("%d upstream calls, want one per field, %d", calls, fields)
	}
	most := waldur.most.Load()
	t.Logf("one operation of %d aliased fields: at most %d upstream calls in flight", fields, most)
	if most > upstream.DefaultMaxConcurrencyPerRequest {
		t.Errorf("%d upstream calls in flight for one operation, over its cap of %d", most, upstream.DefaultMaxConcurrencyPerRequest)
	}
}

// The per-request cap is one operation's: two operations each get their own.
func TestConcurrencyCapPerRequestIsPerOperation(t *testing.T) {
	waldur := &inFlight{next: fakewaldur.New(demo()), latency: 200 * time.Millisecond}
	h := newHarness(t, withUpstream(waldur), withClientOptions(upstream.WithMaxConcurrencyPerRequest(1)))

	var wg sync.WaitGroup
	replies := make([]gqlResponse, 2)
	errs := make([]error, 2)
	for i := range replies {
		wg.Go(func() {
			replies[i], errs[i] = h.send(h.postRequest("Token "+demoStaff, distinctQuotas(fmt.Sprintf("op%d", i), 2), nil))
		})
	}
	wg.Wait()
	for i := range replies {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		wantData(t, replies[i])
	}
	// Two operations of two fields, one slot each: two calls at once, never
	// more; and not one, which would mean the operations shared a slot
	// (each call lasts 200 ms, the four together 800 ms if serialised, so
	// the two operations' first calls overlap however slow the machine).
	if most := waldur.most.Load(); most != 2 {
		t.Errorf("%d upstream calls in flight at once, want 2: one per operation", most)
	}
}

// holdQuota makes the fake Waldur hold every request for quota until release
// is closed (or the request ends), telling arrived of each.
func holdQuota(h *harness, quota string) (arrived <-chan struct{}, release func()) {
	in := make(chan struct{}, 16)
	gate := make(chan struct{})
	h.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Get("quota_name") != quota {
			return false
		}
		in <- struct{}{}
		select {
		case <-gate:
		case <-r.Context().Done():
		}
		return false
	})
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	h.t.Cleanup(release)
	return in, release
}

// A call waiting for a slot whose deadline passes gets UPSTREAM_OVERLOADED
// with retryAfter, at its deadline and not when a slot comes free; it never
// reaches Waldur; and the call holding the slot answers as usual.
func TestWaiterPastItsDeadlineIsOverloaded(t *testing.T) {
	h, holder, release := holdingTheOnlySlot(t)

	// The field's deadline, as a server-side deadline on the operation sets it.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req := h.postRequest("Token "+demoStaff, `{ customerQuotas(quotaName: "waiter", first: 2) { nodes { customerName } } }`, nil)
	answered := make(chan gqlResponse, 1)
	go func() { answered <- h.serve(req.WithContext(ctx)) }()
	var r gqlResponse
	select {
	case r = <-answered:
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter hung past its deadline")
	}
	if r.code() != "UPSTREAM_OVERLOADED" {
		t.Fatalf("code %q, want UPSTREAM_OVERLOADED: %s", r.code(), r)
	}
	if ra, ok := r.Errors[0].Extensions["retryAfter"].(float64); !ok || ra < 1 {
		t.Errorf("retryAfter %v, want a positive number of seconds: %s", r.Errors[0].Extensions["retryAfter"], r)
	}
	if !strings.Contains(r.Errors[0].Message, "1 concurrent calls") {
		t.Errorf("message %q does not say which cap was reached", r.Errors[0].Message)
	}
	if !r.hasData() || len(r.Errors[0].Path) == 0 {
		t.Errorf("an overloaded field is a field error, with data and a path: %s", r)
	}

	release()
	wantData(t, <-holder)
	for _, c := range h.takeCalls() {
		if c.QuotaName == "waiter" {
			t.Errorf("the refused call reached Waldur: %+v", c)
		}
	}
}

// A caller that goes away while its call waits for a slot leaves the queue
// at once: its request ends (and logs its line) while the slot is still
// held, and its call never reaches Waldur.
func TestWaiterWhoLeavesGivesUpAtOnce(t *testing.T) {
	h, holder, release := holdingTheOnlySlot(t)

	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() {
		req := h.postRequest("Token "+demoStaff, `{ customerQuotas(quotaName: "leaver", first: 2) { nodes { customerName } } }`, nil)
		_, err := h.send(req.WithContext(ctx))
		gone <- err
	}()
	time.Sleep(200 * time.Millisecond) // let it queue; the assertions hold whenever it leaves
	cancel()
	<-gone

	// The holder still holds the only slot: the one request line written is
	// the leaver's, whose wait ended with its caller.
	for deadline := time.Now().Add(10 * time.Second); len(logRecords[map[string]any](t, h.logs.String(), "request")) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the request of a caller who left still waits for a slot")
		}
		time.Sleep(10 * time.Millisecond)
	}
	release()
	wantData(t, <-holder)
	for _, c := range h.takeCalls() {
		if c.QuotaName == "leaver" {
			t.Errorf("the call of a caller who left reached Waldur: %+v", c)
		}
	}
}

// holdingTheOnlySlot is a gateway with one slot to Waldur (UPSTREAM_MAX_CONCURRENCY=1),
// held by a request for the quota "held" until release is called; the
// holder's answer arrives on the channel.
func holdingTheOnlySlot(t *testing.T) (*harness, <-chan gqlResponse, func()) {
	t.Helper()
	// The held call would time out, and free its slot, only long after the
	// test has failed.
	h := newHarness(t, withUpstreamTimeout(time.Minute), withClientOptions(upstream.WithMaxConcurrency(1)))
	arrived, release := holdQuota(h, "held")
	holder := make(chan gqlResponse, 1)
	go func() {
		r, err := h.send(h.postRequest("Token "+demoStaff, `{ customerQuotas(quotaName: "held", first: 2) { nodes { customerName } } }`, nil))
		if err != nil {
			t.Error(err)
		}
		holder <- r
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the holder's call never reached Waldur")
	}
	return h, holder, release
}
