package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waldur-quotas/gateway/graph"
	"github.com/waldur-quotas/gateway/upstream"
)

// staffAuth is the Authorization header of the demo's staff user.

// withRetries turns on the retry layer as the gateway's default does.
func withRetries(n int) harnessOption {
	return withClientOptions(upstream.WithRetries(n))
}

// everyOther answers status to every other request that reaches the fake
// Waldur, starting with the first.
func everyOther(status int) func(http.ResponseWriter, *http.Request) bool {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, _ *http.Request) bool {
		mu.Lock()
		n++
		fail := n%2 == 1
		mu.Unlock()
		if fail {
			http.Error(w, "<html>Service Unavailable</html>", status)
		}
		return fail
	}
}

// answerOnce answers the first request with status and headers, and lets
// every later one through; it records when each request arrived.
type answerOnce struct {
	status  int
	headers map[string]string

	mu       sync.Mutex
	arrivals []time.Time
}

func (a *answerOnce) fault(w http.ResponseWriter, _ *http.Request) bool {
	a.mu.Lock()
	a.arrivals = append(a.arrivals, time.Now())
	first := len(a.arrivals) == 1
	a.mu.Unlock()
	if !first {
		return false
	}
	for k, v := range a.headers {
		w.Header().Set(k, v)
	}
	http.Error(w, "slow down", a.status)
	return true
}

// retryVars are pages of several shapes: forwards and backwards (a HEAD,
// then GETs), both orderings, small and large.
func retryVars() []map[string]any {
	var out []map[string]any
	for _, q := range []string{"os_cpu_count", "estimated_price", "vpc_ram_size"} {
		for _, o := range []string{"VALUE", "NAME"} {
			out = append(out,
				map[string]any{"q": q, "o": o, "first": 5},
				map[string]any{"q": q, "o": o, "first": 100},
				map[string]any{"q": q, "o": o, "last": 7},
				map[string]any{"q": q, "o": o, "last": 100},
			)
		}
	}
	return out
}

// everyOtherRun is what a run of retryVars gave with every other upstream
// request failing with 503.
type everyOtherRun struct {
	correct, answers, calls, cleanCalls int
	failed                              []string
}

func (r everyOtherRun) String() string {
	return fmt.Sprintf("%d/%d answers correct, %d upstream calls (%d without failures)", r.correct, r.answers, r.calls, r.cleanCalls)
}

// runEveryOther sends retryVars to h, whose fake fails every other request
// with 503, and compares each answer with reference's, which has no faults.
func runEveryOther(t *testing.T, h, reference *harness) everyOtherRun {
	t.Helper()
	h.setFault(everyOther(http.StatusServiceUnavailable))
	run := everyOtherRun{}
	for _, v := range retryVars() {
		run.answers++
		want := reference.page(staffAuth, v)
		run.cleanCalls += len(reference.takeCalls())
		resp := h.post(staffAuth, connectionQuery, v)
		run.calls += len(h.takeCalls())
		switch {
		case resp.Status != http.StatusOK || len(resp.Errors) > 0:
			run.failed = append(run.failed, fmt.Sprintf("vars %v: %s", v, resp))
		case !reflect.DeepEqual(resp.customerQuotas(t), want):
			run.failed = append(run.failed, fmt.Sprintf("vars %v: wrong rows %s", v, resp.Data))
		default:
			run.correct++
		}
	}
	return run
}

// With every other upstream request failing with 503, every answer is
// still right: each failed request is made again. The request line says
// so at INFO, with the retries counted, since nothing failed for the caller.
// The figures without retries are logged beside, for comparison.
func TestRetriesAnswerWhenEveryOtherRequestFails(t *testing.T) {
	reference := newHarness(t)
	without := runEveryOther(t, newHarness(t), reference)
	t.Logf("every other upstream request failing with 503, retries off: %s", without)

	h := newHarness(t, withRetries(upstream.DefaultRetries))
	run := runEveryOther(t, h, reference)
	t.Logf("every other upstream request failing with 503, UPSTREAM_RETRIES=%d: %s", upstream.DefaultRetries, run)
	for _, f := range run.failed {
		t.Error(f)
	}
	if run.calls != 2*run.cleanCalls {
		t.Errorf("%d upstream calls, want each of the %d a clean run makes twice", run.calls, run.cleanCalls)
	}

	type line struct {
		Level           string `json:"level"`
		UpstreamCalls   int    `json:"upstream_calls"`
		UpstreamRetries int    `json:"upstream_retries"`
		Failures        int    `json:"upstream_failures"`
	}
	lines := logRecords[line](t, h.logs.String(), "request")
	if len(lines) != run.answers {
		t.Fatalf("%d request lines for %d requests", len(lines), run.answers)
	}
	for _, l := range lines {
		if l.Level != "INFO" || l.UpstreamRetries == 0 || l.UpstreamRetries != l.Failures || l.UpstreamCalls != 2*l.Failures {
			t.Errorf("request line %+v: want INFO, each failure retried and counted", l)
		}
	}
}

// A request whose retries are spent fails as the last attempt did, and its
// line is a WARN that counts the retries too.
func TestRetriesSpentAnswerWithTheLastFailure(t *testing.T) {
	h := newHarness(t, withRetries(2))
	h.setFault(func(w http.ResponseWriter, _ *http.Request) bool {
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return true
	})
	resp := h.post(staffAuth, connectionQuery, map[string]any{"q": "os_cpu_count", "first": 5})
	if resp.code() != graph.CodeUpstreamUnavailable || resp.Errors[0].Extensions["upstreamStatus"] != float64(http.StatusBadGateway) {
		t.Fatalf("want UPSTREAM_UNAVAILABLE with upstreamStatus 502, got %s", resp)
	}
	if calls := h.takeCalls(); len(calls) != 3 {
		t.Errorf("%d upstream calls, want 3 (the first and two retries)", len(calls))
	}
	type line struct {
		Level           string `json:"level"`
		UpstreamRetries int    `json:"upstream_retries"`
		Failures        int    `json:"upstream_failures"`
	}
	lines := logRecords[line](t, h.logs.String(), "request")
	if len(lines) != 1 || lines[0].Level != "WARN" || lines[0].UpstreamRetries != 2 || lines[0].Failures != 3 {
		t.Errorf("request lines %+v: want one WARN with 3 failures and 2 retries", lines)
	}
}

// A 429 or a 503 asking for a second is waited for, then the request is
// made again.
func TestRetryAfterIsWaitedFor(t *testing.T) {
	for _, c := range []struct {
		method string
		status int
	}{{http.MethodGet, 429}, {http.MethodHead, 429}, {http.MethodGet, 503}, {http.MethodHead, 503}} {
		method := c.method
		t.Run(fmt.Sprint(method, c.status), func(t *testing.T) {
			h := newHarness(t, withRetries(2))
			once := &answerOnce{status: c.status, headers: map[string]string{"Retry-After": "1"}}
			h.setFault(func(w http.ResponseWriter, r *http.Request) bool {
				return r.Method == method && once.fault(w, r)
			})
			// totalCount alone is a HEAD; nodes alone a GET.
			query := `{ customerQuotas(quotaName: "os_cpu_count", first: 5) { nodes { customerName } } }`
			if method == http.MethodHead {
				query = `{ customerQuotas(quotaName: "os_cpu_count") { totalCount } }`
			}
			wantData(t, h.post(staffAuth, query, nil))
			once.mu.Lock()
			defer once.mu.Unlock()
			if len(once.arrivals) != 2 {
				t.Fatalf("%d %s requests reached Waldur, want 2", len(once.arrivals), method)
			}
			if waited := once.arrivals[1].Sub(once.arrivals[0]); waited < time.Second {
				t.Errorf("retried after %s, want at least the 1 s Retry-After asked for", waited)
			}
		})
	}
}

// A Retry-After longer than the call has left is not waited for: the caller
// hears at once that Waldur is rate limiting, or unavailable, and for how
// long; a retry would come before Waldur asked.
func TestRetryAfterBeyondTheTimeLeftIsNotWaitedFor(t *testing.T) {
	for _, c := range []struct {
		status int
		code   string
	}{{http.StatusTooManyRequests, graph.CodeRateLimited}, {http.StatusServiceUnavailable, graph.CodeUpstreamUnavailable}} {
		t.Run(fmt.Sprint(c.status), func(t *testing.T) {
			h := newHarness(t, withRetries(2), withUpstreamTimeout(2*time.Second))
			h.setFault(func(w http.ResponseWriter, _ *http.Request) bool {
				w.Header().Set("Retry-After", "60")
				http.Error(w, "come back later", c.status)
				return true
			})
			start := time.Now()
			resp := h.post(staffAuth, connectionQuery, map[string]any{"q": "os_cpu_count", "first": 5})
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("the answer took %s: the Retry-After was waited for", took)
			}
			if resp.code() != c.code || resp.Errors[0].Extensions["retryAfter"] != float64(60) {
				t.Fatalf("want %s with retryAfter 60, got %s", c.code, resp)
			}
			if calls := h.takeCalls(); len(calls) != 1 {
				t.Errorf("%d upstream calls, want 1", len(calls))
			}
		})
	}
}

// What would be answered the same again is never asked again.
func TestFailuresThatWouldRepeatAreNotRetried(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		code   string
	}{
		{"400", http.StatusBadRequest, "", graph.CodeBadUserInput},
		{"401", http.StatusUnauthorized, `{"detail":"Invalid token."}`, graph.CodeUnauthenticated},
		{"403", http.StatusForbidden, `{"detail":"no"}`, graph.CodeForbidden},
		{"404", http.StatusNotFound, `{"detail":"Not found."}`, graph.CodeUpstreamBadResponse},
		{"500", http.StatusInternalServerError, "oops", graph.CodeUpstreamUnavailable},
		{"malformed JSON", http.StatusOK, `[{"customer_name":`, graph.CodeUpstreamBadResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, withRetries(2))
			h.setFault(func(w http.ResponseWriter, _ *http.Request) bool {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Result-Count", "300")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
				return true
			})
			resp := h.post(staffAuth, connectionQuery, map[string]any{"q": "os_cpu_count", "first": 5})
			if resp.code() != tc.code {
				t.Errorf("code %q, want %q: %s", resp.code(), tc.code, resp)
			}
			if calls := h.takeCalls(); len(calls) != 1 {
				t.Errorf("%d upstream calls, want 1: %+v", len(calls), calls)
			}
		})
	}
}

// A caller that goes away during the wait before a retry causes no retry.
func TestNoRetryAfterTheCallerLeft(t *testing.T) {
	h := newHarness(t, withRetries(2))
	arrived := make(chan struct{}, 10)
	h.setFault(func(w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Retry-After", "2")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		arrived <- struct{}{}
		return true
	})
	ctx, cancel := context.WithCancel(context.Background())
	req := h.postRequest(staffAuth, `{ customerQuotas(quotaName: "os_cpu_count", first: 5) { nodes { customerName } } }`, nil).WithContext(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := h.send(req)
		done <- err
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("no request reached Waldur")
	}
	cancel()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("the cancelled request ended with %v", err)
	}
	// Past the 2 s wait the retry would have come after.
	time.Sleep(3 * time.Second)
	if calls := h.takeCalls(); len(calls) != 1 {
		t.Errorf("%d upstream calls after the caller left during the wait, want 1", len(calls))
	}
}
