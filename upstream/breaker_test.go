package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/upstream/fakewaldur"
)

// switchableWaldur is the fake Waldur over loopback, answering with status
// instead when status is set, and counting the requests that reach it.
type switchableWaldur struct {
	status atomic.Int32 // 0: the fake answers
	hang   atomic.Bool  // wait until the client gives up
	calls  atomic.Int32
}

func (s *switchableWaldur) start(t *testing.T) string {
	fake := fakewaldur.New(fakewaldur.Demo(30, 1))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		switch {
		case s.hang.Load():
			<-r.Context().Done()
		case s.status.Load() != 0:
			w.WriteHeader(int(s.status.Load()))
		default:
			fake.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (s *switchableWaldur) takeCalls() int { return int(s.calls.Swap(0)) }

// circuitLog records the changes a client's breaker reports.
type circuitLog struct {
	mu      sync.Mutex
	changes []string
}

func (l *circuitLog) observe(from, to string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changes = append(l.changes, from+"->"+to)
}

func (l *circuitLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.changes
	l.changes = nil
	return c
}

func staffCount(c *Client, ctx context.Context) error {
	_, err := c.Count(WithAuthorization(ctx, "Token "+fakewaldur.DemoStaffToken), "os_cpu_count", OrderByValue)
	return err
}

func TestBreakerOpensAndRefusesWithoutCallingWaldur(t *testing.T) {
	const failures, cooldown = 3, time.Minute
	var waldur switchableWaldur
	var log circuitLog
	c, err := New(waldur.start(t), WithCircuitBreaker(failures, cooldown), WithCircuitObserver(log.observe))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	waldur.status.Store(http.StatusBadGateway)
	for i := range failures {
		if c.CircuitOpen() {
			t.Fatalf("open after %d failures, want %d", i, failures)
		}
		if err := staffCount(c, ctx); KindOf(err) != Unavailable || errors.Is(err, ErrCircuitOpen) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if !c.CircuitOpen() {
		t.Fatalf("closed after %d failures", failures)
	}
	waldur.takeCalls()

	err = staffCount(c, ctx)
	var ue *Error
	if !errors.As(err, &ue) || ue.Kind != Unavailable || !errors.Is(err, ErrCircuitOpen) || ue.Status != 0 {
		t.Fatalf("refusal %#v, want Unavailable caused by ErrCircuitOpen without a status", err)
	}
	if ue.RetryAfter < time.Second || ue.RetryAfter > cooldown || ue.RetryAfter%time.Second != 0 {
		t.Errorf("RetryAfter %v, want whole seconds within the cooldown %v", ue.RetryAfter, cooldown)
	}
	if n := waldur.takeCalls(); n != 0 {
		t.Errorf("a refused call reached Waldur %d times", n)
	}
	if got := log.take(); !slices.Equal(got, []string{"closed->open"}) {
		t.Errorf("state changes %v, want one closed->open", got)
	}
}

// The caller going away says nothing about Waldur: however many callers give
// up on a slow Waldur, the circuit stays closed.
func TestBreakerIgnoresCallerCancellation(t *testing.T) {
	const failures = 2
	var waldur switchableWaldur
	url := waldur.start(t)
	c, err := New(url, WithCircuitBreaker(failures, time.Minute), WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	waldur.hang.Store(true)
	for range 3 * failures {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		err := staffCount(c, ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || KindOf(err) != 0 {
			t.Fatalf("a caller that gave up: %v", err)
		}
	}
	if c.CircuitOpen() {
		t.Fatal("callers giving up opened the circuit")
	}
	// The same Waldur, now failing for the client's own timeout, does open it.
	c, err = New(url, WithCircuitBreaker(failures, time.Minute), WithTimeout(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for range failures {
		if err := staffCount(c, context.Background()); KindOf(err) != Unavailable {
			t.Fatalf("a timeout: %v", err)
		}
	}
	if !c.CircuitOpen() {
		t.Fatal("upstream timeouts did not open the circuit")
	}
}

// A probe answered with a 401 (a caller's bad token) decides nothing: the
// circuit stays half-open and the next call probes again, rather than being
// stuck refusing everyone.
func TestBreakerProbeWithClientErrorDecidesNothing(t *testing.T) {
	const failures, cooldown = 1, 100 * time.Millisecond
	var waldur switchableWaldur
	var log circuitLog
	c, err := New(waldur.start(t), WithCircuitBreaker(failures, cooldown), WithCircuitObserver(log.observe))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	waldur.status.Store(http.StatusServiceUnavailable)
	_ = staffCount(c, ctx)
	time.Sleep(cooldown + 50*time.Millisecond)

	waldur.status.Store(http.StatusUnauthorized)
	if err := staffCount(c, ctx); KindOf(err) != Unauthenticated {
		t.Fatalf("probe: %v", err)
	}
	if !c.CircuitOpen() {
		t.Error("a 401 probe closed the circuit")
	}
	waldur.status.Store(0)
	if err := staffCount(c, ctx); err != nil {
		t.Fatalf("second probe: %v", err)
	}
	if c.CircuitOpen() {
		t.Error("a successful probe left the circuit open")
	}
	if n := waldur.takeCalls(); n != 3 {
		t.Errorf("%d calls reached Waldur, want 3 (the failure and two probes)", n)
	}
	if got := log.take(); !slices.Equal(got, []string{"closed->open", "open->half-open", "half-open->closed"}) {
		t.Errorf("state changes %v", got)
	}
}

// Without the option there is no breaker: every call reaches Waldur.
func TestNoBreakerByDefault(t *testing.T) {
	var waldur switchableWaldur
	c, err := New(waldur.start(t))
	if err != nil {
		t.Fatal(err)
	}
	waldur.status.Store(http.StatusServiceUnavailable)
	for range 2 * DefaultBreakerFailures {
		_ = staffCount(c, context.Background())
	}
	if n := waldur.takeCalls(); n != 2*DefaultBreakerFailures || c.CircuitOpen() {
		t.Errorf("%d calls reached Waldur, circuit open %v; want every call and no breaker", n, c.CircuitOpen())
	}
}
