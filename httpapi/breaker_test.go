package httpapi_test

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/httpapi"
	"github.com/waldur-quotas/gateway/upstream"
)

// oneCallQuery costs one upstream call (a HEAD) per request, so that requests
// and upstream calls can be counted one for one.
const oneCallQuery = `{ customerQuotas(quotaName: "os_cpu_count") { totalCount } }`

// staffAuth is the Authorization of a caller who sees every customer.

// answer503 is a Waldur that is down behind its proxy.
func answer503(w http.ResponseWriter, _ *http.Request) bool {
	w.WriteHeader(http.StatusServiceUnavailable)
	return true
}

// wantCircuitOpen fails t unless r is the breaker's refusal: the field's
// UPSTREAM_UNAVAILABLE with a retryAfter between 1 and the cooldown's seconds,
// a message saying the circuit is open, and no upstreamStatus (no Waldur
// answer was involved).
func wantCircuitOpen(t *testing.T, r gqlResponse, cooldown time.Duration) {
	t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) != 1 || r.code() != "UPSTREAM_UNAVAILABLE" {
		t.Fatalf("want one UPSTREAM_UNAVAILABLE field error, got %s", r)
	}
	e := r.Errors[0]
	if !strings.Contains(e.Message, "circuit") {
		t.Errorf("message %q does not say the circuit is open", e.Message)
	}
	retry, ok := e.Extensions["retryAfter"].(float64)
	if !ok || retry < 1 || retry > cooldown.Seconds()+1 {
		t.Errorf("retryAfter %v, want 1..%v s: %s", e.Extensions["retryAfter"], cooldown.Seconds(), r)
	}
	if _, ok := e.Extensions["upstreamStatus"]; ok {
		t.Errorf("a refusal without any upstream call has an upstreamStatus: %s", r)
	}
}

// openCircuit sends failures requests that each fail with Waldur's 503, and
// checks that each of them reached Waldur.
func openCircuit(t *testing.T, h *harness, failures int) {
	t.Helper()
	h.setFault(answer503)
	for i := range failures {
		r := h.post(staffAuth, oneCallQuery, nil)
		if r.code() != "UPSTREAM_UNAVAILABLE" || len(r.Errors) != 1 || r.Errors[0].Extensions["upstreamStatus"] != float64(503) {
			t.Fatalf("request %d while Waldur answers 503: %s", i+1, r)
		}
	}
	if calls := len(h.takeCalls()); calls != failures {
		t.Fatalf("%d requests made %d upstream calls, want one each", failures, calls)
	}
}

// With Waldur answering 503 to everything, the circuit opens after
// UPSTREAM_BREAKER_FAILURES failed calls; from then on no request reaches
// Waldur, and each is told at once to come back when the cooldown ends.
func TestBreakerOpensAfterConsecutiveFailures(t *testing.T) {
	const failures, cooldown = 3, time.Minute
	h := newHarness(t, withClientOptions(upstream.WithCircuitBreaker(failures, cooldown)))
	openCircuit(t, h, failures)

	const refused = 20
	start := time.Now()
	for range refused {
		wantCircuitOpen(t, h.post(staffAuth, oneCallQuery, nil), cooldown)
	}
	perAnswer := time.Since(start) / refused
	calls := len(h.takeCalls())
	t.Logf("figure: permanent 503, breaker %d/%s: %d requests failed with 503 (%d upstream calls), then %d requests refused with the circuit open (%d upstream calls), %v per answer",
		failures, cooldown, failures, failures, refused, calls, perAnswer)
	if calls != 0 {
		t.Errorf("%d requests while the circuit is open made %d upstream calls, want none", refused, calls)
	}
}

// A Waldur that does not answer costs each caller the whole upstream timeout
// until the circuit opens; then callers are answered at once.
func TestBreakerSparesCallersTheTimeout(t *testing.T) {
	const failures, timeout, cooldown = 2, time.Second, time.Minute
	h := newHarness(t, withUpstreamTimeout(timeout), withClientOptions(upstream.WithCircuitBreaker(failures, cooldown)))
	h.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done() // hangs until the gateway gives up
		return true
	})
	start := time.Now()
	for i := range failures {
		if r := h.post(staffAuth, oneCallQuery, nil); r.code() != "UPSTREAM_UNAVAILABLE" {
			t.Fatalf("request %d to a silent Waldur: %s", i+1, r)
		}
	}
	slow := time.Since(start) / failures
	h.takeCalls()

	const refused = 20
	start = time.Now()
	for range refused {
		wantCircuitOpen(t, h.post(staffAuth, oneCallQuery, nil), cooldown)
	}
	open := time.Since(start) / refused
	h.wantNoUpstreamCalls(t, "requests while the circuit is open")
	t.Logf("figure: silent Waldur, UPSTREAM_TIMEOUT %v: %v per answer before the circuit opened, %v per answer while open; without a breaker: %v per answer",
		timeout, slow, open, withoutBreaker(t, timeout))
	// A generous bound: the refusal must not wait for anything upstream.
	if open >= timeout {
		t.Errorf("answers while open took %v each, as long as the upstream timeout %v", open, timeout)
	}
}

// After the cooldown exactly one request probes Waldur; the others are still
// refused while it is in flight. A failed probe opens the circuit again, a
// successful one closes it.
func TestBreakerProbesOnceAfterCooldown(t *testing.T) {
	const failures, cooldown = 2, 300 * time.Millisecond
	h := newHarness(t, withClientOptions(upstream.WithCircuitBreaker(failures, cooldown)))
	openCircuit(t, h, failures)

	// The probe is held at the fake until the other requests have been refused.
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		once.Do(func() { close(arrived) })
		<-release
		return answer503(w, r)
	})
	time.Sleep(cooldown + 100*time.Millisecond)
	probe := make(chan gqlResponse, 1)
	go func() {
		r, err := h.send(h.postRequest(staffAuth, oneCallQuery, nil))
		if err != nil {
			t.Error(err)
		}
		probe <- r
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("no probe reached Waldur after the cooldown")
	}
	// Other queries than the probe's: identical ones would share the probe's call.
	for range 5 {
		wantCircuitOpen(t, h.post(staffAuth, `{ customerQuotas(quotaName: "os_ram_size") { totalCount } }`, nil), cooldown)
	}
	close(release)
	if r := <-probe; r.code() != "UPSTREAM_UNAVAILABLE" || r.Errors[0].Extensions["upstreamStatus"] != float64(503) {
		t.Fatalf("the probe should carry Waldur's 503: %s", r)
	}
	if calls := len(h.takeCalls()); calls != 1 {
		t.Fatalf("%d upstream calls after the cooldown, want exactly one probe", calls)
	}

	// The failed probe opened the circuit again.
	wantCircuitOpen(t, h.post(staffAuth, oneCallQuery, nil), cooldown)
	h.wantNoUpstreamCalls(t, "a request after a failed probe")

	// Waldur is back: after the next cooldown the probe succeeds and closes it.
	h.setFault(nil)
	time.Sleep(cooldown + 100*time.Millisecond)
	for i := range 5 {
		wantData(t, h.post(staffAuth, oneCallQuery, nil))
		if calls := len(h.takeCalls()); calls != 1 {
			t.Fatalf("request %d after a successful probe made %d upstream calls, want 1", i+1, calls)
		}
	}
}

// Answers that say something about the caller or the query (401, 403, 400,
// 404, 429) are Waldur working: however many there are, they never open the
// circuit, nor does a caller's bad token.
func TestBreakerIgnoresClientErrors(t *testing.T) {
	const failures = 2
	h := newHarness(t, withClientOptions(upstream.WithCircuitBreaker(failures, time.Minute)))
	const rounds = 3 * failures
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusBadRequest, http.StatusNotFound, http.StatusTooManyRequests} {
		h.setFault(func(w http.ResponseWriter, _ *http.Request) bool {
			w.WriteHeader(status)
			return true
		})
		for range rounds {
			if r := h.post(staffAuth, oneCallQuery, nil); r.code() == "UPSTREAM_UNAVAILABLE" {
				t.Fatalf("Waldur's %d answered as unavailable: %s", status, r)
			}
		}
		if calls := len(h.takeCalls()); calls != rounds {
			t.Fatalf("%d requests met by Waldur's %d made %d upstream calls, want one each", rounds, status, calls)
		}
	}
	// The fake itself refuses an unknown token with 401.
	h.setFault(nil)
	for range rounds {
		if r := h.post("Token not-a-real-token", oneCallQuery, nil); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("a bad token: %s", r)
		}
	}
	if calls := len(h.takeCalls()); calls != rounds {
		t.Fatalf("%d requests with a bad token made %d upstream calls, want one each", rounds, calls)
	}
	wantData(t, h.post(staffAuth, oneCallQuery, nil))
}

// Each change of the circuit's state is one log line, however many requests
// are refused while it is open.
func TestBreakerLogsEachChangeOnce(t *testing.T) {
	const failures, cooldown = 2, 300 * time.Millisecond
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	h := newHarness(t, withClientOptions(
		upstream.WithCircuitBreaker(failures, cooldown),
		upstream.WithCircuitObserver(httpapi.CircuitLogger(logger)),
	))
	openCircuit(t, h, failures)
	for range 20 {
		wantCircuitOpen(t, h.post(staffAuth, oneCallQuery, nil), cooldown)
	}
	h.setFault(nil)
	time.Sleep(cooldown + 100*time.Millisecond)
	for range 5 {
		wantData(t, h.post(staffAuth, oneCallQuery, nil))
	}
	type line struct {
		Level, From, To string
	}
	got := logRecords[line](t, logs.String(), "waldur circuit breaker")
	want := []line{{"WARN", "closed", "open"}, {"INFO", "open", "half-open"}, {"INFO", "half-open", "closed"}}
	if len(got) != len(want) {
		t.Fatalf("log lines %+v, want %+v\n%s", got, want, logs.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// withoutBreaker is what a silent Waldur costs each caller when there is no
// breaker, for the figure above: a few requests at once, the average answer time.
func withoutBreaker(t *testing.T, timeout time.Duration) time.Duration {
	h := newHarness(t, withUpstreamTimeout(timeout))
	h.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return true
	})
	const requests = 3
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total time.Duration
	for range requests {
		wg.Go(func() {
			start := time.Now()
			if _, err := h.send(h.postRequest(staffAuth, oneCallQuery, nil)); err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += time.Since(start)
			mu.Unlock()
		})
	}
	wg.Wait()
	return total / requests
}

// Waldur failing every other call is not down: with the default threshold
// the circuit never opens, and every request still reaches it.
func TestBreakerStaysClosedWhenWaldurFailsIntermittently(t *testing.T) {
	h := newHarness(t, withClientOptions(upstream.WithCircuitBreaker(upstream.DefaultBreakerFailures, time.Minute)))
	var mu sync.Mutex
	n := 0
	h.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		n++
		fail := n%2 == 0
		mu.Unlock()
		return fail && answer503(w, r)
	})
	const requests = 40
	answered, failed := 0, 0
	for range requests {
		r := h.post(staffAuth, oneCallQuery, nil)
		switch {
		case len(r.Errors) == 0:
			answered++
		case r.Errors[0].Extensions["upstreamStatus"] == float64(503):
			failed++
		default:
			t.Fatalf("want data or Waldur's 503, got %s", r)
		}
	}
	calls := len(h.takeCalls())
	t.Logf("figure: every other upstream request 503, breaker %d/1m: %d requests, %d answered, %d failed with 503, %d upstream calls, circuit never opened",
		upstream.DefaultBreakerFailures, requests, answered, failed, calls)
	if calls != requests {
		t.Errorf("%d requests made %d upstream calls, want one each", requests, calls)
	}
}
